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
use crate::alloc::mapping::Mapping;
use crate::error::Result;
use crate::policy::{Need, Policy, Protections};
use crate::sys;

/// One secure stack: `len` bytes between two guard pages (an [`alloc::mapping::Mapping`]),
/// locked as the process-wide default [`Policy`] demands, out of dumps and forked children
/// where the OS can do that; unmapped on drop.
///
/// [`alloc::mapping::Mapping`]: crate::alloc::mapping::Mapping
struct SecureStack {
    mapping: Mapping,
}

impl SecureStack {
    /// The policy for a stack: never `memfd_secret` (see the module docs); locked as the
    /// default policy says (an unlocked stack could be swapped out with key material on it,
    /// so `Required` unless the caller chose otherwise, and then `protections()` tells);
    /// out of dumps and forks where possible, as for any stack.
    /// The KDF's stack follows the KDF's work memory instead: locked where the limit allows;
    /// so do the ML-KEM (64 KiB) and ML-DSA (256 KiB) stacks, which a 64 KiB
    /// `RLIMIT_MEMLOCK` cannot hold beside everything else; all are wiped after every call.
    fn policy(size: StackSize) -> Policy {
        let lock = match Policy::default().lock {
            Need::Required if size.lock_where_the_limit_allows() => Need::Preferred,
            lock => lock,
        };
        Policy { secret_memory: Need::Off, lock, dump_exclusion: Need::Preferred, fork_exclusion: Need::Preferred }
    }

    fn map(size: StackSize) -> Result<Self> {
        Ok(SecureStack { mapping: Mapping::map(size.bytes(), Self::policy(size))? })
    }

    /// The lowest address of the usable pages (a stack grows down towards it).
    fn inner(&self) -> NonNull<u8> {
        self.mapping.inner()
    }

    fn len(&self) -> usize {
        self.mapping.inner_len()
    }

    /// False in a forked child whose kernel withheld or wiped these pages.
    fn usable(&self) -> bool {
        !self.mapping.lost_to_fork()
    }
}

thread_local! {
    /// This thread's crypto stack, made on first use.
    static CRYPTO: RefCell<Option<SecureStack>> = const { RefCell::new(None) };
    /// This thread's KEM stack, made on first use.
    static KEM: RefCell<Option<SecureStack>> = const { RefCell::new(None) };
    /// This thread's ML-DSA stack, made on first use: mapping and locking 256 KiB costs
    /// 200 us, more than a whole ML-DSA-65 signature adds, so it is kept like the others.
    static SIGN: RefCell<Option<SecureStack>> = const { RefCell::new(None) };
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
    let kept = match size {
        StackSize::Crypto => Some(&CRYPTO),
        StackSize::Kem => Some(&KEM),
        StackSize::Sign => Some(&SIGN),
        StackSize::Run | StackSize::Kdf | StackSize::Bytes(_) => None,
    };
    match kept {
        Some(kept) => {
            let cached = kept.with(|slot| slot.borrow_mut().take());
            let stack = match cached {
                Some(stack) if stack.usable() => stack,
                // A forked child: the mapping's drop leaves the pages alone.
                Some(_lost) => SecureStack::map(size)?,
                None => SecureStack::map(size)?,
            };
            let result = switch_and_wipe(&stack, f);
            kept.with(|slot| *slot.borrow_mut() = Some(stack));
            result
        }
        None => {
            let stack = SecureStack::map(size)?;
            switch_and_wipe(&stack, f)
        }
    }
}

/// The protections of this thread's crypto stack, made now if it has none.
pub(super) fn crypto_stack_protections() -> Result<Protections> {
    let cached = CRYPTO.with(|slot| slot.borrow().as_ref().filter(|s| s.usable()).map(|s| s.mapping.protections()));
    match cached {
        Some(got) => Ok(got),
        None => {
            let stack = SecureStack::map(StackSize::Crypto)?;
            let got = stack.mapping.protections();
            CRYPTO.with(|slot| *slot.borrow_mut() = Some(stack));
            Ok(got)
        }
    }
}

fn switch_and_wipe<R>(stack: &SecureStack, f: impl FnOnce() -> R) -> Result<R> {
    let (bottom, len) = (stack.inner(), stack.len());
    let guarded = move || {
        ON_SECURE_STACK.with(|on| on.set(true));
        let outcome = panic::catch_unwind(AssertUnwindSafe(f));
        ON_SECURE_STACK.with(|on| on.set(false));
        outcome
    };
    // SAFETY: `bottom..bottom + len` are this stack's own read-write pages: page-aligned, whole, a guard page below
    // (overflow faults), used by this thread alone (`stack` is borrowed; the crypto stack is out of its slot for the
    // call). `guarded` never unwinds: catch_unwind turns a panic into a value.
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
        // that ran on them has returned, so nothing writes them while they are read.
        let untouched = unsafe { crate::testing::zeros_from(bottom.as_ptr(), len) };
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
            let b = run(StackSize::Run, || {
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
        let caught = std::panic::catch_unwind(|| run(StackSize::Run, || panic!("on the secure stack")));
        let message = caught.expect_err("the panic was resumed").downcast::<&str>().unwrap();
        assert_eq!(*message, "on the secure stack");
        assert_eq!(run(StackSize::Crypto, || 7).unwrap(), 7);
        assert_eq!(run(StackSize::Run, || 8).unwrap(), 8);
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
            (stack.inner().as_ptr().cast_const(), stack.len())
        });
        // SAFETY: the thread's crypto stack stays mapped while it sits in its slot, and no
        // call runs on it now.
        let bytes = unsafe { crate::testing::peek(start, len) };
        let dirty = bytes.iter().filter(|&&b| b != 0).count();
        assert_eq!(dirty, 0, "{dirty} non-zero bytes left on the secure stack");
    }
}
