//! The age conformance testkit (`../shared/vectors/age-testkit`, C2SP CCTV), loaded for the
//! tests: each file is `key: value` lines, a blank line, then the age file (zlib-compressed
//! when `compressed: zlib`).

use std::io::Read;

const TESTKIT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/age-testkit");

/// One testkit vector: its textual header (key, value) and the age file after it.
pub(crate) struct Vector {
    pub(crate) name: String,
    keys: Vec<(String, String)>,
    pub(crate) file: Vec<u8>,
}

impl Vector {
    /// Every (key, value) of the textual header, in order (keys may repeat).
    pub(crate) fn keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.keys.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

pub(crate) fn testkit() -> Vec<Vector> {
    let mut vectors = Vec::new();
    let dir =
        std::fs::read_dir(TESTKIT).unwrap_or_else(|e| panic!("{TESTKIT}: {e} (../shared is present, so it must be)"));
    for entry in dir {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("README") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let split = bytes.windows(2).position(|w| w == b"\n\n").unwrap_or_else(|| panic!("{name}: no blank line"));
        let text = std::str::from_utf8(&bytes[..split]).unwrap();
        let keys = text.lines().filter_map(|l| l.split_once(": ")).map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
        let mut vector = Vector { name, keys, file: bytes[split + 2..].to_vec() };
        if vector.get("compressed") == Some("zlib") {
            let mut inflated = Vec::new();
            flate2::read::ZlibDecoder::new(&vector.file[..]).read_to_end(&mut inflated).unwrap();
            vector.file = inflated;
        }
        vectors.push(vector);
    }
    vectors.sort_by(|a, b| a.name.cmp(&b.name));
    vectors
}
