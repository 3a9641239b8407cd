//! What protection a caller demands ([`Policy`]) and what an allocation really got
//! ([`Protections`]).
//!
//! A protection the policy marks [`Need::Required`] either applies or the allocation fails
//! with an error that says why. One marked [`Need::Preferred`] is applied where possible and
//! its absence is visible in [`Protections`], never silent.

use std::fmt;

/// How badly a policy wants one protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Need {
    /// Fail the allocation if the protection cannot be applied.
    Required,
    /// Apply it where possible; report its absence in [`Protections`].
    Preferred,
    /// Do not apply it.
    Off,
}

/// Which protections an allocation must get, and which it may go without.
///
/// The default requires locking, dump exclusion and fork exclusion where the platform has
/// them, and prefers `memfd_secret` (used on Linux ≥ 5.14 when the kernel allows it; on other
/// systems, or older kernels, buffers fall back to locked anonymous pages and say so in
/// [`Protections::secret_memory`]).
///
/// ```
/// use strongroom::{LockedBuffer, Need, Policy};
///
/// // Accept a visible downgrade instead of an error when RLIMIT_MEMLOCK is exhausted.
/// let relaxed = Policy { lock: Need::Preferred, ..Policy::default() };
/// let buf = LockedBuffer::with_policy(32, relaxed)?;
/// if !buf.protections().locked {
///     eprintln!("warning: secret is not locked into RAM");
/// }
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    /// Back pages with `memfd_secret(2)`: out of the kernel's direct map, so no passive read
    /// reaches them (`/proc/PID/mem`, `process_vm_readv`, `PTRACE_PEEKDATA`, core dumps, even
    /// by root), and locked and out of dumps by the kernel. A debugger that attaches and
    /// injects code can still make the process read them: see [`harden`](crate::harden).
    pub secret_memory: Need,
    /// Lock pages into RAM so they never reach swap or a hibernation image.
    pub lock: Need,
    /// Keep pages out of core dumps (`MADV_DONTDUMP`).
    pub dump_exclusion: Need,
    /// Keep pages from forked children (`MADV_WIPEONFORK` / `MADV_DONTFORK`).
    pub fork_exclusion: Need,
}

impl Policy {
    /// The default: every protection the platform has is required, `memfd_secret` preferred.
    pub const STANDARD: Policy = Policy {
        secret_memory: Need::Preferred,
        lock: Need::Required,
        dump_exclusion: if cfg!(any(windows, miri)) { Need::Preferred } else { Need::Required },
        fork_exclusion: if cfg!(miri) { Need::Preferred } else { Need::Required },
    };

    /// Everything required, `memfd_secret` included: fails where the kernel lacks it.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, Policy};
    ///
    /// match LockedBuffer::with_policy(32, Policy::STRICT) {
    ///     Ok(buf) => assert!(buf.protections().secret_memory),
    ///     Err(e) => eprintln!("no memfd_secret here: {e}"),
    /// }
    /// ```
    pub const STRICT: Policy = Policy {
        secret_memory: Need::Required,
        lock: Need::Required,
        dump_exclusion: Need::Required,
        fork_exclusion: Need::Required,
    };

    /// Every protection applied where possible and none required: never fails for want of
    /// one, and [`Protections`] tells what was missing.
    pub const BEST_EFFORT: Policy = Policy {
        secret_memory: Need::Preferred,
        lock: Need::Preferred,
        dump_exclusion: Need::Preferred,
        fork_exclusion: Need::Preferred,
    };
}

/// The process-wide default, once [`Policy::set_default`] has set it.
static PROCESS_DEFAULT: std::sync::OnceLock<Policy> = std::sync::OnceLock::new();

impl Policy {
    /// Sets the policy that every allocation without an explicit one uses, for the whole
    /// process: `LockedBuffer::new`, the pool's arenas, `SecretBox`/`SecretVec`, Enclaves and
    /// the process key, streams, the secure stacks (which take its `lock` need) and the KDF's
    /// key. Set it once, early, before the first secret: a second call is refused, so that no
    /// code changes the rules under secrets already made. What each allocation really got
    /// stays queryable (`protections()`).
    ///
    /// The usual reason: a container or service whose `RLIMIT_MEMLOCK` is too small for what
    /// the program holds, and which prefers unlocked (but still guarded, no-dump, no-fork)
    /// memory to failing:
    ///
    /// ```standalone_crate
    /// use strongroom::{LockedBuffer, Need, Policy};
    ///
    /// Policy::set_default(Policy { lock: Need::Preferred, ..Policy::STANDARD })?;
    /// let key = LockedBuffer::random(32)?;
    /// if !key.protections().locked {
    ///     eprintln!("warning: RLIMIT_MEMLOCK is exhausted; secrets may reach swap");
    /// }
    /// assert!(Policy::set_default(Policy::STRICT).is_err(), "set once");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn set_default(policy: Policy) -> crate::Result<()> {
        PROCESS_DEFAULT.set(policy).map_err(|_| {
            crate::Error::ApiMisuse("the process-wide default Policy is set once, before the first secret")
        })
    }
}

impl Default for Policy {
    /// The process-wide default if [`Policy::set_default`] set one, else
    /// [`Policy::STANDARD`] ([`Policy::BEST_EFFORT`] under Miri, which has no OS to ask).
    fn default() -> Self {
        match PROCESS_DEFAULT.get() {
            Some(policy) => *policy,
            None if cfg!(miri) => Policy::BEST_EFFORT,
            None => Policy::STANDARD,
        }
    }
}

/// One protection, as named in errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protection {
    /// `memfd_secret(2)` backing.
    SecretMemory,
    /// Locking into RAM.
    Lock,
    /// Exclusion from core dumps.
    DumpExclusion,
    /// Exclusion from forked children.
    ForkExclusion,
}

impl fmt::Display for Protection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protection::SecretMemory => "memfd_secret backing",
            Protection::Lock => "locking into RAM (mlock)",
            Protection::DumpExclusion => "exclusion from core dumps",
            Protection::ForkExclusion => "exclusion from forked children",
        })
    }
}

impl Protection {
    /// The [`Policy`] field that decides whether this protection is required.
    ///
    /// ```
    /// assert_eq!(strongroom::Protection::Lock.policy_field(), "lock");
    /// ```
    pub fn policy_field(self) -> &'static str {
        match self {
            Protection::SecretMemory => "secret_memory",
            Protection::Lock => "lock",
            Protection::DumpExclusion => "dump_exclusion",
            Protection::ForkExclusion => "fork_exclusion",
        }
    }
}

/// How a forked child sees a secret's pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ForkSafety {
    /// The child gets zeros at the same address (`MADV_WIPEONFORK`).
    Wiped,
    /// The child has nothing mapped there (`MADV_DONTFORK`): touching it faults.
    Unmapped,
    /// The platform cannot fork (Windows), so there is no child to leak to.
    NoFork,
    /// The child inherits a copy: only with a policy that does not require fork exclusion.
    Inherited,
}

/// No protection at all: what a destroyed or forked-away secret reports.
pub(crate) const NONE: Protections = Protections {
    locked: false,
    secret_memory: false,
    dump_excluded: false,
    fork: ForkSafety::Inherited,
    guard_pages: false,
    canary: false,
};

/// What an allocation really got. Every secret type reports this through `protections()`.
///
/// ```
/// let buf = strongroom::LockedBuffer::new(32)?;
/// let got = buf.protections();
/// assert!(got.guard_pages && got.canary);
/// assert!(got.locked, "the default policy requires locking");
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Protections {
    /// Pages cannot be swapped out (mlock, or implied by `memfd_secret`).
    pub locked: bool,
    /// Backed by `memfd_secret`: removed from the kernel's direct map, so passive reads
    /// (`/proc/PID/mem`, `process_vm_readv`, `PTRACE_PEEKDATA`, core dumps) fail, even for
    /// root; code injected by an attached debugger still runs with access (see
    /// [`harden`](crate::harden)).
    pub secret_memory: bool,
    /// Excluded from core dumps.
    pub dump_excluded: bool,
    /// What a forked child sees.
    pub fork: ForkSafety,
    /// Inaccessible guard pages on both sides: a linear overflow or underflow faults.
    pub guard_pages: bool,
    /// A canary is checked when the memory is freed; a breach aborts the process.
    pub canary: bool,
}

impl Protections {
    /// Whether these protections satisfy every [`Need::Required`] of `policy`.
    ///
    /// ```
    /// use strongroom::{LockedBuffer, Policy};
    /// let buf = LockedBuffer::new(16)?;
    /// assert!(buf.protections().satisfy(&Policy::default()));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn satisfy(&self, policy: &Policy) -> bool {
        let required = |need: Need, got: bool| need != Need::Required || got;
        required(policy.secret_memory, self.secret_memory)
            && required(policy.lock, self.locked)
            && required(policy.dump_exclusion, self.dump_excluded)
            && required(policy.fork_exclusion, self.fork != ForkSafety::Inherited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Protections = Protections {
        locked: true,
        secret_memory: true,
        dump_excluded: true,
        fork: ForkSafety::Wiped,
        guard_pages: true,
        canary: true,
    };

    /// Each protection, taken away alone: what the policy requires must be refused, what it
    /// only prefers or turns off must not matter.
    #[test]
    fn satisfy_fails_for_each_missing_required_protection() {
        type Take = fn(&mut Protections);
        type Demand = fn(&mut Policy, Need);
        let cases: [(&str, Take, Demand); 4] = [
            ("secret_memory", |p| p.secret_memory = false, |p, n| p.secret_memory = n),
            ("lock", |p| p.locked = false, |p, n| p.lock = n),
            ("dump_exclusion", |p| p.dump_excluded = false, |p, n| p.dump_exclusion = n),
            ("fork_exclusion", |p| p.fork = ForkSafety::Inherited, |p, n| p.fork_exclusion = n),
        ];
        assert!(ALL.satisfy(&Policy::STRICT));
        for (field, take, demand) in cases {
            let mut got = ALL;
            take(&mut got);
            assert!(!got.satisfy(&Policy::STRICT), "{field} missing, yet STRICT was satisfied");
            for need in [Need::Preferred, Need::Off] {
                let mut policy = Policy::STRICT;
                demand(&mut policy, need);
                assert!(got.satisfy(&policy), "{field} missing under {need:?} was refused");
            }
        }
        assert!(NONE.satisfy(&Policy::BEST_EFFORT), "BEST_EFFORT requires nothing");
        assert!(!NONE.satisfy(&Policy::STANDARD));
    }

    /// Errors name the protection that could not be applied in words, and the policy field
    /// that would accept going without it.
    #[test]
    fn protections_are_named_in_words() {
        let names = [
            (Protection::SecretMemory, "memfd_secret backing", "secret_memory"),
            (Protection::Lock, "locking into RAM (mlock)", "lock"),
            (Protection::DumpExclusion, "exclusion from core dumps", "dump_exclusion"),
            (Protection::ForkExclusion, "exclusion from forked children", "fork_exclusion"),
        ];
        for (protection, words, field) in names {
            assert_eq!(protection.to_string(), words);
            assert_eq!(protection.policy_field(), field);
            let message = crate::Error::Unsupported(protection).to_string();
            assert!(message.contains(words) && message.contains(field), "{message}");
        }
    }

    #[test]
    fn every_way_of_excluding_forks_satisfies_fork_exclusion() {
        let required = Policy { fork_exclusion: Need::Required, ..Policy::BEST_EFFORT };
        for fork in [ForkSafety::Wiped, ForkSafety::Unmapped, ForkSafety::NoFork] {
            assert!(Protections { fork, ..NONE }.satisfy(&required), "{fork:?}");
        }
        assert!(!Protections { fork: ForkSafety::Inherited, ..ALL }.satisfy(&required));
    }
}
