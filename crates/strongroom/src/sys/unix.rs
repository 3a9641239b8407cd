//! Unix backend: mmap/mprotect/mlock/madvise through rustix; `memfd_secret(2)` and
//! `pthread_atfork(3)`, which rustix does not wrap, through libc.

use std::ffi::c_void;
use std::io;
use std::ptr::{self, NonNull};
use std::sync::Once;
use std::sync::atomic::{AtomicU32, Ordering};

use rustix::mm::{self, MapFlags, MprotectFlags, ProtFlags};

use super::{Access, Backing, ForkExclusion};

/// The system page size (`sysconf(_SC_PAGESIZE)`, read once from the aux vector).
pub(crate) fn page_size() -> usize {
    rustix::param::page_size()
}

/// Maps `guard page | inner_len bytes | guard page` and returns the address of the leading
/// guard. The guards are `PROT_NONE`; the inner pages are read-write and backed as asked.
/// On failure nothing stays mapped.
///
/// See mmap(2), mprotect(2), memfd_secret(2).
pub(crate) fn map_guarded(inner_len: usize, backing: Backing) -> io::Result<NonNull<u8>> {
    let page = page_size();
    let total = inner_len
        .checked_add(2 * page)
        .filter(|&t| t <= isize::MAX as usize)
        .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
    // SAFETY: a new private mapping at an address the kernel chooses aliases no existing
    // memory; PROT_NONE means nothing can touch it until we say so.
    let base = unsafe { mm::mmap_anonymous(ptr::null_mut(), total, ProtFlags::empty(), MapFlags::PRIVATE) }?;
    // SAFETY: `page` is within the `total`-byte mapping just created.
    let inner = unsafe { base.cast::<u8>().add(page) }.cast::<c_void>();
    let result = match backing {
        // SAFETY: `inner..inner+inner_len` lies inside our fresh reservation, which no
        // reference points into yet.
        Backing::Anonymous => unsafe { mm::mprotect(inner, inner_len, MprotectFlags::READ | MprotectFlags::WRITE) }
            .map_err(|e| Failure::kept(e.into())),
        // SAFETY: `inner..inner+inner_len` lies inside our fresh reservation, which no
        // reference points into yet; `map_secret_into` only replaces pages of that range.
        Backing::SecretMemory => unsafe { map_secret_into(inner, inner_len) },
    };
    match result {
        Ok(()) => Ok(NonNull::new(base.cast()).expect("mmap never returns null on success")),
        Err(failure) => {
            if failure.hole_lost {
                // Somebody else mapped into the inner hole while it was open: unmap only our
                // two guard pages and leave their mapping alone.
                // SAFETY: the two guard pages are ours and unreferenced.
                unsafe {
                    let _ = mm::munmap(base, page);
                    let _ = mm::munmap(inner.cast::<u8>().add(inner_len).cast(), page);
                }
            } else {
                // SAFETY: the whole reservation is ours and nothing references it.
                unsafe {
                    let _ = mm::munmap(base, total);
                }
            }
            Err(failure.error)
        }
    }
}

/// Unmaps a region made by [`map_guarded`].
///
/// # Safety
/// `base`/`inner_len` must describe a live region from `map_guarded`, and nothing may use it
/// afterwards.
pub(crate) unsafe fn unmap_guarded(base: NonNull<u8>, inner_len: usize) {
    let total = inner_len + 2 * page_size();
    // SAFETY: the caller hands over a region this module mapped, which nobody uses any more.
    // munmap also drops any mlock on the pages.
    let result = unsafe { mm::munmap(base.as_ptr().cast(), total) };
    debug_assert!(result.is_ok(), "munmap of a region we mapped failed: {result:?}");
}

/// A failed secret mapping, and whether the inner range of the reservation is still ours.
struct Failure {
    error: io::Error,
    hole_lost: bool,
}

impl Failure {
    fn kept(error: io::Error) -> Self {
        Failure { error, hole_lost: false }
    }
}

/// Replaces the reserved pages at `inner` with `memfd_secret` pages.
///
/// A `MAP_FIXED` over the reservation could, on kernels before 6.12, leave the range unmapped
/// when the mapping fails (for instance over the memlock limit), and a later munmap of the
/// whole region could then remove a stranger's mapping. So the hole is opened explicitly and
/// filled with `MAP_FIXED_NOREPLACE`, which never replaces anything.
///
/// # Safety
/// `inner..inner+len` must be part of a reservation made by `map_guarded` that nothing
/// references.
#[cfg(target_os = "linux")]
unsafe fn map_secret_into(inner: *mut c_void, len: usize) -> Result<(), Failure> {
    use std::os::fd::{FromRawFd, OwnedFd};

    // SAFETY: memfd_secret takes one flags word and returns a new descriptor or -1.
    let raw = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC) };
    if raw < 0 {
        return Err(Failure::kept(io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor to us; nobody else owns it.
    let fd = unsafe { OwnedFd::from_raw_fd(raw as i32) };
    rustix::fs::ftruncate(&fd, len as u64).map_err(|e| Failure::kept(e.into()))?;

    // SAFETY: the range is our own unreferenced reservation.
    unsafe { mm::munmap(inner, len) }.map_err(|e| Failure::kept(e.into()))?;
    let flags = MapFlags::SHARED | MapFlags::FIXED_NOREPLACE;
    // SAFETY: NOREPLACE maps only into the hole we just opened, or fails.
    let mapped = unsafe { mm::mmap(inner, len, ProtFlags::READ | ProtFlags::WRITE, flags, &fd, 0) };
    let error = match mapped {
        Ok(p) if p == inner => return Ok(()),
        Ok(elsewhere) => {
            // A kernel older than 4.17 took NOREPLACE as a hint and put the pages elsewhere.
            // SAFETY: that mapping was created just now and is referenced by nobody.
            unsafe {
                let _ = mm::munmap(elsewhere, len);
            }
            io::Error::from(io::ErrorKind::Unsupported)
        }
        // The kernel counts secret memory against RLIMIT_MEMLOCK and says EAGAIN when over.
        Err(rustix::io::Errno::AGAIN) => lock_limit_error("memfd_secret mmap", rustix::io::Errno::AGAIN),
        Err(e) => e.into(),
    };
    // Close the hole again so the reservation is whole for the caller to unmap.
    let reserve = ProtFlags::empty();
    let anon = MapFlags::PRIVATE | MapFlags::FIXED_NOREPLACE;
    // SAFETY: NOREPLACE only fills the hole; if something else took it, this fails instead.
    let refilled = unsafe { mm::mmap_anonymous(inner, len, reserve, anon) };
    Err(Failure { error, hole_lost: !matches!(refilled, Ok(p) if p == inner) })
}

#[cfg(not(target_os = "linux"))]
unsafe fn map_secret_into(_inner: *mut c_void, _len: usize) -> Result<(), Failure> {
    Err(Failure::kept(io::Error::from(io::ErrorKind::Unsupported)))
}

/// Whether `memfd_secret(2)` works here (Linux ≥ 5.14, and enabled: before 6.5 it needs the
/// `secretmem.enable=1` boot parameter). Probed once by creating and closing a descriptor.
pub(crate) fn secret_memory_available() -> bool {
    #[cfg(target_os = "linux")]
    {
        static AVAILABLE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            // SAFETY: memfd_secret takes only flags and touches no memory of ours; the
            // descriptor it returns is closed at once.
            let raw = unsafe { libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC) };
            if raw >= 0 {
                // SAFETY: we own the descriptor the kernel just returned.
                unsafe { libc::close(raw as i32) };
            }
            raw >= 0
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Changes the protection of whole pages (mprotect(2)).
///
/// # Safety
/// The range must be whole pages of a region from `map_guarded`, and no live Rust reference
/// into it may need an access the new protection removes.
pub(crate) unsafe fn protect(ptr: NonNull<u8>, len: usize, access: Access) -> io::Result<()> {
    let flags = match access {
        Access::None => MprotectFlags::empty(),
        Access::Read => MprotectFlags::READ,
        Access::ReadWrite => MprotectFlags::READ | MprotectFlags::WRITE,
    };
    // SAFETY: the caller guarantees the range is whole pages of a region from
    // `map_guarded` (so mprotect affects no other mapping) and that no live reference into
    // it needs an access this protection removes.
    unsafe { mm::mprotect(ptr.as_ptr().cast(), len, flags) }.map_err(Into::into)
}

/// Locks pages into RAM (mlock(2)). Over `RLIMIT_MEMLOCK` the error has kind
/// [`io::ErrorKind::QuotaExceeded`].
///
/// # Safety
/// The range must be mapped pages owned by the caller.
pub(crate) unsafe fn lock(ptr: NonNull<u8>, len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees the range is mapped pages it owns; mlock does not change their contents.
    match unsafe { mm::mlock(ptr.as_ptr().cast(), len) } {
        Ok(()) => Ok(()),
        // ENOMEM: over the limit; EPERM: the limit is 0 and we lack CAP_IPC_LOCK;
        // EAGAIN: some pages could not be locked.
        Err(e @ (rustix::io::Errno::NOMEM | rustix::io::Errno::PERM | rustix::io::Errno::AGAIN)) => {
            Err(lock_limit_error("mlock", e))
        }
        Err(e) => Err(e.into()),
    }
}

fn lock_limit_error(op: &str, errno: rustix::io::Errno) -> io::Error {
    io::Error::new(io::ErrorKind::QuotaExceeded, format!("{op}: {}", io::Error::from(errno)))
}

/// Keeps pages out of core dumps: `MADV_DONTDUMP` on Linux, `MADV_NOCORE` on FreeBSD.
///
/// # Safety
/// The range must be mapped pages owned by the caller.
pub(crate) unsafe fn exclude_from_dumps(ptr: NonNull<u8>, len: usize) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: the caller guarantees the range is mapped pages it owns; the advice changes no contents.
        unsafe { mm::madvise(ptr.as_ptr().cast(), len, mm::Advice::LinuxDontDump) }.map_err(Into::into)
    }
    #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
    {
        // SAFETY: the caller guarantees the range is mapped pages it owns; the advice changes no contents.
        let rc = unsafe { libc::madvise(ptr.as_ptr().cast(), len, libc::MADV_NOCORE) };
        if rc == 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd", target_os = "dragonfly")))]
    {
        let _ = (ptr, len);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Keeps pages away from forked children: `MADV_WIPEONFORK` for private anonymous pages (the
/// child sees zeros), else `MADV_DONTFORK` (the child has no mapping); `minherit` on FreeBSD.
///
/// # Safety
/// The range must be mapped pages owned by the caller.
pub(crate) unsafe fn exclude_from_fork(ptr: NonNull<u8>, len: usize, backing: Backing) -> io::Result<ForkExclusion> {
    fork_generation(); // make sure the child-side handler is registered before any fork
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        let addr = ptr.as_ptr().cast();
        if backing == Backing::Anonymous {
            // SAFETY: the caller guarantees the range is mapped pages it owns; the advice changes no contents in this process.
            match unsafe { mm::madvise(addr, len, mm::Advice::LinuxWipeOnFork) } {
                Ok(()) => return Ok(ForkExclusion::Wiped),
                Err(rustix::io::Errno::INVAL) => {} // before Linux 4.14: fall back to DONTFORK
                Err(e) => return Err(e.into()),
            }
        }
        // Shared mappings (memfd_secret) cannot be wiped on fork, only withheld.
        // SAFETY: the caller guarantees the range is mapped pages it owns; the advice changes no contents in this process.
        unsafe { mm::madvise(addr, len, mm::Advice::LinuxDontFork) }?;
        Ok(ForkExclusion::Unmapped)
    }
    #[cfg(target_os = "freebsd")]
    {
        let _ = backing;
        // SAFETY: the caller guarantees the range is mapped pages it owns; minherit changes no contents in this process.
        let rc = unsafe { libc::minherit(ptr.as_ptr().cast(), len, libc::INHERIT_ZERO) };
        if rc == 0 { Ok(ForkExclusion::Wiped) } else { Err(io::Error::last_os_error()) }
    }
    #[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
    {
        let _ = (ptr, len, backing);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

static FORK_GENERATION: AtomicU32 = AtomicU32::new(0);

extern "C" fn after_fork_in_child() {
    // Async-signal-safe: a single atomic add, no allocation, no locks.
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// A counter that a `pthread_atfork` child handler increments: memory recorded under an
/// older generation was wiped or withheld by the kernel at `fork`, so its owner must neither
/// check its canary nor hand it out again.
#[inline]
pub(crate) fn fork_generation() -> u32 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: registers a plain `extern "C" fn()` that stays valid for the whole program.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
        assert_eq!(rc, 0, "pthread_atfork failed");
    });
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// The `RLIMIT_MEMLOCK` soft limit, `None` when unlimited.
pub(crate) fn memlock_limit() -> Option<u64> {
    rustix::process::getrlimit(rustix::process::Resource::Memlock).current
}

/// Sets `RLIMIT_CORE` to 0 for this process: a crash writes no core file at all.
pub(crate) fn disable_core_dumps() -> io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    setrlimit(Resource::Core, Rlimit { current: Some(0), maximum: Some(0) }).map_err(Into::into)
}

/// Which of the pages of `ptr..ptr + len` (page-aligned) are resident in RAM (`mincore`):
/// one flag per page. Pages never touched are not, and reading or writing them would fault
/// them in.
///
/// # Safety
/// The range must be whole pages of a mapping the caller owns.
pub(crate) unsafe fn resident_pages(ptr: NonNull<u8>, len: usize) -> io::Result<Vec<bool>> {
    let pages = len.div_ceil(page_size());
    let mut flags = vec![0u8; pages];
    // SAFETY: the caller guarantees the range is mapped pages it owns (mincore only reads the
    // page tables); `flags` has one byte per page of the range, as mincore writes.
    let rc = unsafe { libc::mincore(ptr.as_ptr().cast(), len, flags.as_mut_ptr().cast()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(flags.iter().map(|f| f & 1 != 0).collect())
}

/// Makes the process non-dumpable (`PR_SET_DUMPABLE` 0): other processes of the same user
/// can no longer ptrace it or open its `/proc/PID/mem`, and the kernel writes no core file
/// of it (root still can do all of these).
pub(crate) fn set_not_dumpable() -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, set_dumpable_behavior};
        set_dumpable_behavior(DumpableBehavior::NotDumpable).map_err(Into::into)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// Whether the process is dumpable (`PR_GET_DUMPABLE`), where the OS says.
pub(crate) fn is_dumpable() -> Option<bool> {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        use rustix::process::{DumpableBehavior, dumpable_behavior};
        dumpable_behavior().ok().map(|d| d != DumpableBehavior::NotDumpable)
    }
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    {
        None
    }
}

/// Locks every page of the process, now and in future, as it is first touched
/// (`mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`): nothing it holds reaches swap.
/// Every later mapping then counts against `RLIMIT_MEMLOCK`.
pub(crate) fn lock_all_memory() -> io::Result<()> {
    use rustix::mm::{MlockAllFlags, mlockall};
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let flags = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE | MlockAllFlags::ONFAULT;
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let flags = MlockAllFlags::CURRENT | MlockAllFlags::FUTURE;
    mlockall(flags).map_err(Into::into)
}

/// Forks, runs `child` in the child and `_exit`s with its return value; the parent waits
/// and returns how the child ended.
///
/// # Safety
/// The parent may have other threads, so `child` must stay async-signal-safe in practice:
/// no locks another thread might hold, no allocation, no I/O through std's locked handles.
pub(crate) unsafe fn fork_and_wait(child: impl FnOnce() -> i32) -> io::Result<std::process::ExitStatus> {
    use std::os::unix::process::ExitStatusExt;
    // SAFETY: the child runs only `child` (async-signal-safe by contract) and then `_exit`.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        let code = child();
        // SAFETY: `_exit` ends the child without running the parent's atexit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    loop {
        // SAFETY: waits for our own child; `status` is a valid out-pointer.
        if unsafe { libc::waitpid(pid, &mut status, 0) } == pid {
            return Ok(std::process::ExitStatus::from_raw(status));
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}
