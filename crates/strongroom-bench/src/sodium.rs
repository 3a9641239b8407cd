//! libsodium's `sodium_malloc` / `sodium_free` (guard pages, canary, mlock, MADV_DONTDUMP).

use std::ffi::c_void;
use std::sync::Once;

// SAFETY: these declarations copy their C prototypes from libsodium's <sodium/utils.h> (the system
// library the bench links); the benches call each one with buffers of the lengths passed.
unsafe extern "C" {
    fn sodium_init() -> i32;
    fn sodium_malloc(size: usize) -> *mut c_void;
    fn sodium_free(ptr: *mut c_void);
}

fn init() {
    static INIT: Once = Once::new();
    // SAFETY: sodium_init is thread-safe and idempotent.
    INIT.call_once(|| assert!(unsafe { sodium_init() } >= 0, "sodium_init failed"));
}

/// One `sodium_malloc(len)` followed by `sodium_free`, touching the first byte in between.
pub fn alloc_free(len: usize) {
    init();
    // SAFETY: sodium_malloc returns null or a writable block of `len` bytes.
    let p = unsafe { sodium_malloc(len) }.cast::<u8>();
    assert!(!p.is_null(), "sodium_malloc({len}) failed");
    if len > 0 {
        // SAFETY: `p` points at `len >= 1` writable bytes.
        unsafe { p.write_volatile(1) };
    }
    // SAFETY: `p` came from sodium_malloc and is freed once.
    unsafe { sodium_free(p.cast()) };
}

/// `sodium_malloc(len)`, `f` on the block, `sodium_free`.
pub fn with_block<R>(len: usize, f: impl FnOnce(&mut [u8]) -> R) -> R {
    init();
    // SAFETY: sodium_malloc returns null or a writable block of `len` bytes.
    let p = unsafe { sodium_malloc(len) }.cast::<u8>();
    assert!(!p.is_null(), "sodium_malloc({len}) failed");
    // SAFETY: `p` points at `len` writable bytes, borrowed only for `f`.
    let r = f(unsafe { std::slice::from_raw_parts_mut(p, len) });
    // SAFETY: `p` came from sodium_malloc and is freed once.
    unsafe { sodium_free(p.cast()) };
    r
}
