//! The raw system-call floors: what a guarded allocation costs with nothing but the calls,
//! exactly as `../shared/baselines/bench_interleaved.c` measures them.

use std::ptr;

fn page() -> usize {
    // SAFETY: sysconf has no preconditions.
    unsafe { libc::sysconf(libc::_SC_PAGESIZE) as usize }
}

fn check(rc: i32, what: &str) {
    assert_eq!(rc, 0, "{what} failed: {}", std::io::Error::last_os_error());
}

/// mmap RW + mprotect both guards + mlock + MADV_DONTDUMP, then munlock + munmap: seven
/// calls, the anonymous floor (`FLOOR` in the C baseline).
pub fn anonymous(len: usize) {
    let pg = page();
    let data = len.div_ceil(pg).max(1) * pg;
    let total = data + 2 * pg;
    // SAFETY: every call operates on the fresh private mapping made here,
    // within its bounds, and the mapping is unmapped before returning.
    unsafe {
        let base = libc::mmap(
            ptr::null_mut(),
            total,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(base, libc::MAP_FAILED, "mmap failed");
        let b = base.cast::<u8>();
        check(libc::mprotect(base, pg, libc::PROT_NONE), "mprotect");
        check(libc::mprotect(b.add(pg + data).cast(), pg, libc::PROT_NONE), "mprotect");
        check(libc::mlock(b.add(pg).cast(), data), "mlock");
        check(libc::madvise(b.add(pg).cast(), data, libc::MADV_DONTDUMP), "madvise");
        b.add(pg).write_volatile(1);
        check(libc::munlock(b.add(pg).cast(), data), "munlock");
        check(libc::munmap(base, total), "munmap");
    }
}

/// Reserve PROT_NONE, memfd_secret + ftruncate + MAP_FIXED over the inner pages + close,
/// touch every page, munmap: the floor of a guarded `memfd_secret` allocation
/// (`memfd_secret guarded` in the C baseline).
pub fn secret_memory(len: usize) {
    let pg = page();
    let data = len.div_ceil(pg).max(1) * pg;
    let total = data + 2 * pg;
    // SAFETY: as above; the descriptor is ours and closed once.
    unsafe {
        let base = libc::mmap(ptr::null_mut(), total, libc::PROT_NONE, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0);
        assert_ne!(base, libc::MAP_FAILED, "mmap failed");
        let fd = libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC) as i32;
        assert!(fd >= 0, "memfd_secret failed");
        check(libc::ftruncate(fd, data as libc::off_t), "ftruncate");
        let inner = base.cast::<u8>().add(pg).cast();
        let p = libc::mmap(inner, data, libc::PROT_READ | libc::PROT_WRITE, libc::MAP_SHARED | libc::MAP_FIXED, fd, 0);
        assert_eq!(p, inner, "mmap of memfd_secret failed");
        check(libc::close(fd), "close");
        ptr::write_bytes(p.cast::<u8>(), 0, len.max(1));
        check(libc::munmap(base, total), "munmap");
    }
}

/// Whether `memfd_secret` works here.
pub fn secret_memory_available() -> bool {
    // SAFETY: creates and closes a descriptor.
    unsafe {
        let fd = libc::syscall(libc::SYS_memfd_secret, libc::O_CLOEXEC);
        if fd >= 0 {
            libc::close(fd as i32);
        }
        fd >= 0
    }
}
