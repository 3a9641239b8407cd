//! Interoperability with the reference implementation: Debian's `age` and `age-keygen`
//! (1.1.1; X25519 and armor) both ways, for empty, small and multi-chunk files. Passphrase
//! files need `age` driven through a terminal, and post-quantum ones a newer age: not here.

use std::io::{Read, Write};
use std::process::{Command, Stdio};

use super::armor::ArmorWriter;
use super::recipients::{Identity, X25519Identity};
use super::writer::{AgeWriter, Recipient};
use crate::buffer::LockedBuffer;

/// An identity made by `age-keygen`: (the identity's text, its recipient), or `None` when
/// `age` is not installed (a failure under CI, which installs it).
fn age_keygen(dir: &std::path::Path) -> Option<(std::path::PathBuf, String)> {
    let path = dir.join("identity.txt");
    match Command::new("age-keygen").arg("-o").arg(&path).output() {
        Ok(out) => assert!(out.status.success(), "age-keygen: {}", String::from_utf8_lossy(&out.stderr)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            assert!(std::env::var_os("CI").is_none(), "age (Debian package `age`) is missing under CI");
            eprintln!("SKIPPED age interop: age is not installed (apt-get install age)");
            return None;
        }
        Err(e) => panic!("age-keygen: {e}"),
    }
    let text = std::fs::read_to_string(&path).unwrap();
    let recipient = text.lines().find_map(|l| l.strip_prefix("# public key: ")).unwrap().to_owned();
    Some((path, recipient))
}

/// The identity line of an `age-keygen` file, read into protected memory and parsed.
fn identity(path: &std::path::Path) -> Identity {
    let text = std::fs::read_to_string(path).unwrap();
    let line = text.lines().find(|l| l.starts_with("AGE-SECRET-KEY-1")).unwrap();
    let mut locked = LockedBuffer::new(line.len()).unwrap();
    locked.copy_from(line.as_bytes()).unwrap();
    Identity::X25519(X25519Identity::parse(&locked.expose().unwrap()).unwrap())
}

fn run(program: &str, args: &[&str], input: &[u8]) -> Vec<u8> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

const SIZES: [usize; 4] = [0, 1, 1000, 3 * 64 * 1024 + 17];

fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + 5) as u8).collect()
}

#[test]
fn files_written_here_open_with_age() {
    let dir = tempdir();
    let Some((identity_file, recipient)) = age_keygen(&dir) else { return };
    let id = identity_file.to_str().unwrap();
    for len in SIZES {
        for armored in [false, true] {
            let recipients = [Recipient::parse(&recipient).unwrap()];
            let file = if armored {
                let mut w = AgeWriter::new(ArmorWriter::new(Vec::new()), &recipients).unwrap();
                w.write_all(&plaintext(len)).unwrap();
                w.finish().unwrap().finish().unwrap()
            } else {
                let mut w = AgeWriter::new(Vec::new(), &recipients).unwrap();
                w.write_all(&plaintext(len)).unwrap();
                w.finish().unwrap()
            };
            assert!(run("age", &["-d", "-i", id], &file) == plaintext(len), "len {len}, armored {armored}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn files_written_by_age_open_here() {
    let dir = tempdir();
    let Some((identity_file, recipient)) = age_keygen(&dir) else { return };
    let identities = [identity(&identity_file)];
    for len in SIZES {
        for armor in [&[][..], &["-a"][..]] {
            let args: Vec<&str> = ["-r", recipient.as_str()].iter().copied().chain(armor.iter().copied()).collect();
            let file = run("age", &args, &plaintext(len));
            let mut plain = Vec::new();
            super::open(&file[..], &identities).unwrap().read_to_end(&mut plain).unwrap();
            assert!(plain == plaintext(len), "len {len}, {armor:?}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fresh directory under the system's temporary directory, for one test.
fn tempdir() -> std::path::PathBuf {
    let mut name = [0u8; 8];
    crate::sys::fill_random(&mut name).unwrap();
    let dir = std::env::temp_dir()
        .join(format!("strongroom-age-{}", name.iter().map(|b| format!("{b:02x}")).collect::<String>()));
    std::fs::create_dir(&dir).unwrap();
    dir
}
