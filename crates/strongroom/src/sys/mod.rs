//! The platform layer: the only code in strongroom that talks to the operating system.
//!
//! Everything here is about pages, not secrets: map a region between two guard pages, change
//! its protection, lock it, keep it out of core dumps and forked children, back it with
//! `memfd_secret`, and read the limits that govern all of that. Nothing here knows what a
//! secret, a canary or a buffer is, and nothing outside `sys` calls the OS.
//!
//! Besides the backends, two pieces of process-level machinery live here because they are
//! about the process, not about secrets: `fork.rs`, the fork generation (a `Stamp` for what
//! was made in which generation, and a `PerGeneration` singleton that a forked child makes
//! afresh), and `fence.rs`, an asymmetric fence pair (`membarrier` on Linux). `procfs.rs`
//! reads `/proc`, `tty.rs` the terminal.
//!
//! One backend is compiled in: `unix` (Linux and the BSDs, through rustix and libc),
//! `windows` (windows-sys), or `fallback` under Miri, which cannot make foreign calls: it
//! hands out heap memory and applies no protection, so that Miri can check the layers above.

use std::io;
use std::ptr::NonNull;

#[cfg(all(unix, not(miri)))]
mod unix;
#[cfg(all(unix, not(miri)))]
use unix as imp;

#[cfg(all(windows, not(miri)))]
mod windows;
#[cfg(all(windows, not(miri)))]
use windows as imp;

#[cfg(miri)]
mod fallback;
#[cfg(miri)]
use fallback as imp;

mod fence;
mod fork;
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) mod procfs;

#[cfg(all(unix, not(miri)))]
pub(crate) mod tty;

#[cfg(all(unix, not(miri)))]
pub(crate) use unix::{disable_core_dumps, fork_and_wait};
#[cfg(all(unix, not(miri)))]
pub(crate) use unix::{is_dumpable, lock_all_memory, resident_pages, set_not_dumpable};

pub(crate) use fence::AsymmetricFence;
pub(crate) use fork::{PerGeneration, Stamp};
pub(crate) use imp::{
    exclude_from_dumps, exclude_from_fork, lock, map_guarded, page_size, protect, secret_memory_available,
    unmap_guarded,
};

/// What backs the accessible pages of a guarded mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Backing {
    /// Private anonymous pages: the caller still has to lock them and keep them out of dumps.
    Anonymous,
    /// `memfd_secret(2)` pages: locked, out of dumps and out of the kernel's direct map.
    SecretMemory,
}

/// Page protection, the three states strongroom uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// Any access faults.
    None,
    /// Reads succeed, writes fault.
    Read,
    /// Reads and writes succeed.
    ReadWrite,
}

/// How a forked child sees memory that was marked with [`exclude_from_fork`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(any(not(target_os = "linux"), miri), allow(dead_code, reason = "each platform has only some of these"))]
pub(crate) enum ForkExclusion {
    /// The child gets zero-filled pages at the same address (`MADV_WIPEONFORK`).
    Wiped,
    /// The child has no mapping there at all (`MADV_DONTFORK`, `INHERIT_NONE`).
    Unmapped,
    /// The platform has no `fork`, so there is nothing to exclude from.
    #[cfg_attr(not(windows), allow(dead_code, reason = "only Windows lacks fork"))]
    NoFork,
}

/// The `RLIMIT_MEMLOCK` soft limit in bytes, `None` when unlimited or unknown.
pub(crate) fn memlock_limit() -> Option<u64> {
    imp::memlock_limit()
}

/// The `RLIMIT_CORE` soft limit in bytes, `None` when unlimited or unknown.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn core_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Core).current
}

/// Bytes of RAM this process may have: the machine's (`MemTotal`), or its cgroup's memory
/// limit if lower, where the OS says.
pub(crate) fn physical_memory() -> Option<u64> {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        let ram = procfs::meminfo_kib("MemTotal").map(|kib| kib * 1024);
        match (ram, procfs::cgroup_memory_limit()) {
            (Some(ram), Some(cgroup)) => Some(ram.min(cgroup)),
            (ram, cgroup) => ram.or(cgroup),
        }
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        None
    }
}

/// Bytes this process has locked right now (`VmLck`), where the OS says.
pub(crate) fn locked_bytes() -> Option<u64> {
    #[cfg(all(target_os = "linux", not(miri)))]
    {
        procfs::status_kib("VmLck").map(|kib| kib * 1024)
    }
    #[cfg(not(all(target_os = "linux", not(miri))))]
    {
        None
    }
}

/// True when an OS error from locking or from mapping secret memory means "over the
/// locked-memory limit" rather than a real failure.
/// (Every backend reports those as [`io::ErrorKind::QuotaExceeded`].)
pub(crate) fn is_lock_limit(err: &io::Error) -> bool {
    err.kind() == io::ErrorKind::QuotaExceeded
}

/// Fills `buf` from the operating system's CSPRNG.
pub(crate) fn fill_random(buf: &mut [u8]) -> io::Result<()> {
    getrandom::fill(buf).map_err(|e| io::Error::other(format!("getrandom failed: {e}")))
}

/// Overwrites `len` bytes at `ptr` with zeros in a way the optimiser may not remove.
///
/// `write_bytes` is the fast memset; the `black_box` afterwards makes the compiler assume the
/// zeroed bytes are read, so the stores are never dead, even right before an unmap.
///
/// # Safety
/// `ptr..ptr+len` must be writable memory that nothing else accesses during the call.
pub(crate) unsafe fn wipe(ptr: NonNull<u8>, len: usize) {
    // SAFETY: the caller guarantees the range is writable and exclusively ours.
    unsafe { ptr.as_ptr().write_bytes(0, len) };
    std::sync::atomic::compiler_fence(std::sync::atomic::Ordering::SeqCst);
    std::hint::black_box(ptr);
}

/// Writes `msg` straight to standard error and aborts the process.
///
/// Used when memory corruption is detected: the process can no longer be trusted to unwind,
/// so no destructor runs and no panic hook is consulted.
pub(crate) fn abort_with(msg: &str) -> ! {
    use std::io::Write;
    let mut err = io::stderr().lock();
    let _ = err.write_all(msg.as_bytes());
    let _ = err.write_all(b"\n");
    let _ = err.flush();
    std::process::abort()
}

/// Rounds `n` up to a multiple of `align` (a power of two), or `None` on overflow.
pub(crate) const fn round_up(n: usize, align: usize) -> Option<usize> {
    match n.checked_add(align - 1) {
        Some(v) => Some(v & !(align - 1)),
        None => None,
    }
}
