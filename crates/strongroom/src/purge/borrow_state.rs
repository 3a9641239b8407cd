//! The purge protocol's state word: a secret's borrow count and its purge flags on one
//! atomic, and the transitions the registry makes on it.
//!
//! Borrows count up and down; a purge sets PENDING; whoever sees "pending, no borrows" (the
//! purge itself, or the last borrow to end) tries to [`claim`](BorrowState::claim) the wipe,
//! and exactly one caller wins. Once a purge has begun, every new borrow fails.
//!
//! Generic over the atomic so that loom can check every interleaving of these transitions
//! (the tests below); the registry uses std's `AtomicU32`, which makes this a thin wrapper.

use std::sync::atomic::{AtomicU32, Ordering};

/// The wipe was done (or claimed).
const PURGED: u32 = 1 << 31;
/// A purge has begun; the last borrow out (or the purge) wipes.
const PENDING: u32 = 1 << 30;
const BORROWS: u32 = PENDING - 1;

/// The atomic operations the protocol needs.
pub(crate) trait Word {
    fn fetch_add(&self, value: u32, order: Ordering) -> u32;
    fn fetch_sub(&self, value: u32, order: Ordering) -> u32;
    fn fetch_or(&self, value: u32, order: Ordering) -> u32;
    fn compare_exchange(&self, current: u32, new: u32, success: Ordering, failure: Ordering) -> Result<u32, u32>;
    fn load(&self, order: Ordering) -> u32;
    fn store(&self, value: u32, order: Ordering);
}

macro_rules! word {
    ($atomic:ty) => {
        impl Word for $atomic {
            fn fetch_add(&self, value: u32, order: Ordering) -> u32 {
                <$atomic>::fetch_add(self, value, order)
            }
            fn fetch_sub(&self, value: u32, order: Ordering) -> u32 {
                <$atomic>::fetch_sub(self, value, order)
            }
            fn fetch_or(&self, value: u32, order: Ordering) -> u32 {
                <$atomic>::fetch_or(self, value, order)
            }
            fn compare_exchange(
                &self,
                current: u32,
                new: u32,
                success: Ordering,
                failure: Ordering,
            ) -> Result<u32, u32> {
                <$atomic>::compare_exchange(self, current, new, success, failure)
            }
            fn load(&self, order: Ordering) -> u32 {
                <$atomic>::load(self, order)
            }
            fn store(&self, value: u32, order: Ordering) {
                <$atomic>::store(self, value, order)
            }
        }
    };
}
word!(AtomicU32);
#[cfg(all(test, not(miri)))]
word!(loom::sync::atomic::AtomicU32);

/// A secret's borrow count and purge flags. All-zero bytes are the state of a free row
/// (`repr(transparent)` over the atomic).
#[repr(transparent)]
pub(crate) struct BorrowState<W: Word = AtomicU32>(W);

impl<W: Word> BorrowState<W> {
    /// Starts a borrow. Once a purge has begun it fails, undoing its count: `Err(true)` when
    /// that undo made the caller the last borrower out of a pending purge, which it must then
    /// finish ([`claim`](Self::claim) and wipe).
    pub(crate) fn acquire(&self) -> Result<(), bool> {
        let before = self.0.fetch_add(1, Ordering::Acquire);
        if before & (PURGED | PENDING) != 0 {
            return Err(self.end_borrow());
        }
        Ok(())
    }

    /// Ends a borrow: true when the caller was the last borrower of a secret with a purge
    /// pending, and must finish it.
    pub(crate) fn end_borrow(&self) -> bool {
        let before = self.0.fetch_sub(1, Ordering::Release);
        before & BORROWS == 1 && before & PENDING != 0
    }

    /// Begins a purge: true when nobody borrows the secret and no purge began before, so the
    /// caller must finish it now (else the last borrow out will).
    pub(crate) fn mark(&self) -> bool {
        let before = self.0.fetch_or(PENDING, Ordering::AcqRel);
        before & (PURGED | PENDING) == 0 && before & BORROWS == 0
    }

    /// Claims the wipe of a pending, unborrowed secret: of all callers racing here, exactly
    /// one gets true, and no borrow exists or can start when it does.
    pub(crate) fn claim(&self) -> bool {
        self.0.compare_exchange(PENDING, PURGED, Ordering::AcqRel, Ordering::Acquire).is_ok()
    }

    /// Whether a purge has begun (or finished).
    pub(crate) fn purge_begun(&self) -> bool {
        self.0.load(Ordering::Acquire) & (PURGED | PENDING) != 0
    }

    /// Makes a free row's state fresh for a new secret.
    pub(crate) fn reset(&self) {
        self.0.store(0, Ordering::Relaxed);
    }
}

/// loom runs each model under every interleaving (and every memory-order outcome) of its
/// threads' atomic operations, and reports a data race on the value's cell.
#[cfg(all(test, not(miri)))]
mod tests {
    use loom::cell::UnsafeCell;
    use loom::sync::Arc;
    use loom::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

    use super::BorrowState;

    const SECRET: u64 = 0x005E_C2E7;

    /// A secret as the registry tracks one: the state word and the value it guards.
    struct Tracked {
        state: BorrowState<AtomicU32>,
        value: UnsafeCell<u64>,
        wipes: AtomicUsize,
    }

    impl Tracked {
        fn new() -> Self {
            Tracked {
                state: BorrowState(AtomicU32::new(0)),
                value: UnsafeCell::new(SECRET),
                wipes: AtomicUsize::new(0),
            }
        }

        fn finish(&self) {
            if self.state.claim() {
                // SAFETY: `claim` succeeded, so no borrow exists or can start: the only access.
                self.value.with_mut(|v| unsafe { *v = 0 });
                self.wipes.fetch_add(1, Ordering::Relaxed);
            }
        }

        /// A borrow that reads the value: the secret itself, or None once a purge began.
        fn read(&self) -> Option<u64> {
            match self.state.acquire() {
                Ok(()) => {
                    // SAFETY: inside a borrow, so no wipe runs (the property under test;
                    // loom reports a race if one could).
                    let value = self.value.with(|v| unsafe { *v });
                    if self.state.end_borrow() {
                        self.finish();
                    }
                    Some(value)
                }
                Err(last_out) => {
                    if last_out {
                        self.finish();
                    }
                    None
                }
            }
        }

        fn purge(&self) {
            if self.state.mark() {
                self.finish();
            }
        }
    }

    #[test]
    fn a_purge_wipes_once_and_never_under_a_borrow() {
        loom::model(|| {
            let secret = Arc::new(Tracked::new());
            let readers: Vec<_> = (0..2)
                .map(|_| {
                    let secret = secret.clone();
                    loom::thread::spawn(move || secret.read())
                })
                .collect();
            secret.purge();
            for reader in readers {
                let got = reader.join().unwrap();
                assert!(got.is_none() || got == Some(SECRET), "a borrow saw a wiped value: {got:?}");
            }
            assert_eq!(
                secret.wipes.load(Ordering::Relaxed),
                1,
                "the secret was wiped {} times",
                secret.wipes.load(Ordering::Relaxed)
            );
            assert!(secret.state.purge_begun());
            assert!(secret.read().is_none(), "a borrow started after the purge");
        });
    }

    #[test]
    fn two_purges_racing_wipe_once() {
        loom::model(|| {
            let secret = Arc::new(Tracked::new());
            let other = {
                let secret = secret.clone();
                loom::thread::spawn(move || secret.purge())
            };
            let reader = {
                let secret = secret.clone();
                loom::thread::spawn(move || secret.read())
            };
            secret.purge();
            other.join().unwrap();
            let got = reader.join().unwrap();
            assert!(got.is_none() || got == Some(SECRET));
            assert_eq!(secret.wipes.load(Ordering::Relaxed), 1);
        });
    }
}
