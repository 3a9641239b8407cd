//! A kernel core dump must not contain a secret. A child writes distinct 32-byte markers into
//! a `memfd_secret` LockedBuffer, an anonymous (MADV_DONTDUMP) LockedBuffer, a pooled
//! SecretBox and — the control — an ordinary heap Vec, then aborts and dumps core. The parent
//! searches the core file: the control must be there (or the test proves nothing), the
//! secrets must not.
#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};

use strongroom::{LockedBuffer, Need, Policy, SecretBox};

const ROLE: &str = "core-dump";
const TEST: &str = "a_core_dump_holds_no_secret";

/// Marker `which`, byte `i`: computed, never stored whole outside where it is written.
fn marker_byte(which: u8, i: usize) -> u8 {
    (i as u8).wrapping_mul(37).wrapping_add(which.wrapping_mul(101)) ^ 0xA5
}

fn marker(which: u8) -> Vec<u8> {
    (0..32).map(|i| marker_byte(which, i)).collect()
}

fn fill(bytes: &mut [u8], which: u8) {
    for (i, b) in bytes.iter_mut().enumerate() {
        *b = marker_byte(which, i);
    }
}

/// The child: markers in place, then SIGABRT (which dumps core).
fn child() -> ! {
    let mut secret = LockedBuffer::new(32).unwrap();
    fill(&mut secret.expose_mut().unwrap(), 1);
    let mut anonymous =
        LockedBuffer::with_policy(32, Policy { secret_memory: Need::Off, ..Policy::default() }).unwrap();
    fill(&mut anonymous.expose_mut().unwrap(), 2);
    let pooled = SecretBox::new(|k: &mut [u8; 32]| fill(k, 3)).unwrap();
    let mut control = vec![0u8; 32];
    fill(&mut control, 4);
    std::hint::black_box((&secret, &anonymous, &pooled, &control));
    std::process::abort();
}

fn core_file_in(dir: &Path) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n == "core" || n.starts_with("core.")))
}

#[test]
fn a_core_dump_holds_no_secret() {
    if common::is_child(ROLE) {
        child();
    }
    if common::skip_under_qemu(TEST, "writes the guest's core dumps itself and ignores MADV_DONTDUMP") {
        return;
    }
    // Where cores go is the kernel's setting, shared with the host: CI does not promise it,
    // so a kernel that sends them elsewhere skips this test (visibly), in CI too.
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").unwrap_or_default();
    if pattern.trim_start().starts_with('|') || pattern.contains('/') {
        let reason = format!("core_pattern {:?} does not write core files into the working directory", pattern.trim());
        common::skip(TEST, &reason);
        return;
    }
    let dir = std::env::temp_dir().join(format!("strongroom-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // `prlimit` lifts RLIMIT_CORE for the child only.
    let status = common::child_command(TEST, ROLE, &["prlimit", "--core=unlimited"]).current_dir(&dir).status();
    let Ok(status) = status else {
        let _ = std::fs::remove_dir_all(&dir);
        common::missing(TEST, "prlimit (util-linux) is not installed");
        return;
    };
    assert!(!status.success(), "the child was meant to abort");
    let Some(core) = core_file_in(&dir) else {
        let _ = std::fs::remove_dir_all(&dir);
        common::skip(TEST, &format!("no core file was written (core dumps disabled here: {status})"));
        return;
    };
    let dump = std::fs::read(&core).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let found = |which: u8| dump.windows(32).any(|w| w == &marker(which)[..]);
    assert!(found(4), "the heap control marker is not in the dump: this test cannot see anything");
    assert!(!found(1), "a memfd_secret LockedBuffer's bytes are in the core dump");
    assert!(!found(2), "an anonymous (MADV_DONTDUMP) LockedBuffer's bytes are in the core dump");
    assert!(!found(3), "a pooled SecretBox's bytes are in the core dump");
}
