//! The committed header agrees with the crate: its version macros are this package's
//! version (CI separately checks that cbindgen would write the same header).

use std::ffi::CStr;

fn header() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/include/strongroom.h")).expect("include/strongroom.h")
}

fn define(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    let line = header
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} not in the header"));
    line.trim().trim_matches('"').to_string()
}

#[test]
fn the_version_macros_are_the_package_version() {
    let header = header();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(define(&header, "STRONGROOM_VERSION_STRING"), version);
    let parts: Vec<&str> = version.split('.').collect();
    for (name, part) in
        ["STRONGROOM_VERSION_MAJOR", "STRONGROOM_VERSION_MINOR", "STRONGROOM_VERSION_PATCH"].iter().zip(parts)
    {
        assert_eq!(define(&header, name), part, "{name}");
    }
    // SAFETY: strongroom_version returns a static NUL-terminated string.
    let runtime = unsafe { CStr::from_ptr(strongroom_ffi::strongroom_version()) };
    assert_eq!(runtime.to_str().unwrap(), version);
}

#[test]
fn every_exported_function_is_in_the_header() {
    let header = header();
    let sources = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/src")).unwrap();
    let mut count = 0;
    for file in sources {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for name in text.split("extern \"C\" fn ").skip(1).filter_map(|rest| rest.split('(').next()) {
            assert!(header.contains(&format!("{name}(")), "{name} is exported but not in the header");
            count += 1;
        }
    }
    assert!(count > 40, "found only {count} exported functions");
}
