//! `strongroom doctor`: what this machine offers, and proof that the protections are live.
//!
//! [`machine`] gathers the facts (kernel, `memfd_secret`, `RLIMIT_MEMLOCK` and
//! `CAP_IPC_LOCK`, core-dump settings, ptrace scope). [`run`] then allocates real secrets and
//! checks them from the outside: `/proc/self/smaps` must show their pages locked, out of
//! dumps and out of forks; `/proc/self/mem` must fail to read `memfd_secret` pages; and
//! children that overflow, underflow, corrupt a canary or write to a frozen buffer must die.
//! Each failed check says what to do about it.
//!
//! The library holds all of this so that the command-line tool only parses and prints.

mod checks;
mod machine;

pub use checks::{Check, Report, Status, run};
pub use machine::{Machine, machine};
