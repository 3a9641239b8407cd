//! An asymmetric fence pair: a frequent side that costs only a compiler fence, and a rare
//! side that makes every running thread of the process execute a full memory barrier
//! (`membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, Linux ≥ 4.14), the technique of Linux's
//! RCU and folly's asymmetric fences. A store-then-load on one side, fenced this way, and a
//! store-then-load on the other cannot both miss each other's store: the same guarantee as
//! `SeqCst` fences on both sides, with the cost moved to the side that runs rarely.
//!
//! Where the heavy side is unavailable (other systems, older kernels, seccomp filters, Miri),
//! both sides are full `SeqCst` fences.

use std::sync::atomic::{Ordering, compiler_fence, fence};

/// One process's fence pair. Make it once per process (a forked child is a new process).
pub(crate) struct AsymmetricFence {
    /// Whether this process is registered for expedited membarriers.
    heavy: bool,
}

impl AsymmetricFence {
    /// Registers this process for expedited membarriers where the kernel offers them.
    pub(crate) fn new() -> Self {
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        {
            use rustix::thread::{MembarrierCommand, membarrier};
            AsymmetricFence { heavy: membarrier(MembarrierCommand::RegisterPrivateExpedited).is_ok() }
        }
        #[cfg(not(all(any(target_os = "linux", target_os = "android"), not(miri))))]
        {
            AsymmetricFence { heavy: false }
        }
    }

    /// The frequent side: orders this thread's earlier stores before its later loads, as
    /// seen by a thread that runs [`heavy`](Self::heavy).
    #[inline]
    pub(crate) fn light(&self) {
        if self.heavy {
            compiler_fence(Ordering::SeqCst);
        } else {
            fence(Ordering::SeqCst);
        }
    }

    /// The rare side: a full barrier here and on every thread of the process.
    pub(crate) fn heavy(&self) {
        fence(Ordering::SeqCst);
        #[cfg(all(any(target_os = "linux", target_os = "android"), not(miri)))]
        if self.heavy {
            use rustix::thread::{MembarrierCommand, membarrier};
            if membarrier(MembarrierCommand::PrivateExpedited).is_err() {
                // The light side relied on it: carrying on could free memory under a purge.
                super::abort_with("strongroom: membarrier failed after the process registered for it");
            }
        }
    }
}
