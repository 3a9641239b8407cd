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

// The post-quantum recipient, against typage (`age-encryption` on npm, by age's author) -----

/// Where `.ci/run` installs typage (`npm install --prefix target/interop-npm
/// age-encryption@0.3.1`).
const NPM_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/interop-npm");

const TYPAGE: &str = r#"
import * as age from "age-encryption";
import { readFileSync, writeFileSync } from "node:fs";
const [mode, a, b, c] = process.argv.slice(2);
if (mode === "keygen") {
  const identity = await age.generateHybridIdentity();
  writeFileSync(a, identity);
  writeFileSync(b, await age.identityToRecipient(identity));
} else if (mode === "encrypt") {
  const e = new age.Encrypter();
  e.addRecipient(readFileSync(a, "utf8"));
  writeFileSync(c, await e.encrypt(readFileSync(b)));
} else if (mode === "decrypt") {
  const d = new age.Decrypter();
  d.addIdentity(readFileSync(a, "utf8"));
  writeFileSync(c, await d.decrypt(readFileSync(b)));
}
"#;

/// Runs the script above with node, or `None` when node or typage is missing (a failure
/// under CI, which installs both).
fn typage(args: &[&std::path::Path]) -> Option<()> {
    let module = std::path::Path::new(NPM_DIR).join("node_modules/age-encryption");
    if !module.is_dir() {
        assert!(std::env::var_os("CI").is_none(), "typage is missing under CI ({})", module.display());
        eprintln!("SKIPPED typage interop: npm install --prefix target/interop-npm age-encryption@0.3.1");
        return None;
    }
    let script = std::path::Path::new(NPM_DIR).join("strongroom-interop.mjs");
    std::fs::write(&script, TYPAGE).unwrap();
    let out = Command::new("node").arg(&script).args(args).output().expect("node runs");
    assert!(out.status.success(), "typage {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    Some(())
}

#[test]
fn post_quantum_files_interoperate_with_typage() {
    use super::bech32;
    use super::recipients::HybridIdentity;
    use crate::kem::x_wing;

    let dir = tempdir();
    let (id_file, rec_file) = (dir.join("identity"), dir.join("recipient"));
    if typage(&[std::path::Path::new("keygen"), &id_file, &rec_file]).is_none() {
        return std::fs::remove_dir_all(&dir).unwrap();
    }
    // typage encrypts to its key; strongroom opens.
    let text = std::fs::read(&id_file).unwrap();
    let mut locked = LockedBuffer::new(text.len()).unwrap();
    locked.copy_from(&text).unwrap();
    let identities = [Identity::Hybrid(HybridIdentity::parse(&locked.expose().unwrap()).unwrap())];
    for len in SIZES {
        let (plain_file, sealed_file) = (dir.join("plain"), dir.join("sealed.age"));
        std::fs::write(&plain_file, plaintext(len)).unwrap();
        typage(&[std::path::Path::new("encrypt"), &rec_file, &plain_file, &sealed_file]).unwrap();
        let mut plain = Vec::new();
        let sealed = std::fs::read(&sealed_file).unwrap();
        super::open(&sealed[..], &identities).unwrap().read_to_end(&mut plain).unwrap();
        assert!(plain == plaintext(len), "typage to strongroom, len {len}");
    }
    // strongroom encrypts to a key of its own; typage opens.
    let key = x_wing::DecapsulationKey::generate().unwrap();
    let mut id_text = vec![0u8; bech32::encoded_len("AGE-SECRET-KEY-PQ-", 32)];
    bech32::encode_into("AGE-SECRET-KEY-PQ-", &*key.seed().unwrap(), true, &mut id_text).unwrap();
    std::fs::write(&id_file, &id_text).unwrap();
    let public = key.encapsulation_key().as_bytes();
    let mut rec_text = vec![0u8; bech32::encoded_len("age1pq", public.len())];
    bech32::encode_into("age1pq", public, false, &mut rec_text).unwrap();
    let recipients = [Recipient::parse(std::str::from_utf8(&rec_text).unwrap()).unwrap()];
    for len in SIZES {
        let mut writer = AgeWriter::new(Vec::new(), &recipients).unwrap();
        writer.write_all(&plaintext(len)).unwrap();
        let (sealed_file, opened_file) = (dir.join("mine.age"), dir.join("opened"));
        std::fs::write(&sealed_file, writer.finish().unwrap()).unwrap();
        typage(&[std::path::Path::new("decrypt"), &id_file, &sealed_file, &opened_file]).unwrap();
        assert!(std::fs::read(&opened_file).unwrap() == plaintext(len), "strongroom to typage, len {len}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
