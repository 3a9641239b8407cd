//! Process-wide calls: the version, the default policy, purge, hardening, and the boundary's
//! self-test.

use std::ffi::{CStr, c_char};

use strongroom::{HardeningStep, Policy};

use crate::boundary::call;
use crate::status::{Failure, STRONGROOM_E_INVALID_ARGUMENT, STRONGROOM_E_UNSUPPORTED, strongroom_status};

/// The library's version at run time, e.g. "0.1.0" (the header's `STRONGROOM_VERSION_STRING`
/// is the version compiled against). Never NULL; static.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_version() -> *const c_char {
    const VERSION: &CStr = match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
        Ok(version) => version,
        Err(_) => panic!("the package version has no NUL"),
    };
    VERSION.as_ptr()
}

/// Policy for [`strongroom_set_default_policy`]: every protection the platform has is
/// required except memfd_secret, which is used where the kernel has it (the default).
pub const STRONGROOM_POLICY_STANDARD: u32 = 0;
/// Policy: memfd_secret required too (secrets unreadable even by root's passive reads).
pub const STRONGROOM_POLICY_STRICT: u32 = 1;
/// Policy: take every protection available and go on without the rest (each buffer's
/// `strongroom_buffer_protections` says what it got). For a small RLIMIT_MEMLOCK.
pub const STRONGROOM_POLICY_BEST_EFFORT: u32 = 2;

/// Sets the process-wide policy, once, before the first secret; later calls are
/// `STRONGROOM_E_INVALID_ARGUMENT`. Without it, STANDARD applies. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_set_default_policy(policy: u32) -> strongroom_status {
    call(|| {
        let policy = match policy {
            STRONGROOM_POLICY_STANDARD => Policy::STANDARD,
            STRONGROOM_POLICY_STRICT => Policy::STRICT,
            STRONGROOM_POLICY_BEST_EFFORT => Policy::BEST_EFFORT,
            _ => return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "unknown policy")),
        };
        Ok(Policy::set_default(policy)?)
    })
}

/// Wipes every live secret in the process at once: buffers, keys, enclaves (their process
/// key), whatever handle they have. Handles stay valid; using their secrets afterwards is
/// `STRONGROOM_E_DESTROYED`. For a panic path or an exit. Thread-safe; async-signal-safety
/// is not promised (call it from your signal-handling thread, not from a handler).
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_purge() -> strongroom_status {
    call(|| {
        strongroom::purge();
        Ok(())
    })
}

/// Hardens the process: not dumpable (no same-user debugger attach, no /proc/PID/mem by
/// other processes of the user) and no core files. `STRONGROOM_E_UNSUPPORTED` (with the
/// reason in `strongroom_last_error`) if a step could not be applied. Installs no signal
/// handler. Thread-safe.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_harden() -> strongroom_status {
    call(|| {
        let hardening = strongroom::harden();
        if hardening.fully_applied() {
            return Ok(());
        }
        let steps = [("not dumpable", &hardening.not_dumpable), ("no core files", &hardening.no_core_files)];
        let missing: Vec<String> = steps
            .iter()
            .filter_map(|(name, step)| match step {
                HardeningStep::NotApplied(why) => Some(format!("{name}: {why}")),
                _ => None,
            })
            .collect();
        Err(Failure::new(STRONGROOM_E_UNSUPPORTED, format!("hardening incomplete: {}", missing.join("; "))))
    })
}

/// Panics inside the library, to prove that no panic crosses into C: returns
/// `STRONGROOM_E_PANIC`, and the library stays usable. For tests.
#[unsafe(no_mangle)]
pub extern "C" fn strongroom_test_panic() -> strongroom_status {
    call(|| panic!("strongroom_test_panic: a deliberate panic, caught at the boundary"))
}
