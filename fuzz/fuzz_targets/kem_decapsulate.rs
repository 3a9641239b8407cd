//! Decapsulation of arbitrary ciphertexts under fixed keys of every ML-KEM parameter set and
//! X-Wing. Never a panic; an error only for a ciphertext of the wrong length, and then the
//! length error; any ciphertext of the right length yields a secret (implicit rejection).
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom::kem::{DecapsulationKey, MlKem512, MlKem768, MlKem1024, ParameterSet, SharedSecret, x_wing};
use strongroom::{Error, FormatError};

struct Keys {
    ml_kem_512: DecapsulationKey<MlKem512>,
    ml_kem_768: DecapsulationKey<MlKem768>,
    ml_kem_1024: DecapsulationKey<MlKem1024>,
    x_wing: x_wing::DecapsulationKey,
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        ml_kem_512: DecapsulationKey::from_seed(&mut [1; 64]).unwrap(),
        ml_kem_768: DecapsulationKey::from_seed(&mut [2; 64]).unwrap(),
        ml_kem_1024: DecapsulationKey::from_seed(&mut [3; 64]).unwrap(),
        x_wing: x_wing::DecapsulationKey::from_seed(&mut [4; 32]).unwrap(),
    })
}

/// Checks one decapsulation's outcome against the ciphertext's length.
fn check(outcome: Result<SharedSecret, Error>, ciphertext: &[u8], expected_len: usize) {
    match outcome {
        Ok(_) => assert_eq!(ciphertext.len(), expected_len, "a ciphertext of the wrong length was decapsulated"),
        Err(Error::Format(FormatError::WrongLength { expected, actual, .. })) => {
            assert_eq!((expected, actual), (expected_len, ciphertext.len()));
        }
        Err(other) => panic!("decapsulation failed with {other:?}"),
    }
}

fn ml_kem<P: ParameterSet>(key: &DecapsulationKey<P>, ciphertext: &[u8], exact: bool) {
    let ciphertext = fit(ciphertext, P::CIPHERTEXT_LEN, exact);
    check(key.decapsulate(&ciphertext), &ciphertext, P::CIPHERTEXT_LEN);
}

/// The input as it is, or (so that most runs reach the decapsulation itself rather than the
/// length check) cut or zero-padded to the format's length.
fn fit(bytes: &[u8], len: usize, exact: bool) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    if exact {
        bytes.resize(len, 0);
    }
    bytes
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, ciphertext)) = data.split_first() else { return };
    let (keys, exact) = (keys(), which & 0x80 == 0);
    match which % 4 {
        0 => ml_kem(&keys.ml_kem_512, ciphertext, exact),
        1 => ml_kem(&keys.ml_kem_768, ciphertext, exact),
        2 => ml_kem(&keys.ml_kem_1024, ciphertext, exact),
        _ => {
            let ciphertext = fit(ciphertext, x_wing::CIPHERTEXT_LEN, exact);
            check(keys.x_wing.decapsulate(&ciphertext), &ciphertext, x_wing::CIPHERTEXT_LEN);
        }
    }
});
