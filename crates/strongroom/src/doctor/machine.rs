//! The facts about this machine that decide which protections strongroom can give.

use crate::sys;
use crate::sys::procfs::{self, CAP_IPC_LOCK};

/// What this machine and process offer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Kernel release (`uname -r`).
    pub kernel: Option<String>,
    /// Page size in bytes.
    pub page_size: usize,
    /// Whether `memfd_secret(2)` works here.
    pub secret_memory: bool,
    /// `RLIMIT_MEMLOCK` soft limit in bytes; `None` when unlimited.
    pub memlock_limit: Option<u64>,
    /// Bytes locked by this process right now.
    pub locked_now: Option<u64>,
    /// Whether the process holds `CAP_IPC_LOCK` (locking is then not limited).
    pub cap_ipc_lock: Option<bool>,
    /// Effective user id.
    pub euid: Option<u32>,
    /// `/proc/sys/kernel/core_pattern`.
    pub core_pattern: Option<String>,
    /// `RLIMIT_CORE` soft limit in bytes; `None` when unlimited.
    pub core_limit: Option<u64>,
    /// `/proc/sys/kernel/yama/ptrace_scope`; `None` without the Yama module.
    pub ptrace_scope: Option<String>,
    /// Whether this process is dumpable: if so, other processes of the same user may attach
    /// with ptrace and read its memory (see [`crate::harden`]).
    pub dumpable: Option<bool>,
}

/// Reads the facts.
///
/// ```
/// let m = strongroom::doctor::machine();
/// assert!(m.page_size >= 4096);
/// ```
pub fn machine() -> Machine {
    Machine {
        kernel: procfs::sysctl("kernel/osrelease"),
        page_size: sys::page_size(),
        secret_memory: sys::secret_memory_available(),
        memlock_limit: sys::memlock_limit(),
        locked_now: sys::locked_bytes(),
        cap_ipc_lock: procfs::effective_capabilities().map(|caps| caps & (1 << CAP_IPC_LOCK) != 0),
        euid: procfs::status_field("Uid").and_then(|uids| uids.split_whitespace().nth(1)?.parse().ok()),
        core_pattern: procfs::sysctl("kernel/core_pattern"),
        core_limit: sys::core_limit(),
        ptrace_scope: procfs::sysctl("kernel/yama/ptrace_scope"),
        dumpable: crate::is_dumpable(),
    }
}

impl Machine {
    /// How many bytes this process may still lock, `None` when unlimited.
    ///
    /// ```
    /// let m = strongroom::doctor::machine();
    /// if let Some(room) = m.lockable_bytes() {
    ///     println!("{room} bytes of lockable memory left");
    /// }
    /// ```
    pub fn lockable_bytes(&self) -> Option<u64> {
        if self.cap_ipc_lock == Some(true) {
            return None;
        }
        Some(self.memlock_limit?.saturating_sub(self.locked_now.unwrap_or(0)))
    }
}
