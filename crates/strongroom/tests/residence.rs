//! Where secrets live, checked from the outside: `/proc/self/smaps` flags, reads through
//! `/proc/self/mem`, and what a forked child sees. Each check has a control that shows it
//! can fail: an unprotected page does show up as readable, inherited, unlocked.
#![cfg(target_os = "linux")]

mod common;

use strongroom::probe::{ForkView, observe_fork};
use strongroom::{ForkSafety, LockedBuffer, Need, Policy};

use common::smaps;

/// One byte of this process's memory, read from outside through `/proc/self/mem`.
fn read_through_proc_mem(addr: usize) -> std::io::Result<u8> {
    Ok(common::read_proc_self_mem(addr..addr + 1)?[0])
}

/// Whether the kernel has `memfd_secret`, asked directly; when it has not, the test is
/// reported through `common::missing` (a failure in CI) and the caller returns.
fn kernel_has_memfd_secret(test: &str) -> bool {
    let has = common::kernel_has_memfd_secret();
    if !has {
        common::missing(test, "memfd_secret is not available on this kernel");
    }
    has
}

/// A `Policy::STRICT` (memfd_secret) buffer holding `contents`, or `None` when the kernel has
/// no `memfd_secret` (see [`kernel_has_memfd_secret`]). Where the kernel has it, failing to
/// make the buffer fails the test: strongroom's own probe is not trusted to decide.
fn strict_buffer(test: &str, contents: &[u8]) -> Option<LockedBuffer> {
    if !kernel_has_memfd_secret(test) {
        return None;
    }
    let mut buf = LockedBuffer::with_policy(contents.len(), Policy::STRICT)
        .unwrap_or_else(|e| panic!("the kernel has memfd_secret, yet a Policy::STRICT buffer failed: {e}"));
    buf.copy_from(contents).unwrap();
    Some(buf)
}

/// Where the kernel has `memfd_secret`, the default policy (which prefers it) must use it:
/// for a guarded buffer, seen in `/proc/self/maps` and by a failed read through
/// `/proc/self/mem`, and for a pooled secret in what it reports. Without this, every secret
/// could quietly fall back to anonymous pages and nothing else would notice.
#[test]
fn default_secrets_use_memfd_secret_where_the_kernel_has_it() {
    if !kernel_has_memfd_secret("default_secrets_use_memfd_secret_where_the_kernel_has_it") {
        return;
    }
    let buf = LockedBuffer::random(100).unwrap();
    assert!(buf.protections().secret_memory, "{:?}", buf.protections());
    let start = buf.address_range().start;
    let line = common::maps_line(start);
    assert!(line.contains("secretmem"), "a default buffer is not in a memfd_secret mapping: {line}");
    assert!(read_through_proc_mem(start).is_err(), "a default buffer was readable through /proc/self/mem");
    let pooled = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(7)).unwrap();
    assert!(pooled.protections().secret_memory, "a default pooled secret: {:?}", pooled.protections());
    // Control: an anonymous buffer's mapping is not named secretmem.
    let anon = LockedBuffer::with_policy(100, anonymous()).unwrap();
    let line = common::maps_line(anon.address_range().start);
    assert!(!line.contains("secretmem"), "{line}");
}

fn anonymous() -> Policy {
    Policy { secret_memory: Need::Off, ..Policy::default() }
}

#[test]
fn default_buffer_pages_are_locked_and_out_of_dumps_and_forks() {
    if common::skip_under_qemu(
        "default_buffer_pages_are_locked_and_out_of_dumps_and_forks",
        common::QEMU_IGNORES_MADVISE,
    ) {
        return;
    }
    let buf = LockedBuffer::random(100).unwrap();
    let (flags, locked_kib) = smaps(buf.address_range().start);
    let has = |f: &str| flags.iter().any(|x| x == f);
    assert!(has("lo"), "not locked: {flags:?}");
    assert!(locked_kib >= 4, "Locked: {locked_kib} kB");
    assert!(has("dd"), "not excluded from dumps: {flags:?}");
    assert!(has("wf") || has("dc"), "not excluded from forks: {flags:?}");
}

#[test]
fn anonymous_buffer_is_mlocked_dontdump_wipeonfork() {
    if common::skip_under_qemu("anonymous_buffer_is_mlocked_dontdump_wipeonfork", common::QEMU_IGNORES_MADVISE) {
        return;
    }
    let buf = LockedBuffer::with_policy(100, anonymous()).unwrap();
    let got = buf.protections();
    assert!(!got.secret_memory && got.locked && got.dump_excluded);
    assert_eq!(got.fork, ForkSafety::Wiped);
    let (flags, _) = smaps(buf.address_range().start);
    for f in ["lo", "dd", "wf"] {
        assert!(flags.iter().any(|x| x == f), "{f} missing: {flags:?}");
    }
}

#[test]
fn unlocked_policy_really_leaves_pages_unlocked() {
    // Control for the smaps checks above: with locking off, smaps must not say `lo`.
    let policy = Policy { lock: Need::Off, dump_exclusion: Need::Off, ..anonymous() };
    let buf = LockedBuffer::with_policy(100, policy).unwrap();
    assert!(!buf.protections().locked);
    let (flags, _) = smaps(buf.address_range().start);
    assert!(!flags.iter().any(|x| x == "lo" || x == "dd"), "{flags:?}");
}

#[test]
fn secret_memory_cannot_be_read_through_proc_self_mem() {
    let Some(buf) = strict_buffer("secret_memory_cannot_be_read_through_proc_self_mem", &[0x5c; 32]) else { return };
    let err = read_through_proc_mem(buf.address_range().start).expect_err("memfd_secret page was readable");
    assert_eq!(err.raw_os_error(), Some(5), "expected EIO, got {err}");
}

#[test]
fn anonymous_pages_are_readable_through_proc_self_mem() {
    // Control: the same read succeeds on locked anonymous pages, so the test above can fail.
    let mut buf = LockedBuffer::with_policy(32, anonymous()).unwrap();
    buf.copy_from(&[0x5c; 32]).unwrap();
    assert_eq!(read_through_proc_mem(buf.address_range().start).unwrap(), 0x5c);
}

fn filled(policy: Policy) -> LockedBuffer {
    let mut buf = LockedBuffer::with_policy(64, policy).unwrap();
    buf.copy_from(&[0xA5; 64]).unwrap();
    buf
}

#[test]
fn forked_child_sees_zeros_in_anonymous_secrets() {
    if common::skip_under_qemu("forked_child_sees_zeros_in_anonymous_secrets", common::QEMU_IGNORES_MADVISE) {
        return;
    }
    assert_eq!(observe_fork(filled(anonymous())).unwrap(), ForkView::Wiped);
}

#[test]
fn forked_child_has_no_mapping_for_secret_memory() {
    let Some(buf) = strict_buffer("forked_child_has_no_mapping_for_secret_memory", &[0xA5; 64]) else { return };
    assert_eq!(observe_fork(buf).unwrap(), ForkView::Unmapped);
}

#[test]
fn forked_child_inherits_secrets_when_fork_exclusion_is_off() {
    // Control: without the advice the child does see the secret.
    let policy = Policy { fork_exclusion: Need::Off, ..anonymous() };
    assert_eq!(observe_fork(filled(policy)).unwrap(), ForkView::Inherited);
}

/// Probing for `memfd_secret` and mapping secret memory leave no descriptor open: each
/// secret mapping's descriptor is closed once mapped, and so is the probe's. Run in a child,
/// so that the probe is the first (the process probes once).
#[test]
fn making_secrets_leaves_no_descriptor_open() {
    const TEST: &str = "making_secrets_leaves_no_descriptor_open";
    if common::is_child("fds") {
        let open_descriptors = || std::fs::read_dir("/proc/self/fd").unwrap().count();
        let before = open_descriptors();
        let guarded = LockedBuffer::random(64).unwrap();
        let pooled = strongroom::SecretBox::new(|k: &mut [u8; 32]| k.fill(1)).unwrap();
        assert_eq!(open_descriptors(), before, "secrets left descriptors open: {:?}", guarded.protections());
        drop((guarded, pooled));
        println!("fds done");
        return;
    }
    common::assert_finished(&common::run_child(TEST, "fds", &[]), "fds done");
}
