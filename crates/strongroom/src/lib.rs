//! # strongroom
//!
//! Keep secrets — keys, passwords, tokens, plaintext — safe while they live in a process's
//! memory.
//!
//! Ordinary memory leaks secrets: to swap, to core dumps, to a debugger or another root
//! process, to the freed heap, to a child after `fork`, to an overflow next door. strongroom
//! puts them in protected memory instead:
//!
//! | leak path | defence |
//! |---|---|
//! | swap, hibernation | `mlock`, or `memfd_secret` (locked by the kernel) |
//! | core dumps | `MADV_DONTDUMP`, `memfd_secret` |
//! | passive reads by another process (`/proc/PID/mem`, `process_vm_readv`, `PTRACE_PEEKDATA`, gcore), root too | `memfd_secret` (removed from the kernel's direct map) |
//! | a debugger of the same user that attaches and injects code | [`harden`] (`PR_SET_DUMPABLE` 0); nothing stops root |
//! | a forked child | `MADV_WIPEONFORK` / `MADV_DONTFORK` |
//! | linear overflow / underflow | guard pages, a canary checked on free |
//! | stray writes at rest | [`LockedBuffer::freeze`] (read-only pages) |
//! | freed memory reused | wipe on every free |
//!
//! Out of scope: a compromised kernel, hardware side channels (Spectre, Rowhammer, cold
//! boot), and copies of a secret that the caller makes itself.
//!
//! A protection that cannot be applied is an error unless the caller's [`Policy`] accepts
//! the downgrade, and then it is visible in [`Protections`]: strongroom never carries on
//! unprotected in silence.
//!
//! ```
//! use strongroom::LockedBuffer;
//!
//! let mut key = LockedBuffer::random(32)?;
//! key.freeze()?;
//! let got = key.protections();
//! assert!(got.locked && got.dump_excluded && got.guard_pages);
//! key.with(|bytes| assert_eq!(bytes.len(), 32))?;
//! # Ok::<(), strongroom::Error>(())
//! ```
//!
//! What lives where:
//!
//! - [`LockedBuffer`]: a fixed-size secret in its own guarded region; freeze/melt, destroy.
//! - [`SecretBox`], [`SecretVec`], [`SecretString`]: typed secrets, pooled when small
//!   (nanoseconds each, a million at a time), guarded when large, strict (no-access at rest)
//!   on request; [`SecureAlloc`] puts any collection in protected memory.
//! - [`Enclave`]: a secret encrypted under the process key ([`coffer`]), plaintext only
//!   while lent to a closure ([`Enclave::with`]) or opened; [`stream`]: chunked
//!   authenticated encryption of any size; [`aead`]: XChaCha20-Poly1305 with keys as types
//!   ([`aead::Key`], in protected memory) and nonces that cannot be reused by copying
//!   ([`aead::Nonce`]); [`kdf`]: passphrase to key; `kem` (Linux): ML-KEM and X-Wing
//!   with decapsulation keys and shared secrets in protected memory; `sign` (Linux): ML-DSA
//!   signatures with signing keys in protected memory.
//! - [`AtomicFile`]: a file replaced whole or not at all (written beside its target, synced,
//!   renamed over it), for the encrypted files that hold secrets at rest.
//! - [`purge`] wipes every live secret at once; [`catch_interrupt`] does it on SIGINT or
//!   SIGTERM; [`stack::run`] runs your key-handling code on a wiped, locked stack.
//!
//! Run `strongroom doctor` to see which protections this machine offers and to prove them
//! live (guard pages that kill, pages that smaps reports locked, memory that `/proc/PID/mem`
//! cannot read).
#![deny(unsafe_code)]

// The modules allowed to hold unsafe code, and why each needs it. Every block carries a
// `// SAFETY:` argument (enforced by `clippy::undocumented_unsafe_blocks`, workspace lints).
/// Guarded regions, the pool, `SecureAlloc`, strict cells: raw pointers into mappings.
#[allow(unsafe_code)]
mod alloc;
/// The end of a counted borrow, carried as a raw pointer.
#[allow(unsafe_code)]
mod borrow;
/// The guards: a raw pointer to the value, so a deferred wipe never runs under a reference.
#[allow(unsafe_code)]
mod exposed;
/// The purge registry: cells at fixed addresses, reached by raw pointers from the table.
#[allow(unsafe_code)]
mod purge;
/// The platform layer: system calls.
#[allow(unsafe_code)]
mod sys;
// The crypto boundary (`mod crypto` below) allows unsafe code in five files only, named in
// `crypto/mod.rs`: the aws-lc FFI (AEAD; ML-KEM, X25519, SHAKE256; ML-DSA; the Coffer's
// SHA-256 mask), and one cast of protected bytes to Argon2 blocks.
/// Unit-test helpers that read raw memory.
#[cfg(test)]
#[allow(unsafe_code)]
mod testing;

pub mod aead;
#[cfg(all(target_os = "linux", not(miri)))]
pub mod age;
mod atomic_file;
mod buffer;
mod crypto;
#[cfg(all(target_os = "linux", not(miri)))]
pub mod doctor;
mod enclave;
mod error;
mod harden;
// The file formats (age v1 so far); `age` is their public face, on Linux for now.
#[cfg_attr(
    not(all(target_os = "linux", not(miri))),
    expect(dead_code, reason = "the age format's crypto (aws-lc) and its public face are Linux-only for now")
)]
mod format;
pub mod kdf;
#[cfg(all(target_os = "linux", not(miri)))]
pub mod kem;
mod policy;
#[cfg(all(unix, not(miri)))]
pub mod probe;
#[cfg(doctest)]
mod readme;
mod secret;
pub mod sedit;
#[cfg(all(target_os = "linux", not(miri)))]
pub mod sign;
// The secure stack switches stacks (psm) over pages it maps itself: raw pointers to its
// pages, and a `// SAFETY:` argument on every block like the modules above.
#[allow(unsafe_code)]
pub mod stack;

pub use alloc::secure_alloc::{Placement, SecureAlloc};
pub use allocator_api2;
pub use atomic_file::AtomicFile;
pub use buffer::LockedBuffer;
pub use enclave::Enclave;
pub use enclave::{coffer, stream};
pub use error::{Error, FormatError, Result};
pub use exposed::{Exposed, ExposedMut};
pub use harden::{HardenOptions, Hardening, HardeningStep, harden, harden_with, is_dumpable};
pub use policy::{ForkSafety, Need, Policy, Protection, Protections};
#[cfg(unix)]
pub use purge::catch_interrupt;
pub use purge::purge;
pub use secret::{SecretBox, SecretString, SecretVec};

/// The pool that holds small secrets: integrity checks and figures.
///
/// Small secrets (up to 2 KiB) share large protected arenas: each costs its size rounded up
/// to a 16-byte class plus a 16-byte canary header, instead of a locked page and two guard
/// pages. See [`SecureAlloc`] for what the pool protects and what it gives up.
pub mod pool {
    pub use crate::alloc::pool::{PoolStats, stats, verify};
}

/// Knobs that trade speed against footprint. The defaults suit most programs.
pub mod tuning {
    pub use crate::alloc::region_cache::set_limit as set_region_cache_limit;
}
