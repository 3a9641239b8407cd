//! `purge()` semantics. A purge is process-wide, so this binary holds one test that runs
//! every step in order (another test running alongside would lose its secrets), plus one
//! that checks `catch_interrupt` in a child process.
#![cfg(target_os = "linux")]

mod common;

use std::process::{Command, Stdio};

use strongroom::{Enclave, Error, LockedBuffer, Need, Policy, SecretBox, SecretString, SecretVec};

/// Reads a secret's bytes from outside, through /proc/self/mem (anonymous pages only).
fn read_from_outside(range: &std::ops::Range<usize>) -> Vec<u8> {
    common::read_proc_self_mem(range.clone()).expect("anonymous pages are readable through /proc/self/mem")
}

#[test]
fn purge_wipes_and_disables_every_secret_and_leaves_them_safe_to_drop() {
    let anonymous = Policy { secret_memory: Need::Off, ..Policy::default() };
    let mut idle = LockedBuffer::with_policy(32, anonymous).unwrap();
    idle.copy_from(&[0xAA; 32]).unwrap();
    let mut frozen = LockedBuffer::with_policy(32, anonymous).unwrap();
    frozen.copy_from(&[0xBB; 32]).unwrap();
    frozen.freeze().unwrap();
    let mut borrowed = LockedBuffer::with_policy(32, anonymous).unwrap();
    borrowed.copy_from(&[0xCC; 32]).unwrap();
    let boxed = SecretBox::new(|k: &mut [u8; 32]| k.fill(0xDD)).unwrap();
    let strict = SecretBox::strict(|k: &mut [u8; 32]| k.fill(0xEE)).unwrap();
    let mut vec = SecretVec::new();
    vec.extend_from_slice(&[0x11u8; 100]).unwrap();
    let mut text = SecretString::new();
    text.push_str("correct horse").unwrap();
    let enclave = Enclave::random(32).unwrap();

    // Where they live, recorded now: a purged buffer no longer says.
    let (at_idle, at_frozen, at_borrowed) = (idle.address_range(), frozen.address_range(), borrowed.address_range());
    // One secret is being read while the purge runs.
    let guard = borrowed.expose().unwrap();
    strongroom::purge();

    // Secrets nobody was reading are wiped at once, frozen ones too.
    assert_eq!(read_from_outside(&at_idle), [0; 32], "an idle secret survived the purge");
    assert_eq!(read_from_outside(&at_frozen), [0; 32], "a frozen secret survived the purge");
    // The one being read is not wiped under its reader's feet...
    assert_eq!(&*guard, &[0xCC; 32], "the purge wrote under a live reference");
    drop(guard);
    // ...but as soon as the reader lets go.
    assert_eq!(read_from_outside(&at_borrowed), [0; 32], "the borrowed secret was never wiped");

    // Every later use is an error, never a wiped value.
    assert!(matches!(idle.expose(), Err(Error::Destroyed)));
    assert!(matches!(frozen.expose(), Err(Error::Destroyed)));
    assert!(matches!(idle.expose_mut(), Err(Error::Destroyed)));
    assert!(matches!(idle.melt(), Err(Error::Destroyed)));
    assert!(idle.is_destroyed() && idle.is_empty());
    assert!(matches!(boxed.expose(), Err(Error::Destroyed)));
    assert!(matches!(strict.expose(), Err(Error::Destroyed)));
    assert!(matches!(vec.expose(), Err(Error::Destroyed)));
    assert!(matches!(vec.push(1), Err(Error::Destroyed)));
    assert!(matches!(text.expose(), Err(Error::Destroyed)));
    assert!(matches!(enclave.open(), Err(Error::Destroyed)));
    assert!(format!("{idle:?}").contains("destroyed"));

    // Purging again is harmless; dropping purged secrets raises no canary alarm (this test
    // would abort if it did).
    strongroom::purge();
    drop((idle, frozen, borrowed, boxed, strict, vec, text, enclave));
    assert!(strongroom::pool::verify() > 0);

    // Life goes on: new secrets, and Enclaves under a new process key.
    let fresh = Enclave::new(&mut [1, 2, 3]).unwrap();
    assert_eq!(&*fresh.open().unwrap().expose().unwrap(), &[1, 2, 3]);
    assert!(SecretBox::new(|k: &mut [u8; 16]| k.fill(1)).is_ok());
}

#[test]
fn catch_interrupt_purges_then_exits_on_sigterm() {
    if common::is_child("interrupt") {
        strongroom::catch_interrupt().unwrap();
        strongroom::catch_interrupt().unwrap(); // a second call does nothing
        let _secret = LockedBuffer::random(32).unwrap();
        println!("ready");
        std::thread::sleep(std::time::Duration::from_secs(30));
        std::process::exit(7); // only if the signal never came
    }
    let mut child = common::child_command("catch_interrupt_purges_then_exits_on_sigterm", "interrupt", &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("ready") {
        line.clear();
        assert!(std::io::BufRead::read_line(&mut out, &mut line).unwrap() > 0, "the child never got ready");
    }
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert_eq!(status.code(), Some(128 + 15), "stderr: {stderr}");
    assert!(stderr.contains("secrets purged on SIGTERM"), "stderr: {stderr}");
}

#[test]
fn purge_races_with_threads_that_make_read_and_drop_secrets() {
    // In a child: a purge is process-wide and would wipe the other tests' secrets.
    if common::is_child("race") {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let stop = AtomicBool::new(false);
        let made = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for t in 0..3u8 {
                let (stop, made) = (&stop, &made);
                scope.spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        let boxed = SecretBox::new(|k: &mut [u8; 32]| k.fill(t)).unwrap();
                        let mut vec = SecretVec::new();
                        let _ = vec.extend_from_slice(&[t; 40]);
                        let buf = LockedBuffer::random(16).unwrap();
                        // A read either sees the value whole or fails: never a torn or freed one.
                        if let Ok(k) = boxed.expose() {
                            assert!(k.iter().all(|&b| b == t) || k.iter().all(|&b| b == 0));
                        }
                        if let Ok(v) = vec.expose() {
                            assert!(v.iter().all(|&b| b == t) || v.iter().all(|&b| b == 0));
                        }
                        drop((boxed, vec, buf));
                        made.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
            // Purge over and over while the threads make and drop thousands of secrets.
            let start = std::time::Instant::now();
            let mut purges = 0;
            while made.load(Ordering::Relaxed) < 20_000 && start.elapsed() < std::time::Duration::from_secs(20) {
                strongroom::purge();
                purges += 1;
                std::thread::yield_now();
            }
            // Stop the threads before any assertion: a panic here would leave them running
            // and the scope waiting for them forever.
            stop.store(true, Ordering::Relaxed);
            // On a loaded machine the 20 s may end first; thousands of races still count.
            assert!(purges > 100 && made.load(Ordering::Relaxed) >= 2_000, "{purges} purges, {made:?} secrets");
        });
        assert!(strongroom::pool::verify() > 0);
        println!("race done");
        return;
    }
    let out = common::run_child("purge_races_with_threads_that_make_read_and_drop_secrets", "race", &[]);
    common::assert_finished(&out, "race done");
}
