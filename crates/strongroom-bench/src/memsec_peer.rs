//! memsec's guarded allocator (`memsec::malloc_sized` / `memsec::free`, libsodium's layout
//! reimplemented in Rust: guard pages, canary, mlock).

/// One `malloc_sized(len)` + `free`, touching the first byte.
pub fn alloc_free(len: usize) {
    // SAFETY: memsec returns None or a block of `len` writable bytes.
    let block = unsafe { memsec::malloc_sized(len) }.expect("memsec::malloc_sized failed");
    // SAFETY: the block has `len >= 1` writable bytes.
    unsafe { block.cast::<u8>().as_ptr().write_volatile(1) };
    // SAFETY: the block came from memsec::malloc_sized and is freed once.
    unsafe { memsec::free(block) };
}
