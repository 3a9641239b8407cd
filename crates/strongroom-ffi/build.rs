//! Link arguments for the C library: its soname, and a version script that exports only the
//! `strongroom_*` symbols (the Rust standard library and strongroom's internals stay local,
//! so two Rust libraries in one C program cannot clash).

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    println!("cargo::rerun-if-changed=strongroom.map");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo::rustc-cdylib-link-arg=-Wl,-soname,libstrongroom.so.0");
        println!("cargo::rustc-cdylib-link-arg=-Wl,--version-script={dir}/strongroom.map");
    }
}
