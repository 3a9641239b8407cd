//! Switching to a secure stack (through `psm`), and the stacks' own pages.
//!
//! ```text
//!   base                                                      base + page + len
//!   | guard page (PROT_NONE) | stack: locked, no dump, no fork | guard page (PROT_NONE) |
//!                            ^ lowest address: a call that goes deeper than `len` faults here
//! ```
//!
//! The stacks are anonymous pages, not `memfd_secret`: the kernel must be able to follow
//! pointers into a stack (futexes, `read` into a local buffer), which it cannot do with
//! secret memory.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::ptr::NonNull;

use super::StackSize;
use crate::error::{Error, Result};
use crate::sys::{self, Backing, ForkExclusion, Stamp};

/// One secure stack: `len` bytes between two guard pages; unmapped on drop.
struct SecureStack {
    /// Start of the leading guard page, the one a too-deep call runs into.
    base: NonNull<u8>,
    /// Bytes between the guard pages, a whole number of pages.
    len: usize,
    /// The fork generation it was mapped in.
    stamp: Stamp,
    /// Whether a forked child has no mapping here (`MADV_DONTFORK`); wiped-on-fork pages
    /// (`MADV_WIPEONFORK`, `INHERIT_ZERO`) stay usable in the child, as zeros.
    withheld_from_children: bool,
}

impl SecureStack {
    /// Maps a stack: locked (required: an unlocked stack could be swapped out with key
    /// material on it), out of dumps and forked children where the OS can do that.
    fn map(len: usize) -> Result<Self> {
        let base = sys::map_guarded(len, Backing::Anonymous).map_err(|e| Error::os("mmap", e))?;
        // From here on, dropping `stack` on an early return unmaps it.
        let mut stack = SecureStack { base, len, stamp: Stamp::now(), withheld_from_children: false };
        let inner = stack.inner();
        // SAFETY: `inner..inner + len` are the read-write pages between the guards of the
        // mapping made just above; `stack` owns them and nothing references them yet.
        // mlock changes no contents.
        unsafe { sys::lock(inner, len) }
            .map_err(|e| if sys::is_lock_limit(&e) { Error::lock_limit(len) } else { Error::os("mlock", e) })?;
        // SAFETY: `inner..inner + len` are the read-write pages of the mapping made above,
        // owned by `stack` and unreferenced; the advice changes no contents.
        let _ = unsafe { sys::exclude_from_dumps(inner, len) }; // preferred, as for any stack
        // SAFETY: `inner..inner + len` are the read-write pages of the mapping made above,
        // owned by `stack` and unreferenced; the advice changes no contents in this process.
        let fork = unsafe { sys::exclude_from_fork(inner, len, Backing::Anonymous) };
        stack.withheld_from_children = matches!(fork, Ok(ForkExclusion::Unmapped));
        Ok(stack)
    }

    /// The lowest address of the usable pages (a stack grows down towards it).
    fn inner(&self) -> NonNull<u8> {
        // SAFETY: the mapping is one guard page, `len` bytes, one guard page; one page past
        // its start is inside it.
        unsafe { self.base.add(sys::page_size()) }
    }

    /// False in a forked child whose kernel withheld these pages (nothing is mapped here).
    fn usable(&self) -> bool {
        self.stamp.is_current() || !self.withheld_from_children
    }
}

impl Drop for SecureStack {
    fn drop(&mut self) {
        if !self.usable() {
            // In a forked child the range is a hole that may hold someone else's mapping by
            // now: unmapping it could hurt. The child's exit releases it.
            return;
        }
        // SAFETY: `base`/`len` describe the region `map_guarded` returned in `map`, owned by
        // this stack; no call runs on it (a stack is only dropped while not switched to).
        unsafe { sys::unmap_guarded(self.base, self.len) };
    }
}

thread_local! {
    /// This thread's crypto stack, made on first use.
    static CRYPTO: RefCell<Option<SecureStack>> = const { RefCell::new(None) };
    /// Whether this thread is running on a secure stack now (nested calls run in place).
    static ON_SECURE_STACK: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` on a secure stack of `size` and wipes the stack afterwards. A panic in `f` is
/// caught on the secure stack and resumed after switching back.
pub(super) fn run<R>(size: StackSize, f: impl FnOnce() -> R) -> Result<R> {
    if ON_SECURE_STACK.with(Cell::get) {
        // Already on a secure stack: its wipe covers this call too.
        return Ok(f());
    }
    match size {
        StackSize::Crypto => {
            let cached = CRYPTO.with(|slot| slot.borrow_mut().take());
            let stack = match cached {
                Some(stack) if stack.usable() => stack,
                Some(lost) => {
                    std::mem::forget(lost); // see `Drop`: a withheld stack is not ours to unmap
                    SecureStack::map(size.bytes())?
                }
                None => SecureStack::map(size.bytes())?,
            };
            let result = switch_and_wipe(&stack, f);
            CRYPTO.with(|slot| *slot.borrow_mut() = Some(stack));
            result
        }
        StackSize::Large => {
            let stack = SecureStack::map(size.bytes())?;
            switch_and_wipe(&stack, f)
        }
    }
}

fn switch_and_wipe<R>(stack: &SecureStack, f: impl FnOnce() -> R) -> Result<R> {
    let (bottom, len) = (stack.inner(), stack.len);
    let guarded = move || {
        ON_SECURE_STACK.with(|on| on.set(true));
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        ON_SECURE_STACK.with(|on| on.set(false));
        outcome
    };
    // SAFETY: `bottom..bottom + len` are the stack's own read-write pages: page-aligned (more
    // than any target's stack alignment), a whole number of pages, with a guard page below
    // (a call that overflows faults instead of writing past the end), and used by this
    // thread alone (`stack` is borrowed here, and the crypto stack is taken out of its
    // thread-local slot for the call). `guarded` never unwinds: catch_unwind turns a panic
    // into a value.
    let outcome: std::thread::Result<R> = unsafe { psm::on_stack(bottom.as_ptr(), len, guarded) };
    #[cfg(test)]
    tests::record_depth(bottom, len);
    // SAFETY: we are back on the thread's own stack, so nothing runs on or points into the
    // secure stack's pages, which `stack` keeps mapped and writable for this call.
    unsafe { sys::wipe(bottom, len) };
    match outcome {
        Ok(value) => Ok(value),
        Err(payload) => resume(payload),
    }
}

fn resume<R>(payload: Box<dyn Any + Send>) -> R {
    panic::resume_unwind(payload)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;
    use std::ptr::NonNull;

    use super::*;

    thread_local! {
        /// How many bytes of its stack the last call on this thread touched.
        static DEPTH: Cell<usize> = const { Cell::new(0) };
    }

    /// Records how deep the call that just returned went: the stack is all zeros (wiped
    /// after the previous call, or fresh) below the deepest byte the call wrote.
    pub(super) fn record_depth(bottom: NonNull<u8>, len: usize) {
        // SAFETY: `bottom..bottom + len` are the stack's pages, mapped and readable; the call
        // that ran on them has returned, so nothing writes them during this copy.
        let bytes = unsafe { crate::testing::peek(bottom.as_ptr(), len) };
        let untouched = bytes.iter().take_while(|&&b| b == 0).count();
        DEPTH.with(|d| d.set(len - untouched));
    }

    /// Bytes of stack the last secure-stack call on this thread touched.
    pub(crate) fn last_depth() -> usize {
        DEPTH.with(Cell::get)
    }

    #[test]
    fn runs_on_a_different_stack_and_returns_the_value() {
        let local = std::hint::black_box(0u8);
        let here = &local as *const u8 as usize;
        let (there, value) = run(StackSize::Crypto, || {
            let local = std::hint::black_box(0u8);
            (&local as *const u8 as usize, 42)
        })
        .unwrap();
        assert_eq!(value, 42);
        assert!(there.abs_diff(here) > 64 * 1024, "the closure ran on the thread's own stack");
    }

    #[test]
    fn nested_calls_stay_on_the_secure_stack() {
        let outer = run(StackSize::Crypto, || {
            let local = std::hint::black_box(0u8);
            let a = &local as *const u8 as usize;
            let b = run(StackSize::Large, || {
                let local = std::hint::black_box(0u8);
                &local as *const u8 as usize
            })
            .unwrap();
            a.abs_diff(b)
        })
        .unwrap();
        assert!(outer < 4 * 1024, "the inner call switched stacks again");
    }

    #[test]
    fn a_panic_crosses_back_and_the_stack_is_reusable() {
        // Panics are for the large stack (a backtrace needs about 20 KiB).
        let caught = std::panic::catch_unwind(|| run(StackSize::Large, || panic!("on the secure stack")));
        let message = caught.expect_err("the panic was resumed").downcast::<&str>().unwrap();
        assert_eq!(*message, "on the secure stack");
        assert_eq!(run(StackSize::Crypto, || 7).unwrap(), 7);
        assert_eq!(run(StackSize::Large, || 8).unwrap(), 8);
    }

    #[test]
    fn the_stack_is_wiped_after_each_call() {
        // The array is built on the secure stack; without the wipe its bytes would remain.
        let copied = run(StackSize::Crypto, || std::hint::black_box([0xC7u8; 256])).unwrap();
        assert_eq!(copied[0], 0xC7);
        assert!(last_depth() >= 256, "the call left {} bytes before the wipe", last_depth());
        let (start, len) = CRYPTO.with(|s| {
            let stack = s.borrow();
            let stack = stack.as_ref().expect("the thread keeps its crypto stack");
            (stack.inner().as_ptr().cast_const(), stack.len)
        });
        // SAFETY: the thread's crypto stack stays mapped while it sits in its slot, and no
        // call runs on it now.
        let bytes = unsafe { crate::testing::peek(start, len) };
        let dirty = bytes.iter().filter(|&&b| b != 0).count();
        assert_eq!(dirty, 0, "{dirty} non-zero bytes left on the secure stack");
    }
}
