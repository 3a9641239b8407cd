//! A small cache of freed guarded regions, wiped and still protected, for reuse.
//!
//! Mapping a guarded region costs five to eight system calls (tens of microseconds with
//! `memfd_secret`, whose first touch of a page is slow). Programs that free and allocate
//! secrets of similar sizes can reuse a wiped region instead: it keeps its guard pages, its
//! lock, its dump and fork exclusion and its backing, and gets a fresh canary. The cache is
//! bounded ([`set_limit`], 1 MiB by default) and is emptied before any allocation is allowed
//! to fail for want of lockable memory, so it never costs a caller a `LockLimit` error.
//!
//! The lock is only ever *tried*: a thread that finds it busy (or a forked child that
//! inherited it locked by a thread that no longer exists) maps or unmaps directly instead.

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::mapping::Mapping;
use crate::policy::Policy;

const DEFAULT_LIMIT: usize = 1 << 20;

static LIMIT: AtomicUsize = AtomicUsize::new(DEFAULT_LIMIT);
static CACHE: Mutex<Cache> = Mutex::new(Cache { regions: Vec::new(), bytes: 0 });

struct Cache {
    regions: Vec<Mapping>,
    bytes: usize,
}

/// Sets how many bytes of freed, wiped regions may be kept for reuse (default 1 MiB); `0`
/// unmaps every freed region at once. Shrinking the limit releases what no longer fits.
///
/// ```
/// // Trade speed for the smallest locked footprint.
/// strongroom::tuning::set_region_cache_limit(0);
/// # strongroom::tuning::set_region_cache_limit(1 << 20);
/// ```
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
    if let Ok(mut cache) = CACHE.try_lock() {
        while cache.bytes > bytes {
            let Some(mapping) = cache.regions.pop() else {
                break;
            };
            cache.bytes -= mapping.inner_len();
        }
    }
}

/// A cached region of exactly `inner_len` bytes made under `policy`, if one is free.
pub(crate) fn take(inner_len: usize, policy: Policy) -> Option<Mapping> {
    let mut cache = CACHE.try_lock().ok()?;
    let index =
        cache.regions.iter().rposition(|m| m.inner_len() == inner_len && m.policy == policy && m.stamp.is_current())?;
    let mapping = cache.regions.swap_remove(index);
    cache.bytes -= mapping.inner_len();
    Some(mapping)
}

/// Keeps a wiped region for reuse, or unmaps it when the cache is full or busy.
pub(crate) fn put(mapping: Mapping) {
    let fits = |cache: &Cache| cache.bytes + mapping.inner_len() <= LIMIT.load(Ordering::Relaxed);
    let Ok(mut cache) = CACHE.try_lock() else {
        return;
    };
    if fits(&cache) && mapping.stamp.is_current() {
        cache.bytes += mapping.inner_len();
        cache.regions.push(mapping);
    }
    // else: `mapping` drops here and is unmapped
}

/// Whether [`put`] may keep `mapping` (it is not larger than the whole cache): such a region
/// is wiped whole first, since it may be handed out again; a larger one is only ever
/// unmapped, so it need not be faulted in to be wiped. (Whether there is room is decided in
/// `put`, under the lock; a region that finds none is unmapped, already wiped.)
pub(crate) fn may_keep(mapping: &Mapping) -> bool {
    mapping.inner_len() <= LIMIT.load(Ordering::Relaxed)
}

/// Unmaps every cached region; returns how many there were.
pub(crate) fn drain() -> usize {
    let Ok(mut cache) = CACHE.try_lock() else {
        return 0;
    };
    cache.bytes = 0;
    std::mem::take(&mut cache.regions).len()
}
