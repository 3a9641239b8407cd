//! The Coffer: the process key that seals every [`Enclave`](super::Enclave).
//!
//! The key is never stored whole. It is split into two random halves in separate guarded,
//! frozen buffers, `key = left ⊕ H(right)` (H: `crypto::mask`), and recombined only on the secure stack,
//! for the duration of one seal or open. Re-keying replaces `right` and adjusts `left` so the
//! key stays the same while both stored halves change; it happens on demand ([`rekey`]) and
//! lazily at most once a second, so a memory snapshot taken at one moment and a half read at
//! another do not combine. [`crate::purge`] destroys both halves: every existing Enclave
//! becomes undecryptable, and the next seal starts a new key (a new epoch).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::aead::KEY_LEN;
use crate::buffer::LockedBuffer;
use crate::crypto::mask;
use crate::error::{Error, Result};
use crate::stack::{self, StackSize};

/// How often the halves change at most without being asked.
const REKEY_INTERVAL: Duration = Duration::from_secs(1);

struct Halves {
    left: LockedBuffer,
    right: LockedBuffer,
    rekeyed: Instant,
}

struct Coffer {
    halves: Option<Halves>,
    /// Incremented whenever the key is destroyed; an Enclave sealed under another epoch
    /// can never open.
    epoch: u64,
}

static COFFER: Mutex<Coffer> = Mutex::new(Coffer { halves: None, epoch: 0 });

fn lock() -> MutexGuard<'static, Coffer> {
    COFFER.lock().unwrap_or_else(PoisonError::into_inner)
}

fn random_half() -> Result<LockedBuffer> {
    let mut half = LockedBuffer::random(KEY_LEN)?;
    half.freeze()?;
    Ok(half)
}

impl Halves {
    fn new() -> Result<Self> {
        Ok(Halves { left: random_half()?, right: random_half()?, rekeyed: Instant::now() })
    }

    /// Replaces `right` with fresh randomness and `left` with `left ⊕ H(right) ⊕ H(right')`,
    /// leaving `left ⊕ H(right)` (the key) unchanged.
    fn rekey(&mut self) -> Result<()> {
        let right = random_half()?;
        let mut left = LockedBuffer::new(KEY_LEN)?;
        stack::run_on(StackSize::Crypto, || -> Result<()> {
            let mut old = [0u8; KEY_LEN];
            let mut new = [0u8; KEY_LEN];
            old.copy_from_slice(&self.right.expose()?);
            new.copy_from_slice(&right.expose()?);
            mask::hash_in_place(&mut old);
            mask::hash_in_place(&mut new);
            let current = self.left.expose()?;
            let mut out = left.expose_mut()?;
            for i in 0..KEY_LEN {
                out[i] = current[i] ^ old[i] ^ new[i];
            }
            Ok(()) // `old` and `new` die with the secure stack's wipe
        })??;
        left.freeze()?;
        self.left = left;
        self.right = right;
        self.rekeyed = Instant::now();
        Ok(())
    }

    /// Writes the key into `key` (which must be on the secure stack).
    fn combine(&self, key: &mut [u8; KEY_LEN]) -> Result<()> {
        key.copy_from_slice(&self.right.expose()?);
        mask::hash_in_place(key);
        for (k, l) in key.iter_mut().zip(self.left.expose()?.iter()) {
            *k ^= l;
        }
        Ok(())
    }
}

/// Runs `f` with the process key on the crypto stack, and the epoch the key belongs to.
/// The key exists only inside `f`'s call, on that stack (wiped when it returns); `f` must
/// stay shallow and must not panic (see [`StackSize::Crypto`]): strongroom passes one AEAD
/// call.
pub(crate) fn with_process_key<R>(f: impl FnOnce(&[u8; KEY_LEN], u64) -> Result<R>) -> Result<R> {
    let mut coffer = lock();
    // A purge wipes the halves in place (they then refuse access); a key from wiped halves
    // would be predictable, so replace them and start a new epoch instead.
    if coffer.halves.as_ref().is_some_and(|h| h.left.is_destroyed() || h.right.is_destroyed()) {
        coffer.halves = None;
        coffer.epoch += 1;
    }
    let epoch = coffer.epoch;
    // Making and re-keying the halves maps memory and draws randomness: done here, on the
    // thread's stack, where only the hashing inside `rekey` needs the crypto stack.
    let halves = match &mut coffer.halves {
        Some(halves) => halves,
        slot @ None => slot.insert(Halves::new()?),
    };
    if halves.rekeyed.elapsed() >= REKEY_INTERVAL {
        halves.rekey()?;
    }
    stack::run_on(StackSize::Crypto, move || {
        let mut key = [0u8; KEY_LEN];
        let combined = coffer.halves.as_ref().map(|halves| halves.combine(&mut key));
        drop(coffer); // other threads may seal and open while `f` runs
        match combined {
            Some(Ok(())) => f(&key, epoch), // the key lives on the crypto stack only
            Some(Err(e)) => Err(e),
            None => Err(Error::Internal("the Coffer lost its key halves while locked")),
        }
    })?
}

/// Changes both stored halves of the process key without changing the key.
///
/// It also happens by itself, at most once a second, when Enclaves are sealed or opened.
///
/// ```
/// let enclave = strongroom::Enclave::random(32)?;
/// strongroom::coffer::rekey()?;
/// assert!(enclave.open().is_ok()); // same key, new halves
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn rekey() -> Result<()> {
    match &mut lock().halves {
        Some(halves) => halves.rekey(),
        None => Ok(()),
    }
}

/// Destroys the process key: both halves are wiped and released, and the epoch moves on, so
/// no Enclave sealed before can open again. Called by [`crate::purge`].
pub(crate) fn destroy() {
    let mut coffer = lock();
    coffer.halves = None; // LockedBuffer drops wipe
    coffer.epoch += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored_halves() -> (Vec<u8>, Vec<u8>) {
        let coffer = lock();
        let halves = coffer.halves.as_ref().expect("the coffer holds a key");
        (halves.left.expose().unwrap().to_vec(), halves.right.expose().unwrap().to_vec())
    }

    #[test]
    #[cfg_attr(miri, ignore = "sleeps past the re-key interval")]
    fn halves_change_by_themselves_but_the_key_does_not() {
        let key_now = || with_process_key(|key, _| Ok(key.to_vec())).unwrap();
        let before = key_now();
        let halves_before = stored_halves();
        std::thread::sleep(REKEY_INTERVAL + Duration::from_millis(50));
        let after = key_now(); // the first use after the interval re-keys
        let halves_after = stored_halves();
        assert_eq!(before, after, "re-keying changed the key");
        assert_ne!(halves_before.0, halves_after.0, "the left half did not change");
        assert_ne!(halves_before.1, halves_after.1, "the right half did not change");
    }
}
