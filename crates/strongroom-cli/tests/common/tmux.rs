//! A full-screen program under tmux, for end-to-end tests: each [`Pane`] runs one command on
//! its own private tmux server (its own socket, no configuration file), 100 columns by 30
//! rows; the test types into it (`send-keys`), reads the screen (`capture-pane`) and waits
//! for text to appear on it.
//!
//! The command runs under `sh`, which prints `[e2e: exited with status N]` when it ends and
//! then keeps the pane open: everything the command wrote stays readable and its exit status
//! is on the screen. (tmux's own `remain-on-exit` loses either the last output or the status
//! now and then, when the pane's end and its last output race.) The server is killed when the
//! `Pane` is dropped, also when the test panics.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Width of every pane.
pub(crate) const COLUMNS: u16 = 100;
/// Height of every pane.
pub(crate) const ROWS: u16 = 30;

/// How long a screen may take to appear (debug builds on a loaded two-core machine, a real
/// 64 MiB Argon2id derivation or two before it).
pub(crate) const PATIENCE: Duration = Duration::from_secs(60);

/// What `sh` prints after the command ends, before the status.
const EXIT_MARK: &str = "[e2e: exited with status ";

/// How often a wait looks at the screen.
const POLL: Duration = Duration::from_millis(50);

/// Whether tmux can be run here; if not, the test is reported [`super::missing`].
#[track_caller]
pub(crate) fn available(test: &str) -> bool {
    let found = Command::new("tmux").arg("-V").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        super::missing(test, "tmux is not installed");
    }
    found
}

/// A single-quoted word for `sh`.
pub(crate) fn quote(word: &str) -> String {
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// One command on its own tmux server.
pub(crate) struct Pane {
    /// The server's socket name (`tmux -L`).
    socket: String,
    /// The command, for failure messages.
    what: String,
    /// The pane's process: the `sh` running the command.
    shell: u32,
    /// The server's socket file (tmux leaves it behind when killed).
    socket_path: String,
}

impl Pane {
    /// Runs `argv` (its first word the program) in `dir`, on a new private tmux server.
    pub(crate) fn run(dir: &Path, argv: &[&str]) -> Pane {
        static SERVERS: AtomicUsize = AtomicUsize::new(0);
        let socket = format!("sedit-e2e-{}-{}", std::process::id(), SERVERS.fetch_add(1, Ordering::Relaxed));
        let words: Vec<String> = argv.iter().map(|w| quote(w)).collect();
        let shell = format!("{}; echo \"{EXIT_MARK}$?]\"; exec sleep 86400", words.join(" "));
        let (columns, rows) = (COLUMNS.to_string(), ROWS.to_string());
        let out = Command::new("tmux")
            // UTF-8 whatever the locale; the shell runs the command.
            .args(["-u", "-L", &socket, "-f", "/dev/null", "new-session", "-d", "-x", &columns, "-y", &rows])
            .args(["-s", "e2e", "-c"])
            .arg(dir)
            .arg(&shell)
            .env("SHELL", "/bin/sh")
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs");
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        let mut pane = Pane { socket, what: argv.join(" "), shell: 0, socket_path: String::new() };
        let said = pane.tmux(&["display-message", "-p", "-t", "e2e", "#{pane_pid} #{socket_path}"]);
        let (shell, path) = said.trim_end().split_once(' ').expect("tmux says the pane's pid and its socket");
        (pane.shell, pane.socket_path) = (shell.parse().unwrap(), path.to_owned());
        pane
    }

    /// `tmux args` on this pane's server; what it printed (it must succeed).
    fn tmux(&self, args: &[&str]) -> String {
        let out = self.tmux_output(args);
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).expect("tmux prints UTF-8")
    }

    fn tmux_output(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-u", "-L", &self.socket])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("tmux runs")
    }

    /// What the pane shows now, one line per row (trailing blanks trimmed by tmux).
    pub(crate) fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    /// Presses keys, by tmux's names (`C-s`, `Enter`, `Escape`, `F3`, `S-F3`, `C-Home`, ...).
    pub(crate) fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend(keys);
        self.tmux(&args);
    }

    /// Types `text` literally (each char a key).
    pub(crate) fn type_text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// Types `text` and presses Enter.
    pub(crate) fn type_line(&self, text: &str) {
        self.type_text(text);
        self.keys(&["Enter"]);
    }

    /// Pastes `text` into the pane as the terminal does (bracketed, when the program asked
    /// for it), line breaks as `\r`.
    pub(crate) fn paste(&self, text: &str) {
        self.tmux(&["set-buffer", "-b", "e2e", "--", text]);
        self.tmux(&["paste-buffer", "-p", "-d", "-b", "e2e", "-t", "e2e"]);
    }

    /// Waits until `ready` holds for the screen, at most `timeout`; the screen then. On
    /// timeout, panics showing `what` was awaited and the last screen.
    #[track_caller]
    pub(crate) fn wait_until(&self, what: &str, timeout: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!(
                    "`{}`: waited {timeout:?} for {what}; the screen:\n{}\n{}",
                    self.what,
                    "-".repeat(usize::from(COLUMNS)),
                    screen
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the screen shows `text`, at most `timeout`; the screen then. Blanks at
    /// the end of `text` are not looked for (a prompt's): tmux drops them at a line's end.
    #[track_caller]
    pub(crate) fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let text = text.trim_end();
        self.wait_until(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// Waits until the screen shows `text` at least `count` times (a prompt asked again).
    #[track_caller]
    pub(crate) fn wait_for_count(&self, text: &str, count: usize, timeout: Duration) -> String {
        let text = text.trim_end();
        self.wait_until(&format!("{text:?} {count} times"), timeout, |s| s.matches(text).count() >= count)
    }

    /// Waits until the screen no longer shows `text`; the screen then.
    #[track_caller]
    pub(crate) fn wait_gone(&self, text: &str, timeout: Duration) -> String {
        self.wait_until(&format!("{text:?} to go"), timeout, |s| !s.contains(text))
    }

    /// Waits for the command to end; its exit status (128 + N when killed by signal N).
    #[track_caller]
    pub(crate) fn wait_exit(&self, timeout: Duration) -> i32 {
        let screen = self.wait_for(EXIT_MARK, timeout);
        let (_, rest) = screen.split_once(EXIT_MARK).unwrap();
        rest.split(']').next().unwrap().parse().expect("sh printed a status")
    }

    /// Whether the command has ended.
    pub(crate) fn exited(&self) -> bool {
        self.screen().contains(EXIT_MARK)
    }

    /// The command's process id (a child of the pane's `sh`), waiting for it to start.
    #[track_caller]
    pub(crate) fn pid(&self) -> u32 {
        let start = Instant::now();
        loop {
            if let Some(&pid) = children(self.shell).first() {
                return pid;
            }
            assert!(start.elapsed() < PATIENCE, "`{}` did not start", self.what);
            std::thread::sleep(POLL);
        }
    }
}

impl Drop for Pane {
    fn drop(&mut self) {
        // The command (if it still runs) and `sleep`: the children of this pane's shell only.
        for pid in children(self.shell) {
            if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
                let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
            }
        }
        let _ = self.tmux_output(&["kill-server"]);
        if !self.socket_path.is_empty() {
            let _ = std::fs::remove_file(&self.socket_path);
        }
    }
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
        // `pid (comm) state ppid ...`: comm may hold spaces and parentheses.
        let ppid = stat.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if ppid == Some(parent) {
            found.push(pid);
        }
    }
    found
}
