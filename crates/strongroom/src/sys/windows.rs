//! Windows backend: VirtualAlloc / VirtualProtect / VirtualLock through windows-sys.
//!
//! Windows has no `memfd_secret`, no per-region core-dump exclusion and no `fork`; the
//! functions for those say so (`Unsupported`, `NoFork`) and the policy decides what that means.

use std::ffi::c_void;
use std::io;
use std::ptr::NonNull;
use std::sync::OnceLock;

use windows_sys::Win32::System::Memory::{
    MEM_COMMIT, MEM_RELEASE, MEM_RESERVE, PAGE_NOACCESS, PAGE_PROTECTION_FLAGS, PAGE_READONLY, PAGE_READWRITE,
    VirtualAlloc, VirtualFree, VirtualLock, VirtualProtect,
};
use windows_sys::Win32::System::SystemInformation::{GetSystemInfo, SYSTEM_INFO};

use super::{Access, Backing, ForkExclusion};

/// `ERROR_WORKING_SET_QUOTA`: VirtualLock is over the process's minimum working set.
const ERROR_WORKING_SET_QUOTA: i32 = 1453;

/// The allocation page size (`GetSystemInfo().dwPageSize`).
pub(crate) fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    *PAGE.get_or_init(|| {
        // SAFETY: SYSTEM_INFO is plain data; GetSystemInfo fills it and cannot fail.
        let mut info: SYSTEM_INFO = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a valid, writable SYSTEM_INFO.
        unsafe { GetSystemInfo(&mut info) };
        info.dwPageSize as usize
    })
}

/// Reserves `guard | inner | guard` as no-access and commits the inner pages read-write.
pub(crate) fn map_guarded(inner_len: usize, backing: Backing) -> io::Result<NonNull<u8>> {
    if backing == Backing::SecretMemory {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let page = page_size();
    let total = inner_len
        .checked_add(2 * page)
        .filter(|&t| t <= isize::MAX as usize)
        .ok_or_else(|| io::Error::from(io::ErrorKind::OutOfMemory))?;
    // SAFETY: reserving fresh address space at a system-chosen address aliases nothing.
    let base = unsafe { VirtualAlloc(std::ptr::null(), total, MEM_RESERVE, PAGE_NOACCESS) };
    let Some(base) = NonNull::new(base.cast::<u8>()) else {
        return Err(io::Error::last_os_error());
    };
    // SAFETY: the inner range lies inside the reservation just made.
    let inner = unsafe { base.as_ptr().add(page) };
    // SAFETY: committing pages of our own reservation.
    let committed = unsafe { VirtualAlloc(inner.cast::<c_void>(), inner_len, MEM_COMMIT, PAGE_READWRITE) };
    if committed.is_null() {
        let err = io::Error::last_os_error();
        // SAFETY: releasing the reservation we made above; nothing references it.
        unsafe { VirtualFree(base.as_ptr().cast(), 0, MEM_RELEASE) };
        return Err(err);
    }
    Ok(base)
}

/// Releases a region made by [`map_guarded`].
///
/// # Safety
/// `base` must be a live region from `map_guarded` that nothing uses afterwards.
pub(crate) unsafe fn unmap_guarded(base: NonNull<u8>, _inner_len: usize) {
    // SAFETY: the caller hands over a whole reservation; MEM_RELEASE with size 0 frees it.
    unsafe { VirtualFree(base.as_ptr().cast(), 0, MEM_RELEASE) };
}

/// Changes page protection (VirtualProtect).
///
/// # Safety
/// Whole committed pages of a region from `map_guarded`; no live reference may need an access
/// the new protection removes.
pub(crate) unsafe fn protect(ptr: NonNull<u8>, len: usize, access: Access) -> io::Result<()> {
    let flags: PAGE_PROTECTION_FLAGS = match access {
        Access::None => PAGE_NOACCESS,
        Access::Read => PAGE_READONLY,
        Access::ReadWrite => PAGE_READWRITE,
    };
    let mut old: PAGE_PROTECTION_FLAGS = 0;
    // SAFETY: the caller guarantees the range is whole pages of a region it mapped and that
    // no live reference needs an access this removes; `old` is a valid out-pointer.
    let ok = unsafe { VirtualProtect(ptr.as_ptr().cast(), len, flags, &mut old) };
    if ok != 0 { Ok(()) } else { Err(io::Error::last_os_error()) }
}

/// Locks pages into the working set (VirtualLock); over the quota the error has kind
/// [`io::ErrorKind::QuotaExceeded`].
///
/// # Safety
/// Committed pages owned by the caller.
pub(crate) unsafe fn lock(ptr: NonNull<u8>, len: usize) -> io::Result<()> {
    // SAFETY: the caller guarantees the range is committed pages it owns; locking them into
    // the working set changes no contents.
    if unsafe { VirtualLock(ptr.as_ptr().cast(), len) } != 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(ERROR_WORKING_SET_QUOTA) {
        Err(io::Error::new(io::ErrorKind::QuotaExceeded, format!("VirtualLock: {err}")))
    } else {
        Err(err)
    }
}

/// Windows has no per-region exclusion from crash dumps.
///
/// # Safety
/// None needed; kept `unsafe` to match the other backends.
pub(crate) unsafe fn exclude_from_dumps(_ptr: NonNull<u8>, _len: usize) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Windows has no `fork`.
///
/// # Safety
/// None needed; kept `unsafe` to match the other backends.
pub(crate) unsafe fn exclude_from_fork(_ptr: NonNull<u8>, _len: usize, _backing: Backing) -> io::Result<ForkExclusion> {
    Ok(ForkExclusion::NoFork)
}

pub(crate) fn fork_generation() -> u32 {
    0
}

pub(crate) fn secret_memory_available() -> bool {
    false
}

/// Windows limits locking by working-set size, not by a byte limit we can read here.
pub(crate) fn memlock_limit() -> Option<u64> {
    None
}
