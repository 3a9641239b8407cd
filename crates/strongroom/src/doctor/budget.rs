//! How much locked memory this process has left, and how many secrets that buys.
//!
//! Only arithmetic on the [`Machine`]'s facts lives here; nothing is allocated.

use super::machine::Machine;

/// Locked bytes one pooled 32-byte secret costs: its slot of the 48-byte size class (the
/// data and its canary header). The pool maps its arenas a page at a time at least, so a
/// page holds `page_size / 48` of them.
pub const POOLED_SECRET_BYTES: u64 = 48;

/// The locked-memory budget: the limit, what is locked already, and what fits in the rest.
///
/// Figures are estimates from the page size and the pool's layout, taken when the doctor
/// starts (its own checks lock and unlock memory as they run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// `RLIMIT_MEMLOCK` soft limit in bytes; `None` when unlimited.
    pub memlock_limit: Option<u64>,
    /// Bytes locked by this process (`VmLck`), when it can be read.
    pub locked_now: Option<u64>,
    /// Bytes this process may still lock; `None` when locking is not limited (no limit, or
    /// `CAP_IPC_LOCK`).
    pub room: Option<u64>,
    /// How many pooled 32-byte secrets (`SecretBox<[u8; 32]>`) fit in the room: about
    /// [`POOLED_SECRET_BYTES`] each, in whole locked pages (the pool's smallest arena is one
    /// page). `None` when not limited.
    pub pooled_secrets: Option<u64>,
    /// How many guarded buffers (`LockedBuffer`, one locked page each up to a page of data)
    /// fit in the room. `None` when not limited.
    pub guarded_buffers: Option<u64>,
}

impl Budget {
    /// The budget of a machine.
    ///
    /// ```
    /// use strongroom::doctor::{Budget, machine};
    ///
    /// let mut m = machine();
    /// m.cap_ipc_lock = Some(false);
    /// m.memlock_limit = Some(64 * 1024);
    /// m.locked_now = Some(0);
    /// let budget = Budget::of(&m);
    /// let pages = 64 * 1024 / m.page_size as u64;
    /// assert_eq!(budget.room, Some(64 * 1024));
    /// assert_eq!(budget.pooled_secrets, Some(pages * (m.page_size as u64 / 48)));
    /// assert_eq!(budget.guarded_buffers, Some(pages));
    ///
    /// m.memlock_limit = Some(100); // less than a page: nothing fits
    /// assert_eq!(Budget::of(&m).pooled_secrets, Some(0));
    /// ```
    pub fn of(machine: &Machine) -> Budget {
        let room = machine.lockable_bytes();
        let page = (machine.page_size as u64).max(1);
        Budget {
            memlock_limit: machine.memlock_limit,
            locked_now: machine.locked_now,
            room,
            pooled_secrets: room.map(|r| (r / page) * (page / POOLED_SECRET_BYTES)),
            guarded_buffers: room.map(|r| r / page),
        }
    }
}
