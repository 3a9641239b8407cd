//! Passphrase interoperability with the `age` command, through real terminals: `age -p`
//! encrypts and `strongroom decrypt` opens (with `--passphrase-file`, and with `-p` typed on
//! a terminal); `strongroom encrypt` (`-p` typed twice, and `--passphrase-file`) writes and
//! `age -d` opens; two different passphrases typed to `strongroom encrypt -p` write nothing.
//!
//! Both commands read a passphrase only from `/dev/tty`, so each runs under util-linux's
//! `script`, which gives it a pseudo-terminal whose input is what this test writes to
//! script's standard input. The command's own standard input is `/dev/null` (a passphrase
//! read from there would be empty, and refused), and the passphrase is never on a command
//! line. Each line is typed only once the prompt is on the terminal *and* `stty` reports echo
//! off on it: typing earlier races the command switching echo off (strongroom flushes input
//! that arrives before it does, and a passphrase typed while echo is on shows on the screen),
//! so waiting for both makes the test deterministic rather than a matter of delays. The
//! transcript must not contain any line typed: proof that echo really was off.

mod common;

use common::{ok, plaintext, strongroom, tempdir};

use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Typed on the terminals (and, with a trailing newline, written to `pass.txt`): spaces and
/// non-ASCII, no terminal control characters.
const PASSPHRASE: &str = "correct horse ✓ battery staple";

/// How long a prompt, a change of the terminal's modes, or an exit may take (debug builds, a
/// loaded two-core machine).
const PATIENCE: Duration = Duration::from_secs(60);

/// Writes `pass.txt` (mode 600, with a trailing newline, which is not part of the passphrase).
fn write_passphrase_file(dir: &Path) {
    std::fs::write(dir.join("pass.txt"), format!("{PASSPHRASE}\n")).unwrap();
    std::fs::set_permissions(dir.join("pass.txt"), std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// Whether CI promises the environment (`CI=true`, running as root), so that a missing tool
/// is a failure there rather than a skip (as `tests/doctor.rs` and `strongroom/tests/common`).
fn ci_promises_environment() -> bool {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status is readable");
    let euid = status.lines().find_map(|l| l.strip_prefix("Uid:")).and_then(|ids| ids.split_whitespace().nth(1));
    std::env::var("CI").is_ok_and(|v| v == "true") && euid == Some("0")
}

/// Whether `tools` (of `age`, `script` and `stty`) are here; if not, says so where `cargo test` shows it
/// (straight to stderr: libtest captures only the `print!` family), or fails under CI.
#[track_caller]
fn tools_present(test: &str, tools: &[&str]) -> bool {
    for &tool in tools {
        let package = match tool {
            "script" => "util-linux",
            "stty" => "coreutils",
            other => other,
        };
        match Command::new(tool).arg("--version").stdout(Stdio::null()).stderr(Stdio::null()).status() {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let what = format!("{tool} ({package}) is not installed");
                assert!(!ci_promises_environment(), "{test}: {what}, but CI (CI=true, running as root) promises it");
                let _ = std::io::stderr().lock().write_all(format!("SKIPPED {test}: {what}\n").as_bytes());
                return false;
            }
            Err(e) => panic!("{tool} --version: {e}"),
        }
    }
    true
}

/// A single-quoted word for `sh`.
fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// A command running on a fresh pseudo-terminal under `script`, with everything it writes to
/// the terminal collected (`transcript`) and what is typed going to the terminal's input.
struct Terminal {
    what: String,
    script: Child,
    keyboard: Option<ChildStdin>,
    screen: Arc<(Mutex<Vec<u8>>, Condvar)>,
    readers: Vec<JoinHandle<()>>,
    script_stderr: Arc<Mutex<Vec<u8>>>,
    /// How much of the screen the last `expect` consumed.
    seen: usize,
    /// The terminal's device, `/dev/pts/N`.
    device: String,
    /// The lines typed, none of which may show on the screen.
    typed: Vec<String>,
}

impl Terminal {
    /// Runs `argv` (its first word a program) in `dir` on a new terminal, standard input
    /// `/dev/null`.
    fn run(dir: &Path, argv: &[&str]) -> Terminal {
        let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
        // `tty` names the terminal first (for stty); `exec` keeps the exit status the command's.
        let shell = format!("tty; exec {} </dev/null", words.join(" "));
        let mut script = Command::new("script")
            .args(["--quiet", "--return", "--command", &shell, "/dev/null"])
            .env("SHELL", "/bin/sh")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("script runs");
        let screen = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let script_stderr = Arc::new(Mutex::new(Vec::new()));
        let mut stdout = script.stdout.take().unwrap();
        let shared = Arc::clone(&screen);
        let screen_reader = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                let n = stdout.read(&mut buf).unwrap_or(0);
                let (text, changed) = &*shared;
                let mut text = text.lock().unwrap();
                text.extend_from_slice(&buf[..n]);
                changed.notify_all();
                if n == 0 {
                    text.push(0); // marks the end: a terminal never shows NUL here
                    changed.notify_all();
                    return;
                }
            }
        });
        let mut stderr = script.stderr.take().unwrap();
        let errors = Arc::clone(&script_stderr);
        let stderr_reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            let _ = stderr.read_to_end(&mut all);
            errors.lock().unwrap().extend_from_slice(&all);
        });
        let mut terminal = Terminal {
            what: argv.join(" "),
            keyboard: script.stdin.take(),
            script,
            screen,
            readers: vec![screen_reader, stderr_reader],
            script_stderr,
            seen: 0,
            device: String::new(),
            typed: Vec::new(),
        };
        let first_line = terminal.expect("\r\n");
        let device = first_line.trim().to_owned();
        assert!(device.starts_with("/dev/"), "`tty` under script printed {first_line:?}");
        terminal.device = device;
        terminal
    }

    fn transcript(&self) -> String {
        let text = self.screen.0.lock().unwrap();
        String::from_utf8_lossy(&text).into_owned()
    }

    fn give_up(&mut self, waiting_for: &str) -> ! {
        let _ = self.script.kill();
        let _ = self.script.wait();
        panic!(
            "{}: gave up waiting for {waiting_for} after {PATIENCE:?}; the terminal showed {:?}; script's stderr: {}",
            self.what,
            self.transcript(),
            String::from_utf8_lossy(&self.script_stderr.lock().unwrap())
        );
    }

    /// Waits until the screen shows `text` after what earlier calls consumed; returns what
    /// came before it.
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        let found = {
            let (screen, changed) = &*self.screen;
            let mut screen = screen.lock().unwrap();
            loop {
                let fresh = &screen[self.seen..];
                if let Some(at) = fresh.windows(text.len()).position(|w| w == text.as_bytes()) {
                    let before = String::from_utf8_lossy(&fresh[..at]).into_owned();
                    self.seen += at + text.len();
                    break Some(before);
                }
                let now = Instant::now();
                if now >= deadline || screen.last() == Some(&0) {
                    break None;
                }
                screen = changed.wait_timeout(screen, deadline - now).unwrap().0;
            }
        };
        found.unwrap_or_else(|| self.give_up(&format!("{text:?}")))
    }

    /// Whether `stty` reports echo off on the terminal.
    fn echo_is_off(&self) -> bool {
        let out = Command::new("stty").args(["-F", &self.device, "-a"]).stdin(Stdio::null()).output().unwrap();
        out.status.success() && String::from_utf8_lossy(&out.stdout).split_whitespace().any(|w| w == "-echo")
    }

    /// Waits for `prompt`, then for echo to be off, then types `line` and Enter.
    fn answer(&mut self, prompt: &str, line: &str) {
        self.expect(prompt);
        let deadline = Instant::now() + PATIENCE;
        while !self.echo_is_off() {
            if Instant::now() >= deadline || self.script.try_wait().unwrap().is_some() {
                self.give_up(&format!("echo off after {prompt:?}"));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let keyboard = self.keyboard.as_mut().unwrap();
        keyboard.write_all(format!("{line}\n").as_bytes()).unwrap();
        keyboard.flush().unwrap();
        self.typed.push(line.to_owned());
    }

    /// Waits for the command to exit (the terminal's input stays open until then, so
    /// script never hands it an end of file); returns its exit code and the whole transcript.
    fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(status) = self.script.try_wait().unwrap() {
                break status;
            }
            if Instant::now() >= deadline {
                self.give_up("the exit");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        drop(self.keyboard.take());
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let mut transcript = self.transcript();
        transcript.pop(); // the end marker
        for line in &self.typed {
            assert!(!transcript.contains(line.as_str()), "{}: {line:?} was echoed: {transcript:?}", self.what);
        }
        (status.code(), transcript)
    }
}

fn succeeded(terminal: Terminal) -> String {
    let what = terminal.what.clone();
    let (code, transcript) = terminal.finish();
    assert_eq!(code, Some(0), "{what}: {transcript:?}");
    transcript
}

/// Empty, one line, and four chunks of 64 KiB (the last partial); armored for the small one.
const CASES: [(usize, bool); 3] = [(0, false), (100, true), (200 * 1024 + 17, false)];

#[test]
fn age_encrypts_with_a_typed_passphrase_and_strongroom_decrypts() {
    const TEST: &str = "age_encrypts_with_a_typed_passphrase_and_strongroom_decrypts";
    if !tools_present(TEST, &["age", "script", "stty"]) {
        return;
    }
    let dir = tempdir("age-to-strongroom");
    write_passphrase_file(&dir);
    let strongroom_bin = env!("CARGO_BIN_EXE_strongroom");
    for (len, armor) in CASES {
        let plain = format!("plain-{len}");
        let sealed = format!("sealed-{len}.age");
        std::fs::write(dir.join(&plain), plaintext(len)).unwrap();
        let mut age: Vec<&str> = vec!["age", "-p", "-o", &sealed];
        if armor {
            age.push("-a");
        }
        age.push(&plain);
        let mut terminal = Terminal::run(&dir, &age);
        terminal.answer("Enter passphrase", PASSPHRASE);
        terminal.answer("Confirm passphrase", PASSPHRASE);
        succeeded(terminal);
        let file = std::fs::read(dir.join(&sealed)).unwrap();
        if armor {
            assert!(file.starts_with(b"-----BEGIN AGE ENCRYPTED FILE-----\n"), "len {len}");
        } else {
            assert!(file.starts_with(b"age-encryption.org/v1\n-> scrypt "), "len {len}: not a passphrase file");
        }

        let from_file = format!("from-file-{len}");
        ok(&strongroom(&dir, &["decrypt", "--passphrase-file", "pass.txt", "-o", &from_file, &sealed], b""));
        assert!(std::fs::read(dir.join(&from_file)).unwrap() == plaintext(len), "len {len}, --passphrase-file");

        let typed = format!("typed-{len}");
        let mut terminal = Terminal::run(&dir, &[strongroom_bin, "decrypt", "-p", "-o", &typed, &sealed]);
        terminal.answer("Enter passphrase: ", PASSPHRASE);
        let transcript = succeeded(terminal);
        assert_eq!(transcript.matches("passphrase: ").count(), 1, "asked once: {transcript:?}");
        assert!(std::fs::read(dir.join(&typed)).unwrap() == plaintext(len), "len {len}, -p");
    }

    // A wrong passphrase typed is refused, and writes nothing.
    let mut terminal = Terminal::run(&dir, &[strongroom_bin, "decrypt", "-p", "-o", "wrong", "sealed-100.age"]);
    terminal.answer("Enter passphrase: ", "correct horse ✓ battery stapler");
    let (code, transcript) = terminal.finish();
    assert_eq!(code, Some(1), "{transcript:?}");
    assert!(transcript.contains("wrong key or passphrase"), "{transcript:?}");
    assert!(!dir.join("wrong").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn strongroom_encrypts_with_a_passphrase_and_age_decrypts() {
    const TEST: &str = "strongroom_encrypts_with_a_passphrase_and_age_decrypts";
    if !tools_present(TEST, &["age", "script", "stty"]) {
        return;
    }
    let dir = tempdir("strongroom-to-age");
    write_passphrase_file(&dir);
    let strongroom_bin = env!("CARGO_BIN_EXE_strongroom");
    for (len, armor) in CASES {
        let plain = format!("plain-{len}");
        std::fs::write(dir.join(&plain), plaintext(len)).unwrap();
        let typed = format!("typed-{len}.age");
        let mut encrypt = vec![strongroom_bin, "encrypt", "-p", "--work-factor", "10", "-o", &typed];
        if armor {
            encrypt.push("-a");
        }
        encrypt.push(&plain);
        let mut terminal = Terminal::run(&dir, &encrypt);
        terminal.answer("Enter passphrase: ", PASSPHRASE);
        terminal.answer("Confirm passphrase: ", PASSPHRASE);
        succeeded(terminal);

        let from_file = format!("from-file-{len}.age");
        let mut encrypt = vec!["encrypt", "--passphrase-file", "pass.txt", "--work-factor", "10", "-o", &from_file];
        if armor {
            encrypt.push("-a");
        }
        encrypt.push(&plain);
        ok(&strongroom(&dir, &encrypt, b""));

        for sealed in [&typed, &from_file] {
            let file = std::fs::read(dir.join(sealed)).unwrap();
            if !armor {
                assert!(file.starts_with(b"age-encryption.org/v1\n-> scrypt "), "{sealed}: not a passphrase file");
                assert!(std::str::from_utf8(&file[..60]).unwrap_or("").contains(" 10\n"), "{sealed}: work factor");
            }
            let opened = format!("{sealed}.out");
            let mut terminal = Terminal::run(&dir, &["age", "-d", "-o", &opened, sealed]);
            terminal.answer("Enter passphrase", PASSPHRASE);
            succeeded(terminal);
            // age 1.1.1 creates an `-o` file only when it writes to it: an empty plaintext
            // leaves none (FiloSottile/age#555, fixed in later versions).
            let out = match std::fs::read(dir.join(&opened)) {
                Err(e) if e.kind() == ErrorKind::NotFound && len == 0 => Vec::new(),
                read => read.unwrap(),
            };
            assert!(out == plaintext(len), "{sealed} through age -d");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_different_typed_passphrases_encrypt_nothing() {
    const TEST: &str = "two_different_typed_passphrases_encrypt_nothing";
    if !tools_present(TEST, &["script", "stty"]) {
        return;
    }
    let dir = tempdir("mismatch");
    std::fs::write(dir.join("plain"), plaintext(100)).unwrap();
    let strongroom_bin = env!("CARGO_BIN_EXE_strongroom");
    let mut terminal =
        Terminal::run(&dir, &[strongroom_bin, "encrypt", "-p", "--work-factor", "10", "-o", "sealed.age", "plain"]);
    terminal.answer("Enter passphrase: ", PASSPHRASE);
    terminal.answer("Confirm passphrase: ", "correct horse ✓ battery stapl");
    let (code, transcript) = terminal.finish();
    assert_eq!(code, Some(1), "{transcript:?}");
    assert!(transcript.contains("the passphrases do not match"), "{transcript:?}");
    let names: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert_eq!(names, ["plain"], "no output file, and no temporary one");
    std::fs::remove_dir_all(&dir).unwrap();
}
