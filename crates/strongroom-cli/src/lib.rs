//! What the `strongroom` and `sedit` binaries share, and the editor behind `sedit`, as a
//! library so that the benchmarks (crates/strongroom-bench/benches/sedit.rs) can drive it.
//! Not a stable API: the binaries are the interface.

pub mod secret_input;
#[cfg(unix)]
pub mod sedit;
