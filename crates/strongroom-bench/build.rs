//! Links the peer libraries the benchmarks compare against.
fn main() {
    println!("cargo:rustc-link-lib=sodium");
    println!("cargo:rustc-link-lib=crypto");
}
