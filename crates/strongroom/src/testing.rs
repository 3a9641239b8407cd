//! Raw observation of protected memory for the crate's unit tests: proof that freed or
//! shrunk memory was wiped needs a look at bytes no safe handle reaches any more.

/// Copies `len` bytes at `ptr`.
///
/// # Safety
/// `ptr..ptr + len` must be mapped and readable for the whole call (a live block, or a
/// freed pool slot or cached region, which the allocator keeps mapped), and nothing may
/// write it concurrently (the tests that call this are single-threaded over that memory).
pub(crate) unsafe fn peek(ptr: *const u8, len: usize) -> Vec<u8> {
    // SAFETY: the caller guarantees the range is mapped, readable and not written meanwhile;
    // the slice lives only until `to_vec` has copied it.
    unsafe { std::slice::from_raw_parts(ptr, len) }.to_vec()
}
