//! A region of pages between two guard pages, with the protections a [`Policy`] demands:
//! `memfd_secret` backing where allowed, else anonymous pages that are locked, kept out of
//! core dumps and wiped in forked children. Both allocation policies are built on it: a
//! guarded secret gets one mapping, a pool arena gets one for many secrets; so are the
//! secure stacks ([`crate::stack`]).

use std::io;
use std::ptr::NonNull;

use crate::error::{Error, Result};
use crate::policy::{ForkSafety, Need, Policy, Protection, Protections};
use crate::sys::{self, Backing, ForkExclusion, Stamp};

/// Pages between two guard pages, owned; unmapped on drop.
#[derive(Debug)]
pub(crate) struct Mapping {
    /// Start of the leading guard page.
    base: NonNull<u8>,
    /// Bytes between the guards, a whole number of pages.
    inner_len: usize,
    /// How far into the inner pages a guarded secret's canary may reach; the rest is zero
    /// while the mapping sits in the reuse cache.
    pub(super) canary_end: usize,
    protections: Protections,
    /// The policy it was made under; a cached mapping is reused only for the same policy.
    pub(super) policy: Policy,
    /// The fork generation it was mapped in.
    pub(super) stamp: Stamp,
}

// SAFETY: a Mapping exclusively owns its pages; nothing in it is tied to a thread.
unsafe impl Send for Mapping {}

impl Mapping {
    pub(crate) fn inner_len(&self) -> usize {
        self.inner_len
    }

    pub(crate) fn protections(&self) -> Protections {
        self.protections
    }

    /// Start of the inner (accessible) pages.
    pub(crate) fn inner(&self) -> NonNull<u8> {
        // SAFETY: the inner pages start one page after the leading guard, inside the mapping.
        unsafe { self.base.add(sys::page_size()) }
    }

    /// Maps a fresh region under `policy`; on any failure nothing stays mapped. Over the
    /// locked-memory limit it first gives back the regions the reuse cache holds (locked
    /// pages nobody uses) and tries once more, so that cached regions never cost a
    /// `LockLimit` to the guarded secrets, pool arenas or secure stacks built on this.
    pub(crate) fn map(inner_len: usize, policy: Policy) -> Result<Self> {
        match Self::map_once(inner_len, policy) {
            Err(Error::LockLimit { .. }) if super::region_cache::drain() > 0 => Self::map_once(inner_len, policy),
            other => other,
        }
    }

    fn map_once(inner_len: usize, policy: Policy) -> Result<Self> {
        // Pages that must stay in RAM (locked, or memfd_secret) cannot outnumber it. The
        // kernel would grant the mapping (pages are charged when first touched) and fail
        // later, on a touch or in the wipe on drop, with the OOM killer; refuse at once.
        let stays_in_ram = policy.lock != Need::Off || policy.secret_memory != Need::Off;
        if let Some(physical) = sys::physical_memory().filter(|&ram| stays_in_ram && inner_len as u64 > ram) {
            return Err(Error::MoreThanMemory { requested: inner_len as u64, physical });
        }
        let use_secret = match policy.secret_memory {
            Need::Off => false,
            _ if sys::secret_memory_available() => true,
            Need::Required => return Err(Error::Unsupported(Protection::SecretMemory)),
            Need::Preferred => false,
        };
        if use_secret {
            match sys::map_guarded(inner_len, Backing::SecretMemory) {
                Ok(base) => {
                    return Self::protect_new(base, inner_len, Backing::SecretMemory, policy);
                }
                // Over RLIMIT_MEMLOCK, the anonymous pages below fail to lock the same way
                // when locking is required: no case of its own here.
                Err(e) if policy.secret_memory == Need::Required => {
                    return Err(classify(e, Protection::SecretMemory, "memfd_secret", inner_len));
                }
                Err(_) => {} // preferred only: fall back to anonymous pages, visibly
            }
        }
        let base = sys::map_guarded(inner_len, Backing::Anonymous).map_err(|e| Error::os("mmap", e))?;
        Self::protect_new(base, inner_len, Backing::Anonymous, policy)
    }

    /// Applies the policy's protections to a freshly mapped region, or unmaps it and fails.
    fn protect_new(base: NonNull<u8>, inner_len: usize, backing: Backing, policy: Policy) -> Result<Self> {
        let secret = backing == Backing::SecretMemory;
        let mut mapping = Mapping {
            base,
            inner_len,
            canary_end: 0,
            protections: Protections {
                // memfd_secret pages are locked and excluded from dumps by the kernel itself.
                locked: secret,
                secret_memory: secret,
                dump_excluded: secret,
                fork: if cfg!(windows) { ForkSafety::NoFork } else { ForkSafety::Inherited },
                guard_pages: !cfg!(miri),
                canary: true,
            },
            policy,
            stamp: Stamp::now(),
        };
        // From here on, dropping `mapping` on an early return unmaps it.
        let (inner, len) = (mapping.inner(), inner_len);
        // The three steps below act on the inner pages, which are ours, freshly mapped and
        // referenced by nothing; none of them changes their contents.
        if !secret {
            let lock = || {
                // SAFETY: `inner..inner + len` are this mapping's own inner pages, mapped just
                // above and referenced by nothing else; locking changes no contents.
                unsafe { sys::lock(inner, len) }
            };
            let no_dump = || {
                // SAFETY: `inner..inner + len` are this mapping's own inner pages, mapped just
                // above and referenced by nothing else; the advice changes no contents.
                unsafe { sys::exclude_from_dumps(inner, len) }
            };
            mapping.protections.locked = apply(policy.lock, Protection::Lock, "mlock", len, lock)?.is_some();
            mapping.protections.dump_excluded =
                apply(policy.dump_exclusion, Protection::DumpExclusion, "madvise(MADV_DONTDUMP)", len, no_dump)?
                    .is_some();
        }
        let no_fork = || {
            // SAFETY: `inner..inner + len` are this mapping's own inner pages, mapped just
            // above and referenced by nothing else; the advice changes no contents.
            unsafe { sys::exclude_from_fork(inner, len, backing) }
        };
        let fork = apply(policy.fork_exclusion, Protection::ForkExclusion, "madvise(fork)", len, no_fork)?;
        if let Some(fork) = fork {
            mapping.protections.fork = match fork {
                ForkExclusion::Wiped => ForkSafety::Wiped,
                ForkExclusion::Unmapped => ForkSafety::Unmapped,
                ForkExclusion::NoFork => ForkSafety::NoFork,
            };
        }
        Ok(mapping)
    }

    /// True in a forked child when the kernel wiped or withheld these pages at `fork`.
    pub(crate) fn lost_to_fork(&self) -> bool {
        !self.stamp.is_current() && matches!(self.protections.fork, ForkSafety::Wiped | ForkSafety::Unmapped)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        if self.lost_to_fork() {
            // The child's pages are zeros or absent, and the hole may now hold someone else's
            // mapping: touching or unmapping it could hurt. The child's exit releases it.
            return;
        }
        // SAFETY: we own the mapping and this is its last use.
        unsafe { sys::unmap_guarded(self.base, self.inner_len) };
    }
}

/// Runs one protection step under `need`: `Ok(Some)` applied, `Ok(None)` skipped or
/// tolerated, `Err` when required and refused.
fn apply<T>(
    need: Need,
    what: Protection,
    op: &'static str,
    len: usize,
    step: impl FnOnce() -> io::Result<T>,
) -> Result<Option<T>> {
    if need == Need::Off {
        return Ok(None);
    }
    match step() {
        Ok(v) => Ok(Some(v)),
        Err(e) if need == Need::Required => Err(classify(e, what, op, len)),
        Err(_) => Ok(None),
    }
}

fn classify(e: io::Error, what: Protection, op: &'static str, len: usize) -> Error {
    if sys::is_lock_limit(&e) {
        Error::lock_limit(len)
    } else if e.kind() == io::ErrorKind::Unsupported {
        Error::Unsupported(what)
    } else {
        Error::os(op, e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each kind of OS failure gets its own error: over the locked-memory limit is
    /// `LockLimit`, a platform without the protection is `Unsupported` naming it, anything else
    /// is `Os` naming the call.
    #[test]
    fn classify_tells_the_failures_apart() {
        let over_limit = io::Error::new(io::ErrorKind::QuotaExceeded, "mlock: ENOMEM");
        assert!(matches!(classify(over_limit, Protection::Lock, "mlock", 4096), Error::LockLimit { .. }));
        let missing = io::Error::from(io::ErrorKind::Unsupported);
        let got = classify(missing, Protection::DumpExclusion, "madvise(MADV_DONTDUMP)", 4096);
        assert!(matches!(got, Error::Unsupported(Protection::DumpExclusion)), "{got:?}");
        let other = io::Error::from(io::ErrorKind::InvalidInput);
        let got = classify(other, Protection::ForkExclusion, "madvise(fork)", 4096);
        assert!(matches!(got, Error::Os { op: "madvise(fork)", .. }), "{got:?}");
    }
}
