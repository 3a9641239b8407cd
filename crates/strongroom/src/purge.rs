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

use crate::alloc::tracked;
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
    tracked::purge_all();
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
