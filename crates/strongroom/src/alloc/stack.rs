//! Secure stacks: locked, no-dump, wipe-on-fork pages with a guard page below, that a closure
//! runs on (through `psm`) and that are wiped after every call, so key material and cipher
//! state never sit on the thread's ordinary stack.
//!
//! Two sizes: a small stack each thread keeps for the crypto calls (wiping 32 KiB costs a
//! few hundred nanoseconds), and a large one mapped per call for heavy work such as a KDF.
//! The stacks are anonymous pages, not `memfd_secret`: the kernel must be able to follow
//! pointers into a stack (futexes, `read` into a local buffer), which it cannot do with
//! secret memory.

#[cfg(all(unix, not(miri)))]
pub(crate) use switching::run;

/// Whether closures really run on a secure stack here: on Unix, yes; elsewhere (Windows, where
/// `psm` cannot switch stacks, and under Miri) they run on the thread's own stack.
pub(crate) const AVAILABLE: bool = cfg!(all(unix, not(miri)));

/// How much stack a closure gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StackSize {
    /// 32 KiB, kept per thread: AEAD, hashing, key handling (a panic with a full backtrace
    /// needs about 20 KiB, so less would turn a panic into a stack overflow).
    Small,
    /// 256 KiB, mapped for the call: key derivation and other deep work.
    Large,
}

impl StackSize {
    #[cfg_attr(any(not(unix), miri), allow(dead_code, reason = "closures run in place there"))]
    fn bytes(self) -> usize {
        match self {
            StackSize::Small => 32 * 1024,
            StackSize::Large => 256 * 1024,
        }
    }
}

/// Where stacks cannot be switched (Windows; Miri, which checks the layers above), closures
/// run in place: [`AVAILABLE`] says so, and the public docs too.
#[cfg(any(not(unix), miri))]
pub(crate) fn run<R>(_size: StackSize, f: impl FnOnce() -> R) -> crate::error::Result<R> {
    Ok(f())
}

#[cfg(all(unix, not(miri)))]
mod switching {
    use std::any::Any;
    use std::cell::{Cell, RefCell};
    use std::panic::{self, AssertUnwindSafe};

    use super::super::mapping::Mapping;
    use super::StackSize;
    use crate::error::Result;
    use crate::policy::{Need, Policy};
    use crate::sys;

    /// Locked and out of dumps and forks, required; never `memfd_secret` (see the module docs).
    const STACK_POLICY: Policy = Policy {
        secret_memory: Need::Off,
        lock: Need::Required,
        dump_exclusion: Need::Preferred,
        fork_exclusion: Need::Preferred,
    };

    thread_local! {
        /// This thread's small stack, made on first use.
        static SMALL: RefCell<Option<Mapping>> = const { RefCell::new(None) };
        /// Whether this thread is running on a secure stack now (nested calls run in place).
        static ON_SECURE_STACK: Cell<bool> = const { Cell::new(false) };
    }

    /// Runs `f` on a secure stack of `size` and wipes the stack afterwards. A panic in `f` is
    /// caught on the secure stack and resumed after switching back.
    pub(crate) fn run<R>(size: StackSize, f: impl FnOnce() -> R) -> Result<R> {
        if ON_SECURE_STACK.with(Cell::get) {
            // Already on a secure stack: its wipe covers this call too.
            return Ok(f());
        }
        match size {
            StackSize::Small => {
                let cached = SMALL.with(|slot| slot.borrow_mut().take());
                let stack = match cached {
                    Some(stack) => stack,
                    None => Mapping::map(size.bytes(), STACK_POLICY)?,
                };
                let result = switch_and_wipe(&stack, f);
                SMALL.with(|slot| *slot.borrow_mut() = Some(stack));
                result
            }
            StackSize::Large => {
                let stack = Mapping::map(size.bytes(), STACK_POLICY)?;
                switch_and_wipe(&stack, f)
            }
        }
    }

    fn switch_and_wipe<R>(stack: &Mapping, f: impl FnOnce() -> R) -> Result<R> {
        let base = stack.inner();
        let len = stack.inner_len();
        let guarded = move || {
            ON_SECURE_STACK.with(|on| on.set(true));
            let outcome = panic::catch_unwind(AssertUnwindSafe(f));
            ON_SECURE_STACK.with(|on| on.set(false));
            outcome
        };
        // The stack is the mapping's inner pages: page-aligned (more than any target's stack
        // alignment), writable, a page multiple, and used by this thread alone.
        // SAFETY: as above; `guarded` never unwinds, catch_unwind turns a panic into a value.
        let outcome: std::thread::Result<R> = unsafe { psm::on_stack(base.as_ptr(), len, guarded) };
        // SAFETY: we are back on the thread's own stack; nothing references the secure stack.
        unsafe { sys::wipe(base, len) };
        match outcome {
            Ok(value) => Ok(value),
            Err(payload) => resume(payload),
        }
    }

    fn resume<R>(payload: Box<dyn Any + Send>) -> R {
        panic::resume_unwind(payload)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn runs_on_a_different_stack_and_returns_the_value() {
            let local = std::hint::black_box(0u8);
            let here = &local as *const u8 as usize;
            let (there, value) = run(StackSize::Small, || {
                let local = std::hint::black_box(0u8);
                (&local as *const u8 as usize, 42)
            })
            .unwrap();
            assert_eq!(value, 42);
            assert!(there.abs_diff(here) > 64 * 1024, "the closure ran on the thread's own stack");
        }

        #[test]
        fn nested_calls_stay_on_the_secure_stack() {
            let outer = run(StackSize::Small, || {
                let local = std::hint::black_box(0u8);
                let a = &local as *const u8 as usize;
                let b = run(StackSize::Small, || {
                    let local = std::hint::black_box(0u8);
                    &local as *const u8 as usize
                })
                .unwrap();
                a.abs_diff(b)
            })
            .unwrap();
            assert!(outer < 16 * 1024, "the inner call switched stacks again");
        }

        #[test]
        fn a_panic_crosses_back_and_the_stack_is_reusable() {
            let caught = std::panic::catch_unwind(|| run(StackSize::Small, || panic!("on the secure stack")));
            let message = caught.expect_err("the panic was resumed").downcast::<&str>().unwrap();
            assert_eq!(*message, "on the secure stack");
            assert_eq!(run(StackSize::Small, || 7).unwrap(), 7);
            assert_eq!(run(StackSize::Large, || 8).unwrap(), 8);
        }

        #[test]
        fn the_stack_is_wiped_after_each_call() {
            // The array is built on the secure stack; without the wipe its bytes would remain.
            let copied = run(StackSize::Small, || std::hint::black_box([0xC7u8; 256])).unwrap();
            assert_eq!(copied[0], 0xC7);
            let (start, len) = SMALL.with(|s| {
                let stack = s.borrow();
                let stack = stack.as_ref().expect("the thread keeps its small stack");
                (stack.inner().as_ptr().cast_const(), stack.inner_len())
            });
            let bytes = crate::alloc::testing::peek(start, len);
            let dirty = bytes.iter().filter(|&&b| b != 0).count();
            assert_eq!(dirty, 0, "{dirty} non-zero bytes left on the secure stack");
        }
    }
}
