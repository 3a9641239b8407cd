//! Links the peer libraries the benchmarks compare against, and builds the C timing loops
//! of benches/ffi.rs against libstrongroom's header (their strongroom_* symbols resolve to
//! the strongroom-ffi crate linked into the bench).
fn main() {
    println!("cargo:rustc-link-lib=sodium");
    println!("cargo:rustc-link-lib=crypto");
    println!("cargo::rerun-if-changed=benches/ffi_loop.c");
    cc::Build::new().file("benches/ffi_loop.c").include("../strongroom-ffi/include").opt_level(2).compile("ffi_loop");
}
