//! What the fuzz targets share: the fixed age identities, the guard that keeps scrypt cheap,
//! mutations of a valid encryption, and a reader of fuzz bytes.

use std::sync::OnceLock;

use base64ct::{Base64, Encoding};
use strongroom::age::Identity;
use strongroom::{LockedBuffer, SecretVec};

/// The age testkit's X25519 identity (C2SP CCTV `age/testdata`, a published test key): most
/// of the testkit's files are encrypted to it, so seeds from the testkit decrypt.
pub const AGE_X25519_IDENTITY: &[u8] = b"AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0";
/// The age testkit's post-quantum hybrid identity (published test key).
pub const AGE_HYBRID_IDENTITY: &[u8] = b"AGE-SECRET-KEY-PQ-1HZLGZUPT4ETPKDEV8HSGFDCYZ4E522W0A7PU2LHT8EH9W6YLNC3SW78XKG";
/// The age testkit's passphrase.
pub const AGE_PASSPHRASE: &[u8] = b"password";

/// The highest scrypt work factor a fuzz input may make a passphrase identity spend
/// (2^10 · 1 KiB = 1 MiB, milliseconds). The library's own cap is 22 (4 GiB, seconds) and
/// the public API cannot lower it, so inputs that ask for more never meet a passphrase.
pub const MAX_FUZZ_WORK_FACTOR: u64 = 10;

/// The X25519 and hybrid identities and the passphrase, made once.
fn all_identities() -> &'static [Identity; 3] {
    static IDENTITIES: OnceLock<[Identity; 3]> = OnceLock::new();
    IDENTITIES.get_or_init(|| {
        [
            Identity::parse(&locked(AGE_X25519_IDENTITY).expose().unwrap())
                .expect("the testkit's X25519 identity parses"),
            Identity::parse(&locked(AGE_HYBRID_IDENTITY).expose().unwrap())
                .expect("the testkit's hybrid identity parses"),
            Identity::passphrase(locked(AGE_PASSPHRASE)),
        ]
    })
}

/// The X25519 and hybrid identities.
pub fn age_identities() -> &'static [Identity] {
    &all_identities()[..2]
}

/// The identities `input` may meet: the X25519 and hybrid ones, and the passphrase if every
/// scrypt stanza in `input` is cheap ([`scrypt_is_cheap`]).
pub fn age_identities_for(input: &[u8]) -> &'static [Identity] {
    if scrypt_is_cheap(input) { &all_identities()[..] } else { age_identities() }
}

/// `bytes` copied into a `LockedBuffer`.
pub fn locked(bytes: &[u8]) -> LockedBuffer {
    let mut buffer = LockedBuffer::new(bytes.len()).expect("a small LockedBuffer");
    buffer.copy_from(bytes).expect("same length");
    buffer
}

/// Whether every scrypt stanza line an age reader could see in `input` asks for at most
/// [`MAX_FUZZ_WORK_FACTOR`]: the lines of `input` itself, and of what its ASCII armor (if
/// any) decodes to. Conservative: any line that starts `-> scrypt ` and ends in a run of
/// digits above the cap (or longer than two digits) counts, whatever else is wrong with it.
pub fn scrypt_is_cheap(input: &[u8]) -> bool {
    lines_are_cheap(input) && lines_are_cheap(&armor_contents(input))
}

fn lines_are_cheap(bytes: &[u8]) -> bool {
    bytes.split(|&b| b == b'\n').filter(|line| line.starts_with(b"-> scrypt ")).all(|line| {
        let last = line.rsplit(|&b| b == b' ').next().unwrap_or_default();
        if last.is_empty() || !last.iter().all(u8::is_ascii_digit) {
            return true; // not a decimal number: the library refuses it before any work
        }
        last.len() <= 2 && last.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0')) <= MAX_FUZZ_WORK_FACTOR
    })
}

/// What the armor in `input` decodes to, as far as the reader could get: every line that is
/// padded base64 on its own (the reader's rule), in order, skipping `-----` lines and lines
/// of whitespace, and stopping at the first other line (where the reader stops too).
fn armor_contents(input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut decoded = [0u8; 64];
    for line in input.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.starts_with(b"-----") || line.iter().all(|b| b.is_ascii_whitespace() || *b == 0x0b) {
            continue;
        }
        if line.len() > 64 {
            break;
        }
        match Base64::decode(line, &mut decoded) {
            Ok(bytes) => out.extend_from_slice(bytes),
            Err(_) => break,
        }
    }
    out
}

/// A change to a valid encryption, chosen by the fuzzer.
#[derive(Clone, Copy, Debug)]
pub enum Mutation {
    /// None: the encryption as it was made.
    None,
    /// XOR the byte at `at` (modulo the length) with `mask` (never 0).
    Flip { at: usize, mask: u8 },
    /// Cut to `len` (modulo the length): always shorter.
    Truncate { len: usize },
    /// Append `count` (1 to 16) copies of `byte`.
    Append { byte: u8, count: usize },
}

impl Mutation {
    /// From four fuzz bytes: the kind, a position (two bytes), a value.
    pub fn from_bytes(bytes: [u8; 4]) -> Mutation {
        let at = usize::from(u16::from_le_bytes([bytes[1], bytes[2]]));
        match bytes[0] % 4 {
            0 => Mutation::None,
            1 => Mutation::Flip { at, mask: bytes[3].max(1) },
            2 => Mutation::Truncate { len: at },
            _ => Mutation::Append { byte: bytes[3], count: 1 + usize::from(bytes[0] >> 4) },
        }
    }

    /// Applies it; whether `bytes` changed.
    pub fn apply(self, bytes: &mut Vec<u8>) -> bool {
        match self {
            Mutation::None => false,
            Mutation::Flip { at, mask } => match bytes.len() {
                0 => false,
                len => {
                    bytes[at % len] ^= mask;
                    true
                }
            },
            Mutation::Truncate { len } => match bytes.len() {
                0 => false,
                full => {
                    bytes.truncate(len % full);
                    true
                }
            },
            Mutation::Append { byte, count } => {
                bytes.extend(std::iter::repeat_n(byte, count));
                true
            }
        }
    }
}

/// Reads fuzz bytes front to back; past the end, every read is zero.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    /// Reads from `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        Input(bytes)
    }

    /// Whether nothing is left.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next byte, or 0.
    pub fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, little-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, little-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// The next eight bytes, little-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from(self.u32()) | u64::from(self.u32()) << 32
    }

    /// A length-prefixed slice (length from one byte, or two if `wide`), as far as the input goes.
    pub fn bytes(&mut self, wide: bool) -> &'a [u8] {
        let len = if wide { usize::from(self.u16()) } else { usize::from(self.u8()) };
        let (taken, rest) = self.0.split_at(len.min(self.0.len()));
        self.0 = rest;
        taken
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }
}

/// Runs `read_to_end_secret` (as `read`) into a vector that already holds 4 bytes, and checks
/// it is all or nothing: on success it appended exactly what it counted, on an error it
/// released nothing. Returns the plaintext read, or the error.
pub fn all_or_nothing(
    read: impl FnOnce(&mut SecretVec<u8>) -> strongroom::Result<usize>,
) -> strongroom::Result<Vec<u8>> {
    let mut out = SecretVec::new();
    out.extend_from_slice(b"kept").unwrap();
    let result = read(&mut out);
    let all = out.expose().unwrap().to_vec();
    match result {
        Ok(n) => {
            assert_eq!((n + 4, &all[..4]), (all.len(), &b"kept"[..]));
            Ok(all[4..].to_vec())
        }
        Err(e) => {
            assert_eq!(all, b"kept", "read_to_end_secret kept plaintext after {e:?}");
            Err(e)
        }
    }
}
