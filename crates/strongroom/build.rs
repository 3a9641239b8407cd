//! Tells the tests whether the shared test vectors are here.
//!
//! The vectors live in `../shared` beside the repository root, never in the repository. When
//! that directory exists, this sets `cfg(strongroom_shared_vectors)` and the vector tests run:
//! a vector file missing from it is then a test failure. When it does not exist, the vector
//! tests are `#[ignore]`d with the reason, so `cargo test` lists them as ignored instead of
//! passing them unseen.

use std::path::PathBuf;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(strongroom_shared_vectors)");
    println!("cargo::rerun-if-changed=build.rs");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    // crates/strongroom -> crates -> the repository root -> beside it.
    let shared = manifest_dir.join("../../../shared");
    if shared.is_dir() {
        println!("cargo::rustc-cfg=strongroom_shared_vectors");
        // Removing the directory (or changing it) reruns this script.
        println!("cargo::rerun-if-changed={}", shared.display());
    }
    // When it is absent, watching the missing path would rerun this script, and rebuild the
    // crate, on every build; so after adding `../shared`, touch this file (or `cargo clean
    // -p strongroom`) for the vector tests to run.
}
