//! Allocation policies over [`crate::sys`]: where secret bytes live and how they are guarded.
//!
//! - [`guarded`]: one region per secret, guard pages on both sides, canary in front, data
//!   flush against the trailing guard, per-secret read-only / no-access toggles; built on
//!   [`mapping`] (a guarded mapping with its protections applied per the `Policy`).
//! - [`region_cache`]: freed guarded regions, wiped and still protected, kept for reuse.
//! - [`pool`]: size-class slabs in protected arenas for small secrets, a canary header
//!   between slots, wipe on free, per-thread caches.
//! - [`secure_alloc`]: `SecureAlloc`, an `allocator_api2::Allocator` over the pool and
//!   guarded regions.
//! - [`strict`]: a value in its own region, inaccessible except while borrowed.
//! - [`canary`]: filling and checking canaries; what a breach does.
//!
//! This layer owns all raw pointers into secret memory and hands the layers above only safe
//! types with slice accessors. It never decides *what* a secret is; purge tracking lives in
//! [`crate::purge`], the secure stack in [`crate::stack`].

pub(crate) mod canary;
pub(crate) mod guarded;
pub(crate) mod mapping;
pub(crate) mod pool;
pub(crate) mod region_cache;
pub(crate) mod secure_alloc;
pub(crate) mod strict;

#[cfg(all(test, unix, not(miri)))]
mod fork_tests;
// Pure arithmetic, millions of cases: nothing for Miri to check, and hours under it.
#[cfg(all(test, not(miri)))]
mod layout_proofs;
