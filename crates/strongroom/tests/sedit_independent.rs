//! sedit v3 files against an independent implementation: a Python reader and writer, written
//! here from the format spec (`shared/design/sedit-format.md`), on PyNaCl (libsodium's
//! XChaCha20-Poly1305), argon2-cffi (the reference Argon2) and `hashlib.sha3_256`. It parses
//! the 40-byte header itself and shares no code with strongroom, so a file strongroom writes
//! that it reads back (and one it writes that strongroom reads) is the format, not one
//! implementation agreeing with itself.
//!
//! `.ci/run` installs `python3-nacl` and `python3-argon2` (Debian); elsewhere the tests are
//! skipped, visibly, when no Python 3 with both modules is found.
#![cfg(target_os = "linux")]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use strongroom::Error;
use strongroom::kdf::KdfParams;
use strongroom::sedit;

/// The independent implementation. Passphrases travel in files, as raw bytes, so that nothing
/// (argv, locale) re-encodes them.
///
/// - `selftest`: its KDF against the spec's published figures (vector `v2_fixed_salt`).
/// - `decrypt FILE PASSFILE OUT`: parses a v3 header, prints `m t rounds`, writes the
///   plaintext to OUT; exits non-zero if the file does not authenticate. It also checks that
///   the header is the AAD: the same ciphertext must not open with an empty AAD.
/// - `encrypt PLAINFILE PASSFILE OUT M T ROUNDS`: writes a v3 file, random salt and nonce.
const SCRIPT: &str = r#"
import hashlib, os, struct, sys
from argon2.low_level import Type, hash_secret_raw
from nacl.bindings import (
    crypto_aead_xchacha20poly1305_ietf_decrypt as aead_open,
    crypto_aead_xchacha20poly1305_ietf_encrypt as aead_seal,
)
from nacl.exceptions import CryptoError

MAGIC = b"SEDIT\x00\x03\x00"
HEADER = struct.Struct(">8sIIQ16s")  # magic, m KiB, t, rounds, salt: 40 bytes
assert HEADER.size == 40
NONCE, TAG = 24, 16

def argon2id(passphrase, salt, m, t):
    return hash_secret_raw(secret=passphrase, salt=salt, time_cost=t, memory_cost=m,
                           parallelism=1, hash_len=32, type=Type.ID, version=19)

def key(passphrase, salt, m, t, rounds):
    k = argon2id(passphrase, salt, m, t)
    for _ in range(rounds):
        k = hashlib.sha3_256(k).digest()
    return k

def read(path):
    with open(path, "rb") as f:
        return f.read()

def write(path, data):
    with open(path, "wb") as f:
        f.write(data)

def selftest():
    salt, pw = bytes(range(16)), b"password"
    k0 = argon2id(pw, salt, 65536, 3)
    assert k0.hex() == "def6fd068289b9a0cf1114f8e978a2c4dab6faef377d895b9c2d59fc93fc5653", k0.hex()
    h1 = hashlib.sha3_256(k0).hexdigest()
    assert h1 == "955e91ce865555386b0f915d00520087ca4a612848675c34d19ba8e641c3c4fa", h1
    k = key(pw, salt, 65536, 3, 1000).hex()
    assert k == "8c9bb8da28241ca9d42807712aae2aea21986cd30133c0e2dc17cd5122563034", k
    print("selftest ok")

def decrypt(path, passfile, out):
    data = read(path)
    if len(data) < HEADER.size + NONCE + TAG:
        sys.exit("too short for a v3 file")
    magic, m, t, rounds, salt = HEADER.unpack_from(data)
    if magic != MAGIC:
        sys.exit("not a sedit v3 file: %r" % magic)
    header = data[:HEADER.size]
    nonce = data[HEADER.size:HEADER.size + NONCE]
    sealed = data[HEADER.size + NONCE:]
    k = key(read(passfile), salt, m, t, rounds)
    try:
        plain = aead_open(sealed, header, nonce, k)
    except CryptoError:
        sys.exit("does not authenticate")
    try:
        aead_open(sealed, b"", nonce, k)
        sys.exit("opened with an empty AAD: the header is not authenticated")
    except CryptoError:
        pass
    write(out, plain)
    print(m, t, rounds)

def encrypt(plainfile, passfile, out, m, t, rounds):
    m, t, rounds = int(m), int(t), int(rounds)
    salt, nonce = os.urandom(16), os.urandom(NONCE)
    header = HEADER.pack(MAGIC, m, t, rounds, salt)
    k = key(read(passfile), salt, m, t, rounds)
    write(out, header + nonce + aead_seal(read(plainfile), header, nonce, k))

commands = {"selftest": selftest, "decrypt": decrypt, "encrypt": encrypt}
commands[sys.argv[1]](*sys.argv[2:])
"#;

/// Cheap parameters: Argon2 at [`KdfParams::DEFAULT`] takes seconds in Python.
const CHEAP: KdfParams = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 };
/// Other cheap parameters, none equal to another field's value, and no SHA3 rounds at all.
const OTHER: KdfParams = KdfParams { memory_kib: 2048, iterations: 2, rounds: 0 };
const UNICODE: &str = "pässwörd-🔑";

/// (name, plaintext, passphrase, parameters)
fn cases() -> Vec<(&'static str, Vec<u8>, &'static [u8], KdfParams)> {
    let big: Vec<u8> = (0..100 * 1024u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    vec![
        ("empty", Vec::new(), b"pw", CHEAP),
        ("short", b"my notes\n".to_vec(), b"correct horse battery staple", CHEAP),
        ("100 KiB", big, b"pw", CHEAP),
        ("non-ASCII passphrase", "grüße, 🔑\n".as_bytes().to_vec(), UNICODE.as_bytes(), CHEAP),
        ("other parameters", b"\x00\x01\xfe\xff binary".to_vec(), b"pw", OTHER),
    ]
}

/// A Python 3 that imports PyNaCl and argon2-cffi, and a scratch directory holding the script.
struct Python {
    exe: &'static str,
    dir: PathBuf,
    script: PathBuf,
}

impl Python {
    /// `None` after reporting the test [`common::missing`]. `python3` on PATH may be another
    /// interpreter (pyenv, a venv) than the one Debian's packages install into, so the system
    /// one is tried too.
    #[track_caller]
    fn find(test: &str) -> Option<Python> {
        let probe = "import nacl.bindings, argon2.low_level";
        let works = |exe: &str| Command::new(exe).args(["-c", probe]).output().is_ok_and(|o| o.status.success());
        let Some(exe) = ["python3", "/usr/bin/python3"].into_iter().find(|exe| works(exe)) else {
            common::missing(test, "no python3 imports nacl (PyNaCl) and argon2 (argon2-cffi)");
            return None;
        };
        let dir = std::env::temp_dir().join(format!("strongroom-sedit-{test}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let script = dir.join("sedit.py");
        fs::write(&script, SCRIPT).unwrap();
        Some(Python { exe, dir, script })
    }

    fn run(&self, args: &[&Path]) -> Output {
        Command::new(self.exe).arg(&self.script).args(args).output().expect("python3 starts")
    }

    fn file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.dir.join(name);
        fs::write(&path, bytes).unwrap();
        path
    }
}

impl Drop for Python {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn describe(out: &Output) -> String {
    format!(
        "{}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The Python implementation's KDF gives the spec's published figures: Argon2id, one SHA3-256
/// and the key after 1000 rounds (64 MiB, 3 passes: under a second). Anchors the other tests
/// to the spec rather than to strongroom.
#[test]
fn the_independent_kdf_matches_the_spec() {
    let Some(py) = Python::find("the_independent_kdf_matches_the_spec") else { return };
    let out = py.run(&[Path::new("selftest")]);
    assert!(out.status.success() && out.stdout.starts_with(b"selftest ok"), "{}", describe(&out));
}

/// Every file strongroom writes, the independent reader parses (the header's parameters as
/// written), authenticates with the header as the AAD, and decrypts to the plaintext; and it
/// refuses it under a wrong passphrase.
#[test]
fn python_reads_what_strongroom_writes() {
    let Some(py) = Python::find("python_reads_what_strongroom_writes") else { return };
    let wrong = py.file("wrong", b"not it");
    for (i, (name, plain, passphrase, params)) in cases().into_iter().enumerate() {
        let file = sedit::encrypt(&plain, passphrase, &params).unwrap();
        assert_eq!(file.len(), 40 + 24 + plain.len() + 16, "{name}");
        let sealed = py.file(&format!("{i}.sedit"), &file);
        let pass = py.file(&format!("{i}.pass"), passphrase);
        let out_path = py.dir.join(format!("{i}.out"));

        let out = py.run(&[Path::new("decrypt"), &sealed, &pass, &out_path]);
        assert!(out.status.success(), "{name}: {}", describe(&out));
        let header = format!("{} {} {}\n", params.memory_kib, params.iterations, params.rounds);
        assert_eq!(String::from_utf8_lossy(&out.stdout), header, "{name}: the header as parsed");
        assert!(fs::read(&out_path).unwrap() == plain, "{name}: the plaintext differs");

        fs::remove_file(&out_path).unwrap();
        let out = py.run(&[Path::new("decrypt"), &sealed, &wrong, &out_path]);
        assert!(!out.status.success(), "{name}: opened under a wrong passphrase: {}", describe(&out));
        assert!(!out_path.exists(), "{name}: wrote a plaintext under a wrong passphrase");
    }
}

/// Every file the independent writer makes (its own salt and nonce) strongroom decrypts to
/// the plaintext, within its default limits, and refuses under a wrong passphrase.
#[test]
fn strongroom_reads_what_python_writes() {
    let Some(py) = Python::find("strongroom_reads_what_python_writes") else { return };
    for (i, (name, plain, passphrase, params)) in cases().into_iter().enumerate() {
        let plain_path = py.file(&format!("{i}.plain"), &plain);
        let pass = py.file(&format!("{i}.pass"), passphrase);
        let sealed = py.dir.join(format!("{i}.sedit"));
        let (m, t, rounds) = (params.memory_kib.to_string(), params.iterations.to_string(), params.rounds.to_string());
        let args =
            [Path::new("encrypt"), &plain_path, &pass, &sealed, Path::new(&m), Path::new(&t), Path::new(&rounds)];
        let out = py.run(&args);
        assert!(out.status.success(), "{name}: {}", describe(&out));

        let file = fs::read(&sealed).unwrap();
        assert!(sedit::is_sedit(&file), "{name}");
        let opened = sedit::decrypt(&file, passphrase).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(*opened.expose().unwrap() == plain[..], "{name}: the plaintext differs");
        assert!(matches!(sedit::decrypt(&file, b"not it"), Err(Error::Crypto)), "{name}: a wrong passphrase");
    }
}
