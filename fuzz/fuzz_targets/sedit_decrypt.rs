//! Original-sedit files (v1, v2, v3) through `strongroom::sedit::decrypt_with_limits`, with
//! the passphrase "pw" and tiny KDF limits (1 MiB, 2 passes, 64 rounds): a header asking for
//! more is refused before any work, so no input runs Argon2 for long. Two modes, by the first
//! byte's low bit:
//!
//! 0. the rest is a file: never a panic; v1 and v2 (fixed 64 MiB parameters) and v3 headers
//!    beyond the limits are always `LimitExceeded` or `BelowMinimum` (or a format error for
//!    a file too short to hold its header); what decrypts is v3 and holds exactly its
//!    plaintext;
//! 1. a fuzz-chosen plaintext is encrypted as v3 with cheap fuzz-chosen parameters, then
//!    mutated: it decrypts to the plaintext when unmutated, and fails whenever a byte changed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::Error;
use strongroom::kdf::{KdfLimits, KdfParams};
use strongroom::sedit::{decrypt_with_limits, encrypt, is_sedit};
use strongroom_fuzz::{Input, Mutation};

const PASSPHRASE: &[u8] = b"pw";
const LIMITS: KdfLimits = KdfLimits { max_memory_kib: 1024, max_iterations: 2, max_rounds: 64 };
/// A v3 header: magic (6), version, 0, memory (4), passes (4), rounds (8), salt (16).
const V3_HEADER_LEN: usize = 40;
/// The nonce and the tag around a ciphertext.
const OVERHEAD: usize = 24 + 16;

fn within_limits(file: &[u8]) -> Option<bool> {
    let header = file.get(..V3_HEADER_LEN)?;
    let word = |at: usize| u32::from_be_bytes(header[at..at + 4].try_into().unwrap());
    let rounds = u64::from_be_bytes(header[16..24].try_into().unwrap());
    let (memory, passes) = (word(8), word(12));
    Some(
        (8..=LIMITS.max_memory_kib).contains(&memory)
            && (1..=LIMITS.max_iterations).contains(&passes)
            && rounds <= LIMITS.max_rounds,
    )
}

fn arbitrary(file: &[u8]) {
    let outcome = decrypt_with_limits(file, PASSPHRASE, &LIMITS);
    let refused = matches!(outcome, Err(Error::LimitExceeded { .. } | Error::BelowMinimum { .. }));
    let version = if is_sedit(file) { file[6] } else { 0 };
    match version {
        1 => assert!(refused || file.len() < 8, "v1 (64 MiB) within 1 MiB limits: {outcome:?}"),
        2 => assert!(refused || matches!(outcome, Err(Error::Format(_))), "v2 within tiny limits: {outcome:?}"),
        3 => match within_limits(file) {
            Some(false) => assert!(refused, "a v3 header beyond the limits was not refused: {outcome:?}"),
            Some(true) => assert!(!refused, "a v3 header within the limits was refused: {outcome:?}"),
            None => assert!(matches!(outcome, Err(Error::Format(_))), "a short v3 file: {outcome:?}"),
        },
        _ => assert!(matches!(outcome, Err(Error::Format(_))), "not sedit, yet {outcome:?}"),
    }
    if let Ok(plain) = outcome {
        assert_eq!(version, 3, "a v{version} file decrypted under tiny limits");
        assert_eq!(plain.len() + V3_HEADER_LEN + OVERHEAD, file.len());
    }
}

fn structured(input: &mut Input) {
    let params = KdfParams {
        memory_kib: 8 + u32::from(input.u8() % 57), // 8 to 64 KiB
        iterations: 1 + u32::from(input.u8() % 2),
        rounds: u64::from(input.u8() % 8),
    };
    let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
    let plaintext = input.rest();
    let original = encrypt(plaintext, PASSPHRASE, &params).expect("cheap parameters encrypt");
    let mut file = original.clone();
    let changed = mutation.apply(&mut file);
    match decrypt_with_limits(&file, PASSPHRASE, &LIMITS) {
        Ok(plain) => {
            assert!(!changed, "a changed file decrypted ({mutation:?})");
            assert_eq!(&*plain.expose().unwrap(), plaintext);
        }
        Err(e) => assert!(changed, "an unchanged file did not decrypt: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() > 1 << 20 {
        return;
    }
    let mut input = Input::new(data);
    if input.u8() & 1 == 0 { arbitrary(input.rest()) } else { structured(&mut input) }
});
