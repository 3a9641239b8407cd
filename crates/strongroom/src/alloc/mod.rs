//! Allocation policies over [`crate::sys`]: where secret bytes live and how they are guarded.
//!
//! - [`guarded`]: one mapping per secret, guard pages on both sides, canary in front, data
//!   flush against the trailing guard, per-secret read-only / no-access toggles.
//! - [`region_cache`]: freed guarded regions, wiped and still protected, kept for reuse.
//!
//! This layer owns all raw pointers into secret memory and hands the layers above only safe
//! types with slice accessors. It never decides *what* a secret is.

pub(crate) mod canary;
pub(crate) mod guarded;
pub(crate) mod mapping;
pub(crate) mod pool;
pub(crate) mod region_cache;
pub(crate) mod secure_alloc;
pub(crate) mod stack;
pub(crate) mod strict;
pub(crate) mod tracked;

#[cfg(test)]
pub(crate) mod testing {
    //! Raw observation of protected memory for tests elsewhere in the crate, which may not
    //! hold unsafe code themselves.

    /// Copies `len` bytes at `ptr`, which must stay mapped (a live block, or a freed pool
    /// slot or cached region, which the allocator keeps mapped).
    pub(crate) fn peek(ptr: *const u8, len: usize) -> Vec<u8> {
        // SAFETY: callers pass memory the allocator keeps mapped and readable; reading a
        // freed-but-mapped slot races with nothing in these single-threaded checks.
        unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
    }
}

#[cfg(all(test, unix, not(miri)))]
mod fork_tests;
