//! `strongroom doctor`: what this machine offers, and proof that the protections are live.
//!
//! [`machine`] gathers the facts (kernel, `memfd_secret`, `RLIMIT_MEMLOCK` and
//! `CAP_IPC_LOCK`, core-dump settings, ptrace scope), and [`Budget`] what fits in the
//! locked memory left. [`run`] then allocates real secrets and checks them from the outside:
//! `/proc/self/smaps` must show their pages locked, out of dumps and out of forks;
//! `/proc/self/mem` must fail to read `memfd_secret` pages; children that overflow,
//! underflow, corrupt a canary or write to a frozen buffer must die; the secure stack, a key
//! derivation and a Stream round trip must work. Each check appears once whatever happens: one
//! the environment kept from running is a skip that says why, and each failed check says what
//! to do about it.
//!
//! The library holds all of this so that the command-line tool only parses and prints.

mod budget;
mod checks;
mod machine;

pub use budget::{Budget, POOLED_SECRET_BYTES};
pub use checks::{Check, Conclusion, Report, Status, check_names, run};
pub use machine::{Machine, machine};
