//! `harden()` against a second process of the same (non-root) user: before it, that process
//! can read the first one's memory through `/proc/PID/mem` and attach with ptrace (the
//! control); after it, both are refused.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Stdio};

/// The unprivileged user both processes run as.
const NOBODY: &str = "--reuid=65534";
const MARKER: [u8; 16] = *b"same-uid-canread";

/// What the attacker found: whether it could read the target's memory and attach to it.
#[derive(Debug, PartialEq, Eq)]
struct Attack {
    read_memory: bool,
    attached: bool,
}

fn as_nobody() -> Vec<&'static str> {
    vec!["setpriv", NOBODY, "--regid=65534", "--clear-groups"]
}

/// Starts the target as nobody; returns it, the address of its marker once it is ready, and
/// the rest of its output (read to the end by [`stop_target`], so it never writes to a
/// closed pipe).
fn start_target(harden: bool) -> (Child, usize, BufReader<std::process::ChildStdout>) {
    let role = if harden { "target-hardened" } else { "target" };
    let mut child = common::child_command("harden_stops_same_user_reads_and_ptrace", role, &as_nobody())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the target starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    // libtest prints "test NAME ... " without a newline first, so "ready" may follow it.
    let addr = loop {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the target never got ready");
        if let Some((_, addr)) = line.split_once("ready ") {
            break usize::from_str_radix(addr.trim(), 16).unwrap();
        }
    };
    (child, addr, out)
}

/// Lets the target finish: closes its stdin, reads what it still prints, waits for it.
fn stop_target(mut target: Child, mut out: BufReader<std::process::ChildStdout>) {
    drop(target.stdin.take());
    std::io::copy(&mut out, &mut std::io::sink()).unwrap();
    assert!(target.wait().unwrap().success(), "the target failed");
}

/// Runs the attacker as nobody against `pid`, reading `addr`.
fn attack(pid: u32, addr: usize) -> Attack {
    let out = common::child_command("harden_stops_same_user_reads_and_ptrace", "attacker", &as_nobody())
        .env("TARGET_PID", pid.to_string())
        .env("TARGET_ADDR", format!("{addr:x}"))
        .output()
        .expect("the attacker starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    // Anywhere in a line: libtest's "test NAME ... " may come first.
    let field = |key: &str| stdout.lines().find_map(|l| l.split_once(key)).map(|(_, v)| v.trim().to_owned());
    let (read, attached) = (field("read:"), field("attach:"));
    assert!(
        read.is_some() && attached.is_some(),
        "attacker failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Attack { read_memory: read.as_deref() == Some("yes"), attached: attached.as_deref() == Some("yes") }
}

/// The target: a marker on the ordinary heap, then wait until stdin closes.
fn run_target(harden: bool) {
    if harden {
        let got = strongroom::harden();
        assert!(got.fully_applied(), "{got:?}");
        assert_eq!(strongroom::is_dumpable(), Some(false));
    }
    let marker = Box::new(MARKER);
    println!("ready {:x}", std::ptr::from_ref(&*marker).addr());
    std::io::stdout().flush().unwrap();
    let _ = std::io::stdin().lines().count();
    drop(marker);
}

/// The attacker: read the target's memory, then try to attach.
fn run_attacker() {
    use std::os::unix::fs::FileExt;
    let pid: i32 = std::env::var("TARGET_PID").unwrap().parse().unwrap();
    let addr = u64::from_str_radix(&std::env::var("TARGET_ADDR").unwrap(), 16).unwrap();
    let mut buf = [0u8; 16];
    let read = std::fs::File::open(format!("/proc/{pid}/mem")).and_then(|f| f.read_exact_at(&mut buf, addr));
    println!("read: {}", if read.is_ok() && buf == MARKER { "yes" } else { "no" });
    // SAFETY: PTRACE_ATTACH takes only integers (the pid); no memory of ours is passed.
    let attached = unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0usize, 0usize) } == 0;
    if attached {
        let mut status = 0;
        // SAFETY: `status` is a valid out-pointer for the call; waiting for the stop that
        // PTRACE_ATTACH sends, then detaching, leaves the target running as before.
        unsafe {
            libc::waitpid(pid, &mut status, 0);
            libc::ptrace(libc::PTRACE_DETACH, pid, 0usize, 0usize);
        }
    }
    println!("attach: {}", if attached { "yes" } else { "no" });
}

#[test]
fn harden_stops_same_user_reads_and_ptrace() {
    if common::is_child("target") || common::is_child("target-hardened") {
        return run_target(common::is_child("target-hardened"));
    }
    if common::is_child("attacker") {
        return run_attacker();
    }
    let test = "harden_stops_same_user_reads_and_ptrace";
    if common::skip_under_qemu(test, "does not implement ptrace (the control cannot attach)") {
        return;
    }
    if !common::is_root() {
        return common::missing(test, "switching both processes to an unprivileged user (setpriv) needs root");
    }
    if !common::have("setpriv") {
        return common::missing(test, "setpriv (util-linux) is not installed");
    }
    if std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").is_ok_and(|s| s.trim() != "0") {
        return common::skip(test, "Yama restricts ptrace here already, so the control cannot succeed");
    }

    let (target, addr, out) = start_target(false);
    let before = attack(target.id(), addr);
    stop_target(target, out);
    assert_eq!(
        before,
        Attack { read_memory: true, attached: true },
        "the control: a same-user process reads and attaches"
    );

    let (target, addr, out) = start_target(true);
    let after = attack(target.id(), addr);
    stop_target(target, out);
    assert_eq!(after, Attack { read_memory: false, attached: false }, "after harden()");
}
