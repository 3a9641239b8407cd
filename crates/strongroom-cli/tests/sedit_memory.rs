//! sedit's memory claim, checked on the running editor: the passphrase and the lines that are
//! not on the screen are nowhere in its ordinary memory, and once it has locked itself no line
//! of the document is, in the live process (`strongroom inspect PID`, which reads every
//! readable mapping through `/proc/PID/mem`) or in a core dump of it (gdb's `gcore`, with
//! the mappings excluded from dumps included, searched with `strongroom inspect --core`).
//!
//! The document: 400 lines, each holding a random 24-char marker made for this run, in a
//! cheap-parameters v3 file under a random passphrase; sedit runs under tmux (100x30: 28 text
//! rows). Controls show the search works: a child process (this test binary re-run) holding
//! the same text in a plain `String` is searched the same way, and the markers are found; and
//! in sedit itself, the file's name (random too, in its ordinary memory for the status line)
//! is found, live and in the core.
//!
//! Needs root (reading another process's memory and attaching gdb to it; sedit makes itself
//! non-dumpable, which leaves it to CAP_SYS_PTRACE), tmux and gdb; skipped visibly without
//! them (and failing under CI as root when a tool is missing).
#![cfg(target_os = "linux")]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use common::tmux::{self, PATIENCE, Pane};
use serde_json::Value;
use strongroom::kdf::KdfParams;

const TEST: &str = "the_passphrase_and_unseen_lines_stay_out_of_sedits_ordinary_memory";

/// Tells a re-run test binary to act as the control: to hold the document in a `String`.
const HOLDER_ENV: &str = "SEDIT_MEMORY_HOLDER";

/// Lines in the document.
const LINES: usize = 400;
/// Length of each line's marker, and of the passphrase.
const MARKER_LEN: usize = 24;

const CHEAP: KdfParams = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 };

/// Which searches run at once (each `strongroom inspect` reads the whole process or core).
const PARALLEL: usize = 4;

// The document -----------------------------------------------------------------------------

/// `n` random letters and digits.
fn random_text(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut urandom = std::fs::File::open("/dev/urandom").unwrap();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        let mut byte = [0u8; 1];
        std::io::Read::read_exact(&mut urandom, &mut byte).unwrap();
        if usize::from(byte[0]) < 248 {
            out.push(char::from(ALPHABET[usize::from(byte[0]) % ALPHABET.len()]));
        }
    }
    out
}

/// The markers, one a line; the document's text is `line NNN MARKER\n` for each (from 001).
fn document(markers: &[String]) -> String {
    markers.iter().enumerate().map(|(i, m)| format!("line {:03} {m}\n", i + 1)).collect()
}

/// The line numbers (from 1) whose whole line, marker included, is on `screen`.
fn lines_on_screen(screen: &str, markers: &[String]) -> BTreeSet<usize> {
    let mut on = BTreeSet::new();
    for row in screen.lines() {
        let Some((number, rest)) = row.trim_start().split_once(' ') else { continue };
        let Ok(n) = number.parse::<usize>() else { continue };
        if (1..=markers.len()).contains(&n) && rest.trim_end() == format!("line {n:03} {}", markers[n - 1]) {
            on.insert(n);
        }
    }
    on
}

// Searching memory -------------------------------------------------------------------------

/// Where a secret was found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Found {
    memory: bool,
    core: bool,
}

impl Found {
    fn anywhere(self) -> bool {
        self.memory || self.core
    }
}

/// `strongroom inspect` on a process and (or) a core file, for one secret at a time.
struct Searcher {
    dir: PathBuf,
    files: AtomicUsize,
}

impl Searcher {
    /// Searches process `pid` and `core` for `secret`; where it was found. Fails on an error
    /// or an incomplete search (exit 2 or 3), showing the report.
    fn search(&self, pid: Option<u32>, core: Option<&Path>, secret: &str) -> Found {
        let file = self.dir.join(format!("secret-{}", self.files.fetch_add(1, Ordering::Relaxed)));
        std::fs::write(&file, secret).unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strongroom"));
        cmd.arg("inspect");
        if let Some(pid) = pid {
            cmd.arg(pid.to_string());
        }
        cmd.arg("--secret-file").arg(&file).arg("--json");
        if let Some(core) = core {
            cmd.arg("--core").arg(core);
        }
        let out = cmd.stdin(Stdio::null()).output().expect("strongroom runs");
        std::fs::remove_file(&file).unwrap();
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "strongroom inspect: not JSON ({e}), exit {:?}: {}{}",
                out.status.code(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "strongroom inspect exit {code:?} (2: error, 3: incomplete): {report:#}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let hits = report["hits"].as_array().unwrap();
        let found = Found {
            memory: hits.iter().any(|h| h["source"] == "memory"),
            core: hits.iter().any(|h| h["source"] == "core"),
        };
        assert_eq!(found.anywhere(), code == Some(1), "{report:#}");
        found
    }

    /// [`Searcher::search`] for each of `secrets`, a few at a time.
    fn search_all(&self, pid: Option<u32>, core: Option<&Path>, secrets: &[String]) -> Vec<Found> {
        let mut results = vec![Found::default(); secrets.len()];
        for (chunk, out) in secrets.chunks(PARALLEL).zip(results.chunks_mut(PARALLEL)) {
            std::thread::scope(|s| {
                let running: Vec<_> =
                    chunk.iter().map(|secret| s.spawn(move || self.search(pid, core, secret))).collect();
                for (slot, handle) in out.iter_mut().zip(running) {
                    *slot = handle.join().unwrap();
                }
            });
        }
        results
    }
}

/// Dumps process `pid` with gdb's gcore into `path`, the mappings excluded from core dumps
/// (protected memory's MADV_DONTDUMP) included.
#[track_caller]
fn gcore(pid: u32, path: &Path) {
    let out = Command::new("gdb")
        .args(["-nx", "-batch", "-p", &pid.to_string()])
        .args(["-ex", "set dump-excluded-mappings on", "-ex"])
        .arg(format!("gcore {}", path.display()))
        .stdin(Stdio::null())
        .output()
        .expect("gdb runs");
    assert!(
        path.is_file() && std::fs::metadata(path).unwrap().len() > 0,
        "gcore {pid} wrote no core (exit {:?}):\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

// The control: a child holding the document in a `String` ---------------------------------

/// In the child: reads lines up to `END` into a `String`, says `ready`, and holds it until
/// standard input closes.
fn hold() {
    // Under Yama's ptrace_scope 1, a sibling (`strongroom inspect`, gdb) may read us.
    let _ = rustix::process::set_ptracer(rustix::process::PTracer::Any);
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut held = String::new();
    loop {
        let mut line = String::new();
        assert!(input.read_line(&mut line).unwrap() > 0, "standard input closed before END");
        if line == "END\n" {
            break;
        }
        held.push_str(&line);
    }
    println!("ready {}", held.len());
    let mut rest = String::new();
    while input.read_line(&mut rest).unwrap_or(0) > 0 {}
    std::hint::black_box(&held);
}

/// The control child, running until dropped.
struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    fn start(text: &str) -> Holder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST, "--nocapture", "--test-threads=1"])
            .env(HOLDER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the holder starts");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(text.as_bytes()).unwrap();
        stdin.write_all(b"END\n").unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let ready = (&mut stdout).lines().map(|l| l.unwrap()).any(|l| l.contains("ready "));
        assert!(ready, "the holder never said it was ready");
        Holder { child, stdin: Some(stdin), stdout }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = std::io::copy(&mut self.stdout, &mut std::io::sink());
        let _ = self.child.wait();
    }
}

// The test ---------------------------------------------------------------------------------

/// `count` line numbers spread evenly over `lines` (sorted, distinct).
fn spread(lines: &[usize], count: usize) -> Vec<usize> {
    if lines.len() <= count {
        return lines.to_vec();
    }
    (0..count).map(|i| lines[i * (lines.len() - 1) / (count - 1)]).collect()
}

/// The markers of `lines` (numbers from 1).
fn markers_of(markers: &[String], lines: &[usize]) -> Vec<String> {
    lines.iter().map(|&n| markers[n - 1].clone()).collect()
}

/// The lines of `lines` whose marker `found` says was found somewhere.
fn found_lines(lines: &[usize], found: &[Found]) -> Vec<(usize, Found)> {
    lines.iter().zip(found).filter(|(_, f)| f.anywhere()).map(|(&n, &f)| (n, f)).collect()
}

#[test]
fn the_passphrase_and_unseen_lines_stay_out_of_sedits_ordinary_memory() {
    if std::env::var_os(HOLDER_ENV).is_some() {
        return hold();
    }
    if !common::is_root() {
        common::skip(TEST, "needs root, to read another process's memory and attach gdb to it");
        return;
    }
    if !tmux::available(TEST) {
        return;
    }
    if !common::have("gdb") {
        common::missing(TEST, "gdb is not installed (for gcore)");
        return;
    }
    let started = Instant::now();
    let dir = common::tempdir(TEST);
    let searcher = Searcher { dir: dir.clone(), files: AtomicUsize::new(0) };
    let markers: Vec<String> = (0..LINES).map(|_| random_text(MARKER_LEN)).collect();
    let text = document(&markers);
    let passphrase = random_text(MARKER_LEN);
    // The file's name is in sedit's ordinary memory (the status line's label): a control on
    // sedit itself.
    let name = format!("memory-{}.sedit", random_text(12));
    let name = name.as_str();
    let path = dir.join(name);
    std::fs::write(&path, strongroom::sedit::encrypt(text.as_bytes(), passphrase.as_bytes(), &CHEAP).unwrap()).unwrap();
    let all: Vec<usize> = (1..=LINES).collect();

    // The control: the same text (and the passphrase) in a plain `String` is found, live and
    // in a core dump.
    let holder = Holder::start(&format!("passphrase {passphrase}\n{text}"));
    let holder_core = dir.join("holder.core");
    gcore(holder.child.id(), &holder_core);
    let control_lines = spread(&all, 4);
    let mut control_secrets = markers_of(&markers, &control_lines);
    control_secrets.push(passphrase.clone());
    let control = searcher.search_all(Some(holder.child.id()), Some(&holder_core), &control_secrets);
    for (secret, found) in control_secrets.iter().zip(&control) {
        assert!(found.memory && found.core, "the control's copy of {secret:?} was not found: {found:?}");
    }
    drop(holder);
    std::fs::remove_file(&holder_core).unwrap();

    // 1. Open: the passphrase, and the lines not on the screen, are nowhere.
    let pane = Pane::run(&dir, &[env!("CARGO_BIN_EXE_sedit"), name]);
    pane.wait_for(&format!("Passphrase for {name}: "), PATIENCE);
    pane.type_line(&passphrase);
    let screen = pane.wait_for(&format!("1 line 001 {}", markers[0]), PATIENCE);
    // A search that matches nothing reads every line (memmem over the whole text), and what
    // it read must not stay behind either.
    pane.keys(&["C-f"]);
    pane.type_line("no such text anywhere");
    pane.wait_for("not found", PATIENCE);
    let on_screen = lines_on_screen(&screen, &markers);
    assert!(on_screen.contains(&1) && on_screen.len() >= 20, "lines on the screen: {on_screen:?}\n{screen}");
    assert!(on_screen.len() < 40, "{on_screen:?}");
    let pid = pane.pid();
    let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
    assert_eq!(comm.trim(), "sedit");
    let core = dir.join("sedit-open.core");
    gcore(pid, &core);

    let found = searcher.search(Some(pid), Some(&core), name);
    assert!(found.memory && found.core, "the file's name was not found in sedit's memory: {found:?}");
    let found = searcher.search(Some(pid), Some(&core), &passphrase);
    assert!(!found.anywhere(), "the passphrase is in sedit's ordinary memory: {found:?}");
    let off: Vec<usize> = all.iter().copied().filter(|n| !on_screen.contains(n)).collect();
    let off = spread(&off, 20);
    let results = searcher.search_all(Some(pid), Some(&core), &markers_of(&markers, &off));
    let leaked = found_lines(&off, &results);
    assert!(leaked.is_empty(), "markers of lines never on the screen found in sedit's memory: {leaked:?}");
    let shown: Vec<usize> = on_screen.iter().copied().collect();
    let shown = spread(&shown, 3);
    let results = searcher.search_all(Some(pid), Some(&core), &markers_of(&markers, &shown));
    eprintln!(
        "{TEST}: markers of on-screen lines {shown:?} found in sedit's memory (live, core): {:?}",
        results.iter().map(|f| (f.memory, f.core)).collect::<Vec<_>>()
    );
    std::fs::remove_file(&core).unwrap();
    pane.keys(&["C-q"]);
    assert_eq!(pane.wait_exit(PATIENCE), 0);
    drop(pane);

    // 2. Locked: no line at all, on screen before or not. Before locking, the text is searched,
    // scrolled to the middle, a line cut into the register and put back with undo.
    let pane = Pane::run(&dir, &[env!("CARGO_BIN_EXE_sedit"), "--lock-after", "3s", name]);
    pane.wait_for(&format!("Passphrase for {name}: "), PATIENCE);
    pane.type_line(&passphrase);
    let first = pane.wait_for(&format!("1 line 001 {}", markers[0]), PATIENCE);
    pane.keys(&["C-f"]);
    pane.type_line("line 200 ");
    let middle = pane.wait_for(&format!("200 line 200 {}", markers[199]), PATIENCE);
    pane.keys(&["Home", "C-x"]);
    pane.wait_for(&format!("200 line 201 {}", markers[200]), PATIENCE);
    pane.keys(&["C-z"]);
    pane.wait_for(&format!("200 line 200 {}", markers[199]), PATIENCE);
    let mut seen: BTreeSet<usize> = lines_on_screen(&first, &markers);
    seen.extend(lines_on_screen(&middle, &markers));
    assert!(seen.contains(&1) && seen.contains(&200), "lines seen on the screen: {seen:?}");
    let locked = pane.wait_for("Passphrase to unlock (not shown):", PATIENCE);
    assert!(!locked.contains("line "), "text on the locked screen:\n{locked}");
    let pid = pane.pid();
    let core = dir.join("sedit-locked.core");
    gcore(pid, &core);

    let mut lines: BTreeSet<usize> = spread(&all, 40).into_iter().collect();
    lines.extend(spread(&seen.iter().copied().collect::<Vec<_>>(), 12));
    lines.insert(200);
    let lines: Vec<usize> = lines.into_iter().collect();
    let results = searcher.search_all(Some(pid), Some(&core), &markers_of(&markers, &lines));
    let leaked = found_lines(&lines, &results);
    assert!(leaked.is_empty(), "markers found in the locked sedit's memory (line, where): {leaked:?}");
    let found = searcher.search(Some(pid), Some(&core), &passphrase);
    assert!(!found.anywhere(), "the passphrase is in the locked sedit's ordinary memory: {found:?}");
    std::fs::remove_file(&core).unwrap();

    // 3. Unlocked by typing the passphrase: where that went (keys pass through crossterm's
    // input buffers, which sedit cannot wipe): reported, not asserted.
    pane.type_line(&passphrase);
    pane.wait_for(&format!("line 200 {}", markers[199]), PATIENCE);
    let found = searcher.search(Some(pid), None, &passphrase);
    eprintln!(
        "{TEST}: the passphrase typed at the locked screen, found in sedit's live memory after unlocking: {found:?}"
    );
    pane.keys(&["C-q"]);
    let answer = pane.wait_until("the quit", PATIENCE, |s| s.contains("save before quitting?") || s.contains("[e2e:"));
    if answer.contains("save before quitting?") {
        pane.keys(&["n"]);
    }
    assert_eq!(pane.wait_exit(PATIENCE), 0);
    eprintln!("{TEST}: took {:?}", started.elapsed());
    std::fs::remove_dir_all(&dir).unwrap();
}
