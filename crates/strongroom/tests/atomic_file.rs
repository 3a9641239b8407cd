//! `AtomicFile` under SIGKILL: a child process rewrites one file over and over, alternating
//! two versions, and is killed at random moments; after every kill the file holds one
//! version or the other, whole, never a mix, a part or nothing.
//!
//! Unix: the kill is SIGKILL (`Child::kill`), which no code in the child can catch.

#![cfg(unix)]

mod common;

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use strongroom::AtomicFile;

const TEST: &str = "killed_writers_leave_one_version_or_the_other";
const ROLE: &str = "atomic-file-writer";
/// Where the child writes: set by the parent.
const TARGET_ENV: &str = "STRONGROOM_TEST_ATOMIC_TARGET";
/// How many times the writer is killed.
const KILLS: usize = 50;
/// Each version goes out in this many `write` calls.
const PIECES: usize = 8;

/// Version A (300 KB) and version B (420 KB): different lengths and bytes, so that a torn
/// file (a prefix, a mix, an empty file) matches neither.
fn versions() -> [Vec<u8>; 2] {
    let a = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let b = (0..420_000u32).map(|i| 255 - (i % 241) as u8).collect();
    [a, b]
}

/// The child: writes A, B, A, B, ... over the target forever, each in several writes and
/// committed, and says `committed` after each.
fn write_forever(target: &Path) -> ! {
    let versions = versions();
    let mut out = std::io::stdout();
    for round in 0usize.. {
        let version = &versions[round % 2];
        let mut file = AtomicFile::create(target).expect("the writer creates its temporary file");
        for piece in version.chunks(version.len().div_ceil(PIECES)) {
            file.write_all(piece).expect("the writer writes");
        }
        file.commit().expect("the writer commits");
        writeln!(out, "committed").expect("the parent reads");
    }
    unreachable!()
}

/// A small xorshift generator, seeded from the clock: the kill moments need only vary.
struct Moments(u64);

impl Moments {
    fn next_micros(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[test]
fn killed_writers_leave_one_version_or_the_other() {
    if common::is_child(ROLE) {
        write_forever(Path::new(&std::env::var_os(TARGET_ENV).expect("the parent names the target")));
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("atomic-file-kill-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    let target = dir.join("target.bin");
    let [a, b] = versions();
    fs::write(&target, &a).unwrap();

    let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut moments = Moments(seed | 1);
    let (mut commits, mut seen_b, start) = (0usize, false, Instant::now());
    // The kills fall within about two commits of the writer's first: the window follows how
    // long a commit takes here (what the kills so far saw), from 40 ms at the start.
    let (mut alive, mut later_commits) = (Duration::ZERO, 0u32);
    for kill in 0..KILLS {
        let mut child = common::child_command(TEST, ROLE, &[])
            .env(TARGET_ENV, &target)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the writer starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped"));
        // Wait for the writer's first commit (it is then in its loop), then kill it at a
        // random moment in the window: in a write, a sync, the rename or between them.
        let mut line = String::new();
        while !line.contains("committed") {
            line.clear();
            assert!(lines.read_line(&mut line).unwrap() > 0, "kill {kill}: the writer ended before its first commit");
        }
        // (With no later commit seen yet, the window grows with every kill until one shows.)
        let period = if kill == 0 { Duration::from_millis(20) } else { alive / later_commits.max(1) };
        let window = (2 * period).clamp(Duration::from_millis(10), Duration::from_millis(500));
        let first_commit = Instant::now();
        std::thread::sleep(Duration::from_micros(moments.next_micros(window.as_micros() as u64)));
        child.kill().unwrap();
        alive += first_commit.elapsed();
        let status = child.wait().unwrap();
        assert!(!status.success(), "kill {kill}: the writer was not killed: {status}");
        let later = lines.lines().map_while(Result::ok).filter(|l| l == "committed").count();
        (commits, later_commits) = (commits + 1 + later, later_commits + later as u32);

        let found = fs::read(&target).unwrap();
        assert!(
            found == a || found == b,
            "kill {kill}: the target holds {} bytes that are neither version A ({}) nor B ({})",
            found.len(),
            a.len(),
            b.len()
        );
        seen_b |= found == b;
        // A killed writer leaves its temporary file (no drop runs under SIGKILL); nothing else.
        for entry in fs::read_dir(&dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name != "target.bin" {
                assert!(name.starts_with(".target.bin.") && name.ends_with(".tmp"), "kill {kill}: stray {name}");
                fs::remove_file(dir.join(name)).unwrap();
            }
        }
    }
    eprintln!("{KILLS} kills, {commits} commits in {:?}", start.elapsed());
    assert!(seen_b, "every kill found version A: the writer's commits never showed");
    fs::remove_dir_all(&dir).unwrap();
}
