//! OpenSSL's secure heap: `CRYPTO_secure_malloc` / `CRYPTO_secure_free` from one locked,
//! guarded arena behind one global lock (the one pooled peer).

use std::ffi::{c_char, c_int, c_void};
use std::sync::Once;

// SAFETY: these declarations copy their C prototypes from OpenSSL's <openssl/crypto.h> (the system
// library the bench links); the benches call each one with buffers of the lengths passed.
unsafe extern "C" {
    fn CRYPTO_secure_malloc_init(size: usize, min_size: usize) -> c_int;
    fn CRYPTO_secure_malloc(num: usize, file: *const c_char, line: c_int) -> *mut c_void;
    fn CRYPTO_secure_free(ptr: *mut c_void, file: *const c_char, line: c_int);
}

/// Initialises a 32 MiB secure heap once (the C baseline's size).
pub fn init() {
    static INIT: Once = Once::new();
    // SAFETY: called once, before any allocation from the secure heap.
    INIT.call_once(|| assert_eq!(unsafe { CRYPTO_secure_malloc_init(32 << 20, 32) }, 1, "secure heap init failed"));
}

/// One `CRYPTO_secure_malloc(len)` + `CRYPTO_secure_free`, touching the first byte.
pub fn alloc_free(len: usize) {
    init();
    let file = c"bench".as_ptr();
    // SAFETY: the heap is initialised; the call returns null or `len` writable bytes.
    let p = unsafe { CRYPTO_secure_malloc(len, file, 0) }.cast::<u8>();
    assert!(!p.is_null(), "CRYPTO_secure_malloc({len}) failed");
    // SAFETY: `p` points at `len >= 1` writable bytes.
    unsafe { p.write_volatile(1) };
    // SAFETY: `p` came from CRYPTO_secure_malloc and is freed once.
    unsafe { CRYPTO_secure_free(p.cast(), file, 0) };
}

/// A block held in the secure heap until dropped: with one held, the buddy tree above it
/// stays split, so a further small malloc/free does not split and merge all the way from the
/// top (compare `alloc_free` on an otherwise empty heap).
pub struct Block(*mut c_void);

impl Block {
    /// `CRYPTO_secure_malloc(len)`, held until drop.
    pub fn new(len: usize) -> Self {
        init();
        // SAFETY: the heap is initialised; the call returns null or `len` writable bytes.
        let p = unsafe { CRYPTO_secure_malloc(len, c"bench".as_ptr(), 0) };
        assert!(!p.is_null(), "CRYPTO_secure_malloc({len}) failed");
        Block(p)
    }
}

impl Drop for Block {
    fn drop(&mut self) {
        // SAFETY: the pointer came from CRYPTO_secure_malloc and is freed once, here.
        unsafe { CRYPTO_secure_free(self.0, c"bench".as_ptr(), 0) };
    }
}
