//! The KEM and its composition with the AEAD, as properties over random keys, messages and
//! tamperings (proptest):
//!
//! - implicit rejection: any modified ML-KEM-768 ciphertext decapsulates to a secret that is
//!   not the sender's, the same one every time for the same key and ciphertext (also from a
//!   key rebuilt from the same seed), FIPS 203's `J(z ‖ c)`: a function of the seed's `z` half
//!   and the ciphertext alone, so a different `z` or a different tampering gives another;
//! - key separation: a ciphertext for one key decapsulates under another (ML-KEM-768, X-Wing)
//!   to a different secret; AEAD keys made from KEM secrets (`SharedSecret::to_aead_key`)
//!   open only the messages sealed under the same secret: not another key's, not under a
//!   secret from implicit rejection, and a rejected message leaves the output zeroed.
//!
//! 256 cases per property by default; more with `PROPTEST_CASES=5000`.
#![cfg(all(target_os = "linux", not(miri)))]

use proptest::prelude::*;
use strongroom::aead::{self, Nonce};
use strongroom::kem::{DecapsulationKey, MlKem768, ParameterSet, x_wing};
use strongroom::{Error, kem::SharedSecret};

fn config() -> ProptestConfig {
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

fn ml_kem(seed: [u8; 64]) -> DecapsulationKey<MlKem768> {
    DecapsulationKey::from_seed(&mut { seed }).unwrap()
}

fn bytes(secret: &SharedSecret) -> [u8; 32] {
    *secret.expose().unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_modified_ciphertext_is_implicitly_rejected(
        seed in any::<[u8; 64]>(),
        m in any::<[u8; 32]>(),
        at in 0..MlKem768::CIPHERTEXT_LEN,
        flip in 1..=255u8,
        other_at in 0..MlKem768::CIPHERTEXT_LEN,
    ) {
        let key = ml_kem(seed);
        let (ciphertext, sent) = key.encapsulation_key().encapsulate_deterministic(&m).unwrap();
        prop_assert!(key.decapsulate(&ciphertext).unwrap() == sent, "an honest ciphertext must agree");

        let mut tampered = ciphertext.clone();
        tampered[at] ^= flip;
        let rejected = key.decapsulate(&tampered).unwrap();
        prop_assert!(rejected != sent, "a modified ciphertext gave the sender's secret");
        // The same value every time, from this key and from the same seed's key alike.
        prop_assert!(key.decapsulate(&tampered).unwrap() == rejected);
        prop_assert!(ml_kem(seed).decapsulate(&tampered).unwrap() == rejected);
        // J(z ‖ c): the same z with another d rejects to the same secret; another z does not.
        let mut same_z = seed;
        same_z[0] ^= 1;
        prop_assert_eq!(bytes(&ml_kem(same_z).decapsulate(&tampered).unwrap()), bytes(&rejected));
        let mut other_z = seed;
        other_z[63] ^= 1;
        prop_assert!(ml_kem(other_z).decapsulate(&tampered).unwrap() != rejected);
        // Another tampering of the same ciphertext rejects to another secret.
        let mut tampered_again = ciphertext;
        tampered_again[other_at] ^= flip.rotate_left(1) ^ u8::from(other_at == at);
        prop_assume!(tampered_again != tampered);
        let again = key.decapsulate(&tampered_again).unwrap();
        prop_assert!(again != rejected && again != sent);
    }

    #[test]
    fn a_ciphertext_decapsulates_to_different_secrets_under_different_keys(
        seeds in any::<([u8; 64], [u8; 64])>(),
        m in any::<[u8; 32]>(),
        xwing_seeds in any::<([u8; 32], [u8; 32])>(),
        eseed in any::<[u8; 32]>(),
    ) {
        prop_assume!(seeds.0 != seeds.1 && xwing_seeds.0 != xwing_seeds.1);
        let (a, b) = (ml_kem(seeds.0), ml_kem(seeds.1));
        let (ciphertext, sent) = a.encapsulation_key().encapsulate_deterministic(&m).unwrap();
        let under_a = a.decapsulate(&ciphertext).unwrap();
        let under_b = b.decapsulate(&ciphertext).unwrap();
        prop_assert!(under_a == sent);
        prop_assert!(under_b != sent, "another ML-KEM key recovered the secret");

        let xa = x_wing::DecapsulationKey::from_seed(&mut { xwing_seeds.0 }).unwrap();
        let xb = x_wing::DecapsulationKey::from_seed(&mut { xwing_seeds.1 }).unwrap();
        let mut eseed64 = [0u8; x_wing::ENCAPSULATION_SEED_LEN];
        eseed64[..32].copy_from_slice(&eseed);
        eseed64[32..].copy_from_slice(&m);
        let (ciphertext, sent) = xa.encapsulation_key().encapsulate_deterministic(&eseed64).unwrap();
        prop_assert!(xa.decapsulate(&ciphertext).unwrap() == sent);
        prop_assert!(xb.decapsulate(&ciphertext).unwrap() != sent, "another X-Wing key recovered the secret");
    }

    #[test]
    fn aead_keys_from_kem_secrets_open_only_their_own_messages(
        seeds in any::<([u8; 64], [u8; 64])>(),
        ms in any::<([u8; 32], [u8; 32])>(),
        message in prop::collection::vec(any::<u8>(), 0..300),
        aad in prop::collection::vec(any::<u8>(), 0..40),
        nonce in any::<[u8; 24]>(),
        at in 0..MlKem768::CIPHERTEXT_LEN,
    ) {
        prop_assume!(seeds.0 != seeds.1);
        let (a, b) = (ml_kem(seeds.0), ml_kem(seeds.1));
        let (ct_a, sent_a) = a.encapsulation_key().encapsulate_deterministic(&ms.0).unwrap();
        let (_, sent_b) = b.encapsulation_key().encapsulate_deterministic(&ms.1).unwrap();

        let mut sealed = vec![0u8; message.len() + aead::TAG_LEN];
        aead::seal_into(&sent_a.to_aead_key().unwrap(), Nonce::assume_unique_for_key(nonce), &aad, &message, &mut sealed).unwrap();
        let open = |key: &aead::Key| {
            let mut out = vec![0xAAu8; message.len()];
            let result = aead::open_into(key, Nonce::assume_unique_for_key(nonce), &aad, &sealed, &mut out);
            (result, out)
        };

        // The receiver's secret, from the ciphertext, opens it.
        let (result, out) = open(&a.decapsulate(&ct_a).unwrap().to_aead_key().unwrap());
        prop_assert!(result.is_ok(), "{result:?}");
        prop_assert_eq!(&out, &message);

        // Other secrets do not: another key pair's, another key's decapsulation of the same
        // ciphertext, and implicit rejection's for a tampered ciphertext.
        let mut tampered = ct_a.clone();
        tampered[at] ^= 0x01;
        let others = [sent_b, b.decapsulate(&ct_a).unwrap(), a.decapsulate(&tampered).unwrap()];
        for (which, other) in ["another key pair", "another key", "implicit rejection"].iter().zip(&others) {
            let (result, out) = open(&other.to_aead_key().unwrap());
            prop_assert!(matches!(result, Err(Error::Crypto)), "{which}: {result:?}");
            prop_assert!(out.iter().all(|&x| x == 0), "{which}: a rejected message left output behind");
        }
    }
}
