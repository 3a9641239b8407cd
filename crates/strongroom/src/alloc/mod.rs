//! Allocation policies over [`crate::sys`]: where secret bytes live and how they are guarded.
//!
//! - [`guarded`]: one mapping per secret, guard pages on both sides, canary in front, data
//!   flush against the trailing guard, per-secret read-only / no-access toggles.
//! - [`region_cache`]: freed guarded regions, wiped and still protected, kept for reuse.
//!
//! This layer owns all raw pointers into secret memory and hands the layers above only safe
//! types with slice accessors. It never decides *what* a secret is.

pub(crate) mod canary;
pub(crate) mod guarded;
pub(crate) mod region_cache;
