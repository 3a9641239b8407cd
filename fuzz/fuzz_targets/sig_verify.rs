//! Verification of untrusted ML-DSA public keys, signatures, messages and contexts: never a
//! panic, and never a valid verdict for what a fixed key did not sign.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::sign::{MlDsa44, MlDsa65, MlDsa87, ParameterSet, VerifyingKey};

fn verify<P: ParameterSet>(data: &[u8], exact: bool) {
    // public key ‖ signature ‖ context length (1 byte) ‖ context ‖ message, as far as the
    // input goes: every field may come out short, which must be an error, not a panic.
    // Mostly (`exact`) the input is zero-padded so that the key and signature are whole.
    let mut data = data.to_vec();
    if exact && data.len() < P::PUBLIC_KEY_LEN + P::SIGNATURE_LEN {
        data.resize(P::PUBLIC_KEY_LEN + P::SIGNATURE_LEN, 0);
    }
    let (public, rest) = data.split_at(data.len().min(P::PUBLIC_KEY_LEN));
    let (signature, rest) = rest.split_at(rest.len().min(P::SIGNATURE_LEN));
    let (context_len, rest) = rest.split_first().map_or((0, rest), |(&n, rest)| (usize::from(n), rest));
    let (context, message) = rest.split_at(rest.len().min(context_len));
    if let Ok(key) = VerifyingKey::<P>::from_bytes(public) {
        assert_eq!(key.as_bytes(), public);
        let _verdict = key.verify(message, context, signature);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let exact = which & 0x80 == 0;
    match which % 3 {
        0 => verify::<MlDsa44>(rest, exact),
        1 => verify::<MlDsa65>(rest, exact),
        _ => verify::<MlDsa87>(rest, exact),
    }
});
