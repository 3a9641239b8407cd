//! Import of untrusted key bytes: ML-KEM encapsulation keys (length and modulus checks),
//! X-Wing encapsulation keys, expanded ML-KEM decapsulation keys (length, hash and modulus
//! checks) and seeds. Never a panic; whatever is accepted round-trips to the same bytes and
//! works.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::LockedBuffer;
use strongroom::kem::{DecapsulationKey, EncapsulationKey, MlKem512, MlKem768, MlKem1024, ParameterSet, x_wing};

/// The input as it is, or (so that most runs get past the length check to the checks of the
/// contents) cut or zero-padded to the format's length.
fn fit(bytes: &[u8], len: usize, exact: bool) -> Vec<u8> {
    let mut bytes = bytes.to_vec();
    if exact {
        bytes.resize(len, 0);
    }
    bytes
}

fn encapsulation_key<P: ParameterSet>(bytes: &[u8]) {
    if let Ok(key) = EncapsulationKey::<P>::from_bytes(bytes) {
        assert_eq!(key.as_bytes(), bytes);
        key.encapsulate().expect("an accepted key encapsulates");
    }
}

fn locked(bytes: &[u8]) -> Option<LockedBuffer> {
    let mut buffer = LockedBuffer::new(bytes.len()).ok()?;
    buffer.copy_from(bytes).ok()?;
    Some(buffer)
}

fn decapsulation_key<P: ParameterSet>(bytes: &[u8]) {
    let Some(buffer) = locked(bytes) else { return };
    if let Ok(key) = DecapsulationKey::<P>::from_expanded(&buffer) {
        assert_eq!(&*key.expanded().unwrap(), bytes);
        let (ciphertext, sent) = key.encapsulation_key().encapsulate().unwrap();
        key.decapsulate(&ciphertext).expect("a ciphertext of the right length decapsulates");
        drop(sent);
    }
    if let Ok(key) = DecapsulationKey::<P>::from_locked(&buffer) {
        assert_eq!(&key.seed().unwrap()[..], bytes);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, bytes)) = data.split_first() else { return };
    let exact = which & 0x80 == 0;
    match which % 8 {
        0 => encapsulation_key::<MlKem512>(&fit(bytes, MlKem512::ENCAPSULATION_KEY_LEN, exact)),
        1 => encapsulation_key::<MlKem768>(&fit(bytes, MlKem768::ENCAPSULATION_KEY_LEN, exact)),
        2 => encapsulation_key::<MlKem1024>(&fit(bytes, MlKem1024::ENCAPSULATION_KEY_LEN, exact)),
        3 => {
            let bytes = &fit(bytes, x_wing::ENCAPSULATION_KEY_LEN, exact)[..];
            if let Ok(key) = x_wing::EncapsulationKey::from_bytes(bytes) {
                assert_eq!(key.as_bytes(), bytes);
                key.encapsulate().expect("an accepted key encapsulates");
            }
        }
        // Expanded keys: 768k + 96 bytes; the seed (64 bytes) is tried on the same buffer.
        4 => decapsulation_key::<MlKem512>(&fit(bytes, 1632, exact)),
        5 => decapsulation_key::<MlKem768>(&fit(bytes, 2400, exact)),
        6 => decapsulation_key::<MlKem1024>(&fit(bytes, 3168, exact)),
        _ => {
            if let Some(buffer) = locked(bytes)
                && let Ok(key) = x_wing::DecapsulationKey::from_locked(&buffer)
            {
                assert_eq!(&key.seed().unwrap()[..], bytes);
            }
        }
    }
});
