//! Passphrase to key: Argon2id, then a sequential SHA3-256 stretch.
//!
//! `key = SHA3-256^rounds(Argon2id(passphrase, salt, m, t, p = 1, 32 bytes))`, the
//! construction of the original `sedit` (its files use m = 64 MiB, t = 3, rounds = 1000).
//! Argon2id makes guessing cost memory; the chain adds strictly sequential work.
//!
//! What it protects: the derived key is written straight into a frozen [`LockedBuffer`];
//! Argon2's work memory (64 MiB by default) is mapped by strongroom, kept out of core dumps
//! and forked children, locked into RAM where `RLIMIT_MEMLOCK` allows (the default 8 MiB does
//! not: [`DerivedKey::work_memory`] says what it got), and wiped when the derivation ends;
//! the computation runs on a secure stack, so no intermediate value stays on the thread's
//! stack. The wiped work memory is kept mapped for the next derivation
//! ([`release_work_memory`] unmaps it). Parameters are checked against [`KdfLimits`] before any work, so a hostile file
//! header cannot make it allocate terabytes or spin for days.

use std::sync::{Mutex, PoisonError};

use crate::buffer::LockedBuffer;
use crate::crypto::{argon2id, sha3};
use crate::error::{Error, Result};
use crate::policy::{Need, Policy, Protections};
use crate::stack::{self, StackSize};

/// Length of the derived key in bytes: an [`aead`](crate::aead) key's.
///
/// ```
/// assert_eq!(strongroom::kdf::KEY_LEN, strongroom::aead::KEY_LEN);
/// ```
pub use crate::aead::KEY_LEN;

/// The cost of a derivation.
///
/// ```
/// let params = strongroom::kdf::KdfParams::DEFAULT;
/// assert_eq!((params.memory_kib, params.iterations, params.rounds), (65536, 3, 1000));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfParams {
    /// Argon2id memory in KiB.
    pub memory_kib: u32,
    /// Argon2id passes over the memory.
    pub iterations: u32,
    /// SHA3-256 rounds after Argon2id.
    pub rounds: u64,
}

impl KdfParams {
    /// 64 MiB, 3 passes, 1000 rounds: the original `sedit`'s parameters.
    pub const DEFAULT: KdfParams = KdfParams { memory_kib: 64 * 1024, iterations: 3, rounds: 1000 };
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The most a derivation may cost; parameters beyond these are refused before any work.
///
/// ```
/// use strongroom::kdf::{KdfLimits, KdfParams};
/// let hostile = KdfParams { memory_kib: u32::MAX, iterations: 3, rounds: 1000 };
/// assert!(KdfLimits::DEFAULT.check(&hostile).is_err());
/// assert!(KdfLimits::DEFAULT.check(&KdfParams::DEFAULT).is_ok());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KdfLimits {
    /// Largest Argon2id memory, in KiB.
    pub max_memory_kib: u32,
    /// Most Argon2id passes.
    pub max_iterations: u32,
    /// Most SHA3-256 rounds.
    pub max_rounds: u64,
}

impl KdfLimits {
    /// 1 GiB (libsodium's "sensitive" level), 16 passes, 10 million rounds (about 5 s):
    /// generous for real files, bounded for hostile ones.
    pub const DEFAULT: KdfLimits = KdfLimits { max_memory_kib: 1 << 20, max_iterations: 16, max_rounds: 10_000_000 };

    /// Whether `params` lie within these limits (and Argon2's minimums).
    ///
    /// ```
    /// use strongroom::kdf::{KdfLimits, KdfParams};
    /// assert!(KdfLimits::DEFAULT.check(&KdfParams { rounds: 1 << 40, ..KdfParams::DEFAULT }).is_err());
    /// ```
    /// A parameter beyond its limit is [`Error::LimitExceeded`], one below Argon2's minimum
    /// [`Error::BelowMinimum`]; both carry the figures.
    ///
    /// ```
    /// use strongroom::{Error, kdf::{KdfLimits, KdfParams, Parameter}};
    ///
    /// let hostile = KdfParams { rounds: 1 << 40, ..KdfParams::DEFAULT };
    /// match KdfLimits::DEFAULT.check(&hostile) {
    ///     Err(Error::LimitExceeded { what: Parameter::Rounds, requested, limit }) => {
    ///         assert_eq!((requested, limit), (1 << 40, 10_000_000));
    ///     }
    ///     other => panic!("unexpected: {other:?}"),
    /// }
    /// ```
    pub fn check(&self, params: &KdfParams) -> Result<()> {
        let memory = u64::from(params.memory_kib);
        within(Parameter::Memory, memory, MIN_MEMORY_KIB, u64::from(self.max_memory_kib))?;
        within(Parameter::Passes, u64::from(params.iterations), 1, u64::from(self.max_iterations))?;
        within(Parameter::Rounds, params.rounds, 0, self.max_rounds)
    }
}

/// Argon2's smallest memory: 8 KiB (8 blocks of 1 KiB for one lane).
const MIN_MEMORY_KIB: u64 = 8;
/// The salt lengths a derivation accepts, in bytes.
const SALT_LEN: std::ops::RangeInclusive<u64> = 8..=64;

/// `Ok` if `minimum <= requested <= limit`, else the error with the figures.
fn within(what: Parameter, requested: u64, minimum: u64, limit: u64) -> Result<()> {
    if requested < minimum {
        return Err(Error::BelowMinimum { what, requested, minimum });
    }
    if requested > limit {
        return Err(Error::LimitExceeded { what, requested, limit });
    }
    Ok(())
}

/// The derivation parameter an [`Error::LimitExceeded`] or [`Error::BelowMinimum`] is
/// about, so a caller can tell them apart without parsing a message.
///
/// ```
/// use strongroom::{Error, kdf::{derive_key_combined, KdfParams, Parameter}};
///
/// let err = derive_key_combined(b"pw", b"short", &KdfParams::DEFAULT).unwrap_err();
/// assert!(matches!(err, Error::BelowMinimum { what: Parameter::Salt, requested: 5, minimum: 8 }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Parameter {
    /// Argon2id memory, in KiB ([`KdfParams::memory_kib`]).
    Memory,
    /// Argon2id passes ([`KdfParams::iterations`]).
    Passes,
    /// SHA3-256 rounds ([`KdfParams::rounds`]).
    Rounds,
    /// The salt's length, in bytes (8 to 64).
    Salt,
    /// An age scrypt stanza's work factor, log2 of scrypt's N.
    WorkFactor,
}

/// The unit a [`Parameter`]'s figures are counted in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Unit {
    Kib,
    Bytes,
    Count,
}

impl Parameter {
    /// What the parameter is, for messages.
    pub(crate) fn description(self) -> &'static str {
        match self {
            Parameter::Memory => "Argon2id memory",
            Parameter::Passes => "Argon2id passes",
            Parameter::Rounds => "SHA3-256 rounds",
            Parameter::Salt => "salt length",
            Parameter::WorkFactor => "scrypt work factor (log2 N)",
        }
    }

    pub(crate) fn unit(self) -> Unit {
        match self {
            Parameter::Memory => Unit::Kib,
            Parameter::Salt => Unit::Bytes,
            Parameter::Passes | Parameter::Rounds | Parameter::WorkFactor => Unit::Count,
        }
    }

    /// The [`KdfLimits`] field that bounds it; `None` where the format fixes the bound.
    pub(crate) fn limits_field(self) -> Option<&'static str> {
        match self {
            Parameter::Memory => Some("max_memory_kib"),
            Parameter::Passes => Some("max_iterations"),
            Parameter::Rounds => Some("max_rounds"),
            Parameter::Salt | Parameter::WorkFactor => None,
        }
    }
}

impl Default for KdfLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// A derived key, and what protection the derivation's work memory got.
#[derive(Debug)]
pub struct DerivedKey {
    /// The 32-byte key, frozen (read-only).
    pub key: LockedBuffer,
    /// What Argon2's work memory got: out of dumps and forks always; locked only where
    /// `RLIMIT_MEMLOCK` left room (it is wiped after use either way).
    pub work_memory: Protections,
}

/// Derives a 32-byte key from `passphrase` and `salt` (8 to 64 bytes) under `params`, within
/// [`KdfLimits::DEFAULT`].
///
/// ```
/// use strongroom::kdf::{derive_key_combined, KdfParams};
///
/// let cheap = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 }; // doc-test speed
/// let derived = derive_key_combined(b"pw", b"sixteen byte salt", &cheap)?;
/// assert_eq!(derived.key.len(), 32);
/// assert!(derived.key.is_frozen());
/// # Ok::<(), strongroom::Error>(())
/// ```
pub fn derive_key_combined(passphrase: &[u8], salt: &[u8], params: &KdfParams) -> Result<DerivedKey> {
    derive_key_with_limits(passphrase, salt, params, &KdfLimits::DEFAULT)
}

/// Like [`derive_key_combined`], under other limits.
///
/// ```
/// use strongroom::kdf::{derive_key_with_limits, KdfLimits, KdfParams};
/// let tight = KdfLimits { max_memory_kib: 1024, ..KdfLimits::DEFAULT };
/// assert!(derive_key_with_limits(b"pw", b"saltsalt", &KdfParams::DEFAULT, &tight).is_err());
/// ```
pub fn derive_key_with_limits(
    passphrase: &[u8],
    salt: &[u8],
    params: &KdfParams,
    limits: &KdfLimits,
) -> Result<DerivedKey> {
    limits.check(params)?;
    within(Parameter::Salt, salt.len() as u64, *SALT_LEN.start(), *SALT_LEN.end())?;
    let mut key = LockedBuffer::new(KEY_LEN)?;
    let mut work = take_work_memory(params.memory_kib as usize * 1024)?;
    let work_memory = work.protections();
    let derived = stack::run_on(StackSize::Kdf, || derive_into(passphrase, salt, params, &mut work, &mut key));
    // Wiped before anything else happens, whether the derivation succeeded or not.
    work.wipe()?;
    keep_work_memory(work);
    derived??;
    key.freeze()?;
    Ok(DerivedKey { key, work_memory })
}

/// The last derivation's work memory, wiped, kept for the next one: mapping, faulting in
/// and unmapping 64 MiB each time costs a quarter of the derivation (measured).
static WORK_MEMORY: Mutex<Option<LockedBuffer>> = Mutex::new(None);

fn take_work_memory(len: usize) -> Result<LockedBuffer> {
    let cached = WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner).take();
    match cached {
        Some(work) if work.len() == len => Ok(work),
        _ => LockedBuffer::with_policy(len, WORK_MEMORY_POLICY),
    }
}

fn keep_work_memory(work: LockedBuffer) {
    let previous = WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner).replace(work);
    drop(previous); // outside the lock
}

/// Unmaps the work memory the KDF keeps between derivations (wiped, but mapped: 64 MiB
/// with the default parameters). The next derivation maps it afresh.
///
/// ```
/// strongroom::kdf::release_work_memory();
/// ```
pub fn release_work_memory() {
    let kept = WORK_MEMORY.lock().unwrap_or_else(PoisonError::into_inner).take();
    drop(kept);
}

/// Argon2's work memory: never `memfd_secret` (its first touch of 64 MiB would triple the
/// cost, measured), locked only where the limit allows, out of dumps and forks.
const WORK_MEMORY_POLICY: Policy = Policy {
    secret_memory: Need::Off,
    lock: Need::Preferred,
    dump_exclusion: Need::Preferred,
    fork_exclusion: Need::Preferred,
};

/// The derivation itself, writing into `key`; the caller picks the stack it runs on.
fn derive_into(
    passphrase: &[u8],
    salt: &[u8],
    params: &KdfParams,
    work: &mut LockedBuffer,
    key: &mut LockedBuffer,
) -> Result<()> {
    let cost = argon2id::Cost { memory_kib: params.memory_kib, iterations: params.iterations, parallelism: 1 };
    let mut key = key.expose_mut()?;
    argon2id::derive(passphrase, salt, b"", b"", cost, &mut work.expose_mut()?, &mut key)?;
    let key: &mut [u8; KEY_LEN] =
        (&mut *key).try_into().map_err(|_| Error::Internal("a derived key is not 32 bytes"))?;
    sha3::chain(key, params.rounds);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
    }

    /// A file of `../shared/vectors`. Tests that read one are ignored when `../shared` is
    /// absent (build.rs); when it is present, a missing file fails the test.
    fn shared(rel: &str) -> String {
        let path = format!("{}/../../../shared/vectors/{rel}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path}: {e} (../shared is present, so its vectors must be)"))
    }

    /// Every limit at, just inside and just past its edge, under limits other than the
    /// default ones (so the check reads the limits it was given).
    #[test]
    fn limits_hold_exactly_at_their_edges() {
        let limits = KdfLimits { max_memory_kib: 100, max_iterations: 2, max_rounds: 5 };
        let base = KdfParams { memory_kib: 8, iterations: 1, rounds: 0 };
        let check = |params: KdfParams| limits.check(&params).map_err(|e| format!("{e:?}"));
        let below = |what, requested, minimum| Err(format!("{:?}", Error::BelowMinimum { what, requested, minimum }));
        let over = |what, requested, limit| Err(format!("{:?}", Error::LimitExceeded { what, requested, limit }));
        let cases = [
            (KdfParams { memory_kib: 0, ..base }, below(Parameter::Memory, 0, 8)),
            (KdfParams { memory_kib: 7, ..base }, below(Parameter::Memory, 7, 8)),
            (KdfParams { memory_kib: 8, ..base }, Ok(())),
            (KdfParams { memory_kib: 99, ..base }, Ok(())),
            (KdfParams { memory_kib: 100, ..base }, Ok(())),
            (KdfParams { memory_kib: 101, ..base }, over(Parameter::Memory, 101, 100)),
            (KdfParams { iterations: 0, ..base }, below(Parameter::Passes, 0, 1)),
            (KdfParams { iterations: 2, ..base }, Ok(())),
            (KdfParams { iterations: 3, ..base }, over(Parameter::Passes, 3, 2)),
            (KdfParams { rounds: 5, ..base }, Ok(())),
            (KdfParams { rounds: 6, ..base }, over(Parameter::Rounds, 6, 5)),
        ];
        for (params, expected) in cases {
            assert_eq!(check(params), expected, "{params:?}");
        }
        for (len, expected) in
            [(7, below(Parameter::Salt, 7, 8)), (8, Ok(())), (64, Ok(())), (65, over(Parameter::Salt, 65, 64))]
        {
            let got = derive_key_with_limits(b"pw", &vec![0x5a; len], &base, &limits).map(drop);
            assert_eq!(got.map_err(|e| format!("{e:?}")), expected, "salt of {len} bytes");
        }
    }

    #[test]
    fn hostile_parameters_are_refused_before_any_work() {
        let start = std::time::Instant::now();
        let over = |what, requested, limit| Error::LimitExceeded { what, requested, limit };
        let under = |what, requested, minimum| Error::BelowMinimum { what, requested, minimum };
        let hostile = [
            (
                KdfParams { memory_kib: u32::MAX, ..KdfParams::DEFAULT },
                over(Parameter::Memory, u32::MAX.into(), 1 << 20),
            ),
            (KdfParams { rounds: 1 << 40, ..KdfParams::DEFAULT }, over(Parameter::Rounds, 1 << 40, 10_000_000)),
            (KdfParams { iterations: u32::MAX, ..KdfParams::DEFAULT }, over(Parameter::Passes, u32::MAX.into(), 16)),
            (KdfParams { iterations: 0, ..KdfParams::DEFAULT }, under(Parameter::Passes, 0, 1)),
            (KdfParams { memory_kib: 0, ..KdfParams::DEFAULT }, under(Parameter::Memory, 0, 8)),
        ];
        for (params, expected) in hostile {
            let err = derive_key_combined(b"pw", b"sixteen byte sal", &params).unwrap_err();
            assert_eq!(err.to_string(), expected.to_string(), "{params:?}");
            assert_eq!(format!("{err:?}"), format!("{expected:?}"), "{params:?}");
        }
        let short = derive_key_combined(b"pw", b"short", &KdfParams::DEFAULT).unwrap_err();
        assert!(matches!(short, Error::BelowMinimum { what: Parameter::Salt, requested: 5, minimum: 8 }), "{short:?}");
        let long = derive_key_combined(b"pw", &[0; 65], &KdfParams::DEFAULT).unwrap_err();
        assert!(matches!(long, Error::LimitExceeded { what: Parameter::Salt, requested: 65, limit: 64 }), "{long:?}");
        assert!(start.elapsed().as_millis() < 200, "refusing took {:?}", start.elapsed());
    }

    #[test]
    #[cfg_attr(miri, ignore = "Argon2 is too slow under Miri")]
    #[cfg_attr(
        all(not(miri), not(strongroom_shared_vectors)),
        ignore = "../shared (test vectors) is absent beside the repo root"
    )]
    fn rfc_9106_argon2id_vector() {
        let text = shared("kdf/rfc-vectors.json");
        let json: serde_json::Value = serde_json::from_str(&text).unwrap();
        let v = json["argon2"].as_array().unwrap().iter().find(|v| v["name"] == "argon2id").expect("an argon2id entry");
        let field = |k: &str| hex(v[k].as_str().unwrap_or_else(|| panic!("field {k}: {v}")));
        let n = |k: &str| v[k].as_u64().unwrap_or_else(|| panic!("field {k}: {v}")) as u32;
        let cost =
            argon2id::Cost { memory_kib: n("memory_kib"), iterations: n("passes"), parallelism: n("parallelism") };
        let expected = field("tag_hex");
        let mut work = vec![0u8; cost.memory_kib as usize * 1024 + 64];
        let offset = work.as_ptr().align_offset(64);
        let memory = &mut work[offset..offset + cost.memory_kib as usize * 1024];
        let mut out = vec![0u8; expected.len()];
        argon2id::derive(
            &field("password_hex"),
            &field("salt_hex"),
            &field("secret_hex"),
            &field("associated_data_hex"),
            cost,
            memory,
            &mut out,
        )
        .unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    #[cfg_attr(miri, ignore = "Argon2 is too slow under Miri")]
    #[cfg_attr(
        all(not(miri), not(strongroom_shared_vectors)),
        ignore = "../shared (test vectors) is absent beside the repo root"
    )]
    fn the_original_sedit_key_schedule() {
        // v2_fixed_salt: passphrase "password", salt 00..0f, 64 MiB, t = 3, 1000 rounds.
        shared("sedit/README.md"); // the vectors these figures come from are here
        let salt: Vec<u8> = (0u8..16).collect();
        let derived = derive_key_combined(b"password", &salt, &KdfParams::DEFAULT).unwrap();
        let expected = hex("8c9bb8da28241ca9d42807712aae2aea21986cd30133c0e2dc17cd5122563034");
        assert_eq!(&*derived.key.expose().unwrap(), &expected[..]);
        let one_round = KdfParams { rounds: 1, ..KdfParams::DEFAULT };
        let derived = derive_key_combined(b"password", &salt, &one_round).unwrap();
        let expected = hex("955e91ce865555386b0f915d00520087ca4a612848675c34d19ba8e641c3c4fa");
        assert_eq!(&*derived.key.expose().unwrap(), &expected[..]);
        // Windows has no per-region exclusion from crash dumps (sys/windows.rs).
        assert_eq!(derived.work_memory.dump_excluded, !cfg!(windows), "{:?}", derived.work_memory);
    }

    /// The secure stack is what keeps key material off the thread's stack: derive a key with
    /// and without it, and look on the deriving thread's stack for the key or any value on
    /// the way to it (Argon2's output, each SHA3 round).
    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn without_the_secure_stack_key_material_is_left_on_the_thread_stack() {
        const SALT: &[u8] = b"saltsaltsaltsalt";
        let params = KdfParams { memory_kib: 64, iterations: 1, rounds: 3 };
        let chain: Vec<Vec<u8>> = (0..=params.rounds)
            .map(|rounds| {
                let derived = derive_key_combined(b"stack test", SALT, &KdfParams { rounds, ..params }).unwrap();
                derived.key.expose().unwrap().to_vec()
            })
            .collect();
        let found = |stack: &[u8]| chain.iter().filter(|v| stack.windows(KEY_LEN).any(|w| w == &v[..])).count();

        let bare = crate::testing::stack_after(move || {
            let mut work = LockedBuffer::with_policy(64 * 1024, WORK_MEMORY_POLICY).unwrap();
            let mut key = LockedBuffer::new(KEY_LEN).unwrap();
            derive_into(b"stack test", SALT, &params, &mut work, &mut key).unwrap();
        });
        assert!(found(&bare) > 0, "this test cannot fail: without the secure stack nothing was left to find");
        let secure =
            crate::testing::stack_after(move || drop(derive_key_combined(b"stack test", SALT, &params).unwrap()));
        assert_eq!(found(&secure), 0, "key material was found on the thread's stack");
    }
}
