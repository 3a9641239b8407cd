//! Emergency wiping: [`purge`] destroys every live secret and the process key at once, and
//! [`catch_interrupt`] does it when the process is told to stop.
//!
//! After a purge every secret object stays a valid object: its bytes are zeroized, its
//! memory stays mapped until it is dropped (with its canaries intact, so no false alarm),
//! and every attempt to read or change it is [`Error::Destroyed`](crate::Error::Destroyed).
//! A secret being read at that moment is wiped as soon as its last guard drops, never under
//! a live reference. Enclaves can no longer be opened; new secrets and new Enclaves (under a
//! new process key) can still be made.
//!
//! What a purge does not reach: memory you allocate yourself through [`SecureAlloc`]
//! (wiped when freed, but a collection cannot tell a purge when it is safe to wipe), and
//! copies of secrets you made.
//!
//! [`SecureAlloc`]: crate::SecureAlloc

//!
//! - [`registry`]: the table of live secret objects and the cell each one lives in, with the
//!   borrow counting that lets a purge wipe only what nobody is reading.

mod borrow_state;
pub(crate) mod registry;

use crate::enclave::coffer;

/// Wipes every live secret (`LockedBuffer`, `SecretBox`, `SecretVec`, `SecretString`, and
/// the process key behind every `Enclave`), and disables them.
///
/// ```standalone_crate
/// // (A purge is process-wide; this example runs alone in its own process.)
/// let key = strongroom::LockedBuffer::random(32)?;
/// let sealed = strongroom::Enclave::random(32)?;
/// strongroom::purge();
/// assert!(key.expose().is_err());
/// assert!(sealed.open().is_err());
/// assert!(strongroom::LockedBuffer::random(32).is_ok()); // life goes on
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn purge() {
    coffer::destroy();
    registry::purge_all();
}

/// Purges and exits when the process receives `SIGINT` or `SIGTERM` (exit status 128 plus
/// the signal number, as a shell reports a signal death). Installs a watcher thread once;
/// later calls do nothing.
///
/// ```no_run
/// strongroom::catch_interrupt()?;
/// // ... hold secrets; Ctrl-C wipes them before the process goes.
/// # Ok::<(), strongroom::Error>(())
/// ```
#[cfg(unix)]
pub fn catch_interrupt() -> crate::Result<()> {
    use std::sync::OnceLock;

    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::iterator::Signals;

    static INSTALLED: OnceLock<std::io::Result<()>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let mut signals = Signals::new([SIGINT, SIGTERM])?;
        std::thread::Builder::new().name("strongroom-interrupt".into()).spawn(move || {
            if let Some(signal) = signals.forever().next() {
                purge();
                let name = if signal == SIGINT { "SIGINT" } else { "SIGTERM" };
                eprintln!("strongroom: secrets purged on {name}; exiting");
                std::process::exit(128 + signal);
            }
        })?;
        Ok(())
    });
    match installed {
        Ok(()) => Ok(()),
        Err(e) => Err(crate::Error::os("install signal handlers", std::io::Error::new(e.kind(), e.to_string()))),
    }
}

#[cfg(test)]
mod tests {
    //! A secret purged while a guard is alive is wiped when that guard drops. Miri runs these
    //! (`.ci/run`): the wipe must not happen under a live reference, even when the guard is
    //! dropped by value (passed to `drop`), which is when a reference held in the guard would
    //! still be protected. The purge reaches each secret as `purge()` does, through its
    //! cell's address, while the guard (shared or exclusive) is alive.

    use crate::{Error, LockedBuffer, SecretBox, SecretVec};

    #[test]
    fn buffer_guards_dropped_by_value_after_purge() {
        let buf = LockedBuffer::random(32).unwrap();
        let purger = buf.purger();
        let guard = buf.expose().unwrap();
        // SAFETY: `buf` is alive.
        unsafe { purger.purge() };
        assert!(guard.iter().any(|&b| b != 0), "intact while borrowed");
        drop(guard);
        assert!(matches!(buf.expose(), Err(Error::Destroyed)));

        let mut buf = LockedBuffer::random(32).unwrap();
        let purger = buf.purger();
        let mut guard = buf.expose_mut().unwrap();
        // SAFETY: `buf` is alive.
        unsafe { purger.purge() };
        guard[0] = 1;
        drop(guard);
        assert!(matches!(buf.expose(), Err(Error::Destroyed)));
    }

    #[test]
    fn pooled_box_guards_dropped_by_value_after_purge() {
        let key = SecretBox::new(|k: &mut [u8; 32]| k.fill(7)).unwrap();
        let purger = key.purger();
        let guard = key.expose().unwrap();
        // SAFETY: `key` is alive.
        unsafe { purger.purge() };
        assert_eq!(guard[0], 7, "intact while borrowed");
        drop(guard);
        assert!(matches!(key.expose(), Err(Error::Destroyed)));

        let mut key = SecretBox::new(|k: &mut [u8; 32]| k.fill(7)).unwrap();
        let purger = key.purger();
        let mut guard = key.expose_mut().unwrap();
        // SAFETY: `key` is alive.
        unsafe { purger.purge() };
        guard[0] = 8;
        drop(guard);
        assert!(matches!(key.expose(), Err(Error::Destroyed)));
    }

    #[test]
    fn strict_box_guards_dropped_by_value_after_purge() {
        let key = SecretBox::strict(|k: &mut [u8; 32]| k.fill(9)).unwrap();
        let purger = key.purger();
        let guard = key.expose().unwrap();
        // SAFETY: `key` is alive.
        unsafe { purger.purge() };
        assert_eq!(guard[31], 9, "intact while borrowed");
        drop(guard);
        assert!(matches!(key.expose(), Err(Error::Destroyed)));

        let mut key = SecretBox::strict(|k: &mut [u8; 32]| k.fill(9)).unwrap();
        let purger = key.purger();
        let mut guard = key.expose_mut().unwrap();
        // SAFETY: `key` is alive.
        unsafe { purger.purge() };
        guard[0] = 1;
        drop(guard);
        assert!(matches!(key.expose(), Err(Error::Destroyed)));
    }

    #[test]
    fn vec_guards_dropped_by_value_after_purge() {
        let mut v = SecretVec::new();
        v.extend_from_slice(b"seed words").unwrap();
        let purger = v.purger();
        let guard = v.expose().unwrap();
        // SAFETY: `v` is alive.
        unsafe { purger.purge() };
        assert_eq!(&*guard, b"seed words", "intact while borrowed");
        drop(guard);
        assert!(matches!(v.expose(), Err(Error::Destroyed)));

        let mut v = SecretVec::new();
        v.extend_from_slice(b"seed words").unwrap();
        let purger = v.purger();
        let mut guard = v.expose_mut().unwrap();
        // SAFETY: `v` is alive.
        unsafe { purger.purge() };
        guard[0] = b'S';
        drop(guard);
        assert!(matches!(v.expose(), Err(Error::Destroyed)));
    }
}
