//! ML-DSA: known answers (Wycheproof, CCTV accumulated), malformed input, injected backend
//! failures, and the secure stack's depth.

use super::*;
use crate::crypto::mldsa_aws_lc::{Operation, fail_next};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

/// A file of `../shared/vectors`. Tests that read one are ignored when `../shared` is absent
/// (build.rs); when it is present, a missing file fails the test.
fn shared(rel: &str) -> serde_json::Value {
    let path = format!("{}/../../../shared/vectors/{rel}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e} (../shared is present, so its vectors must be)"));
    serde_json::from_str(&text).unwrap()
}

#[test]
fn round_trip_for_every_parameter_set() {
    fn check<P: ParameterSet>() {
        let key = SigningKey::<P>::generate().unwrap();
        let vk = key.verifying_key();
        for ctx in [&b""[..], b"ctx", &[0xAB; 255]] {
            let sig = key.sign(b"message", ctx).unwrap();
            vk.verify(b"message", ctx, &sig).unwrap();
            assert!(matches!(vk.verify(b"messagE", ctx, &sig), Err(Error::InvalidSignature)));
            let det = key.sign_deterministic(b"message", ctx).unwrap();
            assert_eq!(det, key.sign_deterministic(b"message", ctx).unwrap(), "{}", P::NAME);
            vk.verify(b"message", ctx, &det).unwrap();
        }
        let mut flipped = key.sign(b"m", b"").unwrap().as_bytes().to_vec();
        flipped[10] ^= 1;
        assert!(matches!(vk.verify(b"m", b"", &flipped), Err(Error::InvalidSignature)));
    }
    check::<MlDsa44>();
    check::<MlDsa65>();
    check::<MlDsa87>();
}

/// Every wrong length of a public key, a signature and a context is a clear error, never a
/// panic, and nothing reaches the backend.
#[test]
fn malformed_keys_signatures_and_contexts_are_refused_by_length() {
    fn check<P: ParameterSet>() {
        let key = SigningKey::<P>::from_seed(&mut [3; 32]).unwrap();
        let sig = key.sign(b"m", b"").unwrap();
        let longest = P::PUBLIC_KEY_LEN.max(P::SIGNATURE_LEN) + 1;
        let bytes = vec![0u8; longest + 1];
        for len in 0..=longest {
            let vk = VerifyingKey::<P>::from_bytes(&bytes[..len]);
            if len == P::PUBLIC_KEY_LEN {
                assert!(vk.is_ok());
            } else {
                let err = vk.unwrap_err();
                assert!(
                    matches!(err, Error::Format(FormatError::WrongLength { expected, actual, .. })
                        if expected == P::PUBLIC_KEY_LEN && actual == len),
                    "{err:?}"
                );
            }
            let wrong_sig = key.verifying_key().verify(b"m", b"", &bytes[..len]);
            let from = Signature::<P>::from_bytes(&bytes[..len]);
            if len == P::SIGNATURE_LEN {
                assert!(matches!(wrong_sig, Err(Error::InvalidSignature)));
                assert!(from.is_ok());
            } else {
                for err in [wrong_sig.unwrap_err(), from.unwrap_err()] {
                    assert!(
                        matches!(err, Error::Format(FormatError::WrongLength { expected, actual, .. })
                            if expected == P::SIGNATURE_LEN && actual == len),
                        "{err:?}"
                    );
                    assert!(err.to_string().contains(&format!("{} signature is", P::NAME)), "{err}");
                }
            }
        }
        for len in [256, 1000, 70_000] {
            let ctx = vec![1u8; len];
            assert!(matches!(key.sign(b"m", &ctx), Err(Error::ContextTooLong { len: l }) if l == len));
            assert!(matches!(key.sign_deterministic(b"m", &ctx), Err(Error::ContextTooLong { .. })));
            let err = key.verifying_key().verify(b"m", &ctx, &sig).unwrap_err();
            assert_eq!(err.to_string(), format!("a signature context is at most 255 bytes, this one is {len}"));
        }
        // A public key of the right length but not this signer's (all zero) refuses, no panic.
        let zero = VerifyingKey::<P>::from_bytes(&bytes[..P::PUBLIC_KEY_LEN]).unwrap();
        assert!(matches!(zero.verify(b"m", b"", &sig), Err(Error::InvalidSignature)));
    }
    check::<MlDsa44>();
    check::<MlDsa65>();
    check::<MlDsa87>();
}

/// A failing backend call surfaces as a typed error, and the output buffers it had written
/// are wiped: the expanded key of a failed key generation, the signature of a failed sign.
#[test]
fn an_injected_backend_failure_is_typed_and_wipes_the_outputs() {
    let variant = &backend::ML_DSA_65;
    let mut public = vec![0u8; variant.public_key_len];
    let mut private = vec![0u8; variant.private_key_len];
    variant.keypair(&[5; 32], &mut public, &mut private).unwrap();
    assert!(private.iter().any(|&b| b != 0), "the control: keygen writes the key");
    let expected_private = private.clone();
    fail_next(Operation::Keypair);
    let err = variant.keypair(&[5; 32], &mut public, &mut private).unwrap_err();
    assert!(matches!(err, Error::Internal(m) if m.contains("key generation failed")), "{err:?}");
    assert!(public.iter().all(|&b| b == 0) && private.iter().all(|&b| b == 0), "a failed keygen left output");

    let mut signature = vec![0u8; variant.signature_len];
    variant.sign(&expected_private, b"m", &[0, 0], &[0; 32], &mut signature).unwrap();
    assert!(signature.iter().any(|&b| b != 0), "the control: signing writes the signature");
    fail_next(Operation::Sign);
    let err = variant.sign(&expected_private, b"m", &[0, 0], &[0; 32], &mut signature).unwrap_err();
    assert!(matches!(err, Error::Internal(m) if m.contains("signing failed")), "{err:?}");
    assert!(signature.iter().all(|&b| b == 0), "a failed sign left the signature");

    // Through the public API: the error surfaces from generate and sign, typed.
    fail_next(Operation::Keypair);
    assert!(matches!(SigningKey::<MlDsa65>::generate(), Err(Error::Internal(_))));
    let key = SigningKey::<MlDsa65>::generate().unwrap();
    fail_next(Operation::Sign);
    assert!(matches!(key.sign(b"m", b""), Err(Error::Internal(_))));
    let sig = key.sign(b"m", b"").unwrap();
    fail_next(Operation::Verify);
    assert!(matches!(key.verifying_key().verify(b"m", b"", &sig), Err(Error::InvalidSignature)));
    key.verifying_key().verify(b"m", b"", &sig).unwrap();
}

#[test]
fn the_seed_is_kept_and_exported_only_through_a_closure() {
    let mut seed = [0x42u8; 32];
    let key = SigningKey::<MlDsa44>::from_seed(&mut seed).unwrap();
    assert_eq!(seed, [0; 32], "from_seed wipes its source");
    let mut exported = [0u8; 32];
    key.with_seed(|s| exported.copy_from_slice(s)).unwrap();
    assert_eq!(exported, [0x42; 32]);
    let again = SigningKey::<MlDsa44>::from_seed(&mut exported).unwrap();
    assert_eq!(key.verifying_key(), again.verifying_key());
    assert_eq!(key.sign_deterministic(b"x", b"").unwrap(), again.sign_deterministic(b"x", b"").unwrap());
    assert!(key.expanded.is_frozen(), "the expanded key is read-only at rest");
    assert!(format!("{key:?}").contains("redacted"));
}

/// The sign stack is sized from this: key generation and signing for every parameter set
/// stay within half of it, a twofold margin (an overflow would hit the guard page).
#[test]
fn signing_fits_the_sign_stack() {
    fn depths<P: ParameterSet>() -> (usize, usize) {
        let key = SigningKey::<P>::generate().unwrap();
        let keygen = crate::stack::last_depth();
        // Long messages and the longest context: the deepest signing call, several times
        // (rejection sampling varies the path).
        let mut sign = 0;
        for i in 0..8u8 {
            key.sign(&vec![i; 10_000], &[i; 255]).unwrap();
            sign = sign.max(crate::stack::last_depth());
        }
        (keygen, sign)
    }
    let measured = [depths::<MlDsa44>(), depths::<MlDsa65>(), depths::<MlDsa87>()];
    eprintln!("ML-DSA secure-stack depths (keygen, sign) for 44/65/87: {measured:?}");
    let limit = StackSize::Sign.bytes() / 2;
    assert!(
        measured.iter().all(|&(k, s)| k > 0 && s > 0 && k <= limit && s <= limit),
        "depths {measured:?} exceed {limit} bytes"
    );
}

/// Runs the Wycheproof sign-seed vectors of one file: the key from `privateSeed` must have
/// `publicKey`; signing `msg` under `ctx` (with `rnd`, or deterministically) must give `sig`,
/// which must verify; an invalid vector must be refused. Vectors giving only μ (external μ,
/// which this API does not offer) are counted as skipped. Returns (checked, skipped).
fn wycheproof_sign_seed<P: ParameterSet>(rel: &str) -> (usize, usize) {
    let json = shared(rel);
    let (mut checked, mut skipped) = (0, 0);
    for group in json["testGroups"].as_array().unwrap() {
        let mut seed = hex(group["privateSeed"].as_str().unwrap());
        let tests = group["tests"].as_array().unwrap();
        let Ok(mut seed) = <[u8; 32]>::try_from(&seed[..]) else {
            // A seed of another length: refused (with a clear error) when the key is made.
            let refused = match LockedBuffer::from_bytes(&mut seed) {
                Ok(buffer) => SigningKey::<P>::from_locked_seed(&buffer).unwrap_err(),
                Err(e) => e, // an empty buffer is refused already
            };
            assert!(
                tests.iter().all(|t| t["result"] == "invalid"),
                "{rel}: a valid vector with a {}-byte seed",
                seed.len()
            );
            if !seed.is_empty() {
                assert!(matches!(refused, Error::Format(FormatError::WrongLength { expected: 32, .. })), "{refused:?}");
            }
            checked += tests.len();
            continue;
        };
        let key = SigningKey::<P>::from_seed(&mut seed).unwrap();
        let public = hex(group["publicKey"].as_str().unwrap());
        assert_eq!(key.verifying_key().as_bytes(), &public[..], "{rel}: keygen");
        for t in tests {
            let id = &t["tcId"];
            let valid = t["result"] == "valid";
            let Some(msg) = t["msg"].as_str().map(hex) else {
                skipped += 1; // external μ only
                continue;
            };
            let ctx = t["ctx"].as_str().map(hex).unwrap_or_default();
            let rnd = match t["rnd"].as_str() {
                Some(r) => Randomness::Given(hex(r).try_into().unwrap()),
                None => Randomness::Zero,
            };
            let signed = key.sign_with(&msg, &ctx, rnd);
            if valid {
                let signed = signed.unwrap_or_else(|e| panic!("{rel} test {id}: {e:?}"));
                assert_eq!(signed.as_bytes(), &hex(t["sig"].as_str().unwrap())[..], "{rel} test {id}: signature");
                key.verifying_key().verify(&msg, &ctx, &signed).unwrap();
            } else {
                assert!(signed.is_err(), "{rel} test {id}: an invalid vector was signed ({})", t["comment"]);
            }
            checked += 1;
        }
    }
    (checked, skipped)
}

/// The verify vectors: each signature verifies or is refused as the vector says; a public key
/// of the wrong length is refused when the key is made.
fn wycheproof_verify<P: ParameterSet>(rel: &str) -> usize {
    let json = shared(rel);
    let mut checked = 0;
    for group in json["testGroups"].as_array().unwrap() {
        let public = hex(group["publicKey"].as_str().unwrap());
        let key = VerifyingKey::<P>::from_bytes(&public);
        for t in group["tests"].as_array().unwrap() {
            let id = &t["tcId"];
            let valid = t["result"] == "valid";
            let msg = hex(t["msg"].as_str().unwrap());
            let ctx = t["ctx"].as_str().map(hex).unwrap_or_default();
            let sig = hex(t["sig"].as_str().unwrap());
            let got = key
                .as_ref()
                .map_err(|e| e.to_string())
                .and_then(|k| k.verify(&msg, &ctx, &sig).map_err(|e| e.to_string()));
            assert_eq!(got.is_ok(), valid, "{rel} test {id} ({}): {got:?}", t["comment"]);
            checked += 1;
        }
    }
    checked
}

/// The sign-noseed vectors give semi-expanded private keys only. strongroom keeps ML-DSA keys
/// as seeds (FIPS 204's recommended form, and what the other vectors test), so it does not
/// import expanded keys and cannot sign with these; their valid signatures are still checked
/// against the public keys. Returns (verified, skipped).
fn wycheproof_noseed<P: ParameterSet>(rel: &str) -> (usize, usize) {
    let json = shared(rel);
    let (mut verified, mut skipped) = (0, 0);
    for group in json["testGroups"].as_array().unwrap() {
        let key = VerifyingKey::<P>::from_bytes(&hex(group["publicKey"].as_str().unwrap_or("")));
        for t in group["tests"].as_array().unwrap() {
            match (&key, t["result"] == "valid", t["msg"].as_str(), t["sig"].as_str()) {
                (Ok(key), true, Some(msg), Some(sig)) => {
                    let ctx = t["ctx"].as_str().map(hex).unwrap_or_default();
                    key.verify(&hex(msg), &ctx, hex(sig)).unwrap_or_else(|e| panic!("{rel} {}: {e:?}", t["tcId"]));
                    verified += 1;
                }
                _ => skipped += 1,
            }
        }
    }
    (verified, skipped)
}

#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn wycheproof_ml_dsa() {
    let mut report = Vec::new();
    macro_rules! run {
        ($p:ty, $dir:literal, $n:literal) => {{
            let (signed, mu_only) = wycheproof_sign_seed::<$p>(concat!($dir, "mldsa_", $n, "_sign_seed_test.json"));
            let verified = wycheproof_verify::<$p>(concat!($dir, "mldsa_", $n, "_verify_test.json"));
            let (noseed, noseed_skipped) = wycheproof_noseed::<$p>(concat!($dir, "mldsa_", $n, "_sign_noseed_test.json"));
            assert!(signed > 20 && verified > 20 && noseed > 5, "{signed} {verified} {noseed}");
            report.push(format!(
                "ML-DSA-{}: sign_seed {signed} checked ({mu_only} external-mu-only skipped), verify {verified}, \
                 sign_noseed {noseed} signatures verified ({noseed_skipped} skipped: expanded-key import is not offered)",
                $n
            ));
        }};
    }
    run!(MlDsa44, "ml-dsa/wycheproof/", "44");
    run!(MlDsa65, "wycheproof/", "65");
    run!(MlDsa87, "ml-dsa/wycheproof/", "87");
    eprintln!("{}", report.join("\n"));
}

/// CCTV's accumulated test: seeds from one SHAKE128 stream, each public key and the
/// deterministic signature of the empty message written to another; 100 iterations per
/// parameter set (10,000 for ML-DSA-65 in optimised builds), through the public API.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn cctv_accumulated() {
    fn accumulate<P: ParameterSet>(iterations: usize) -> String {
        let seeds = shake128(b"", iterations * 32);
        let mut acc = Vec::new();
        for chunk in seeds.chunks_exact(32) {
            let mut seed: [u8; 32] = chunk.try_into().unwrap();
            let key = SigningKey::<P>::from_seed(&mut seed).unwrap();
            acc.extend_from_slice(key.verifying_key().as_bytes());
            let sig = key.sign_deterministic(b"", b"").unwrap();
            acc.extend_from_slice(sig.as_bytes());
            key.verifying_key().verify(b"", b"", &sig).unwrap();
        }
        shake128(&acc, 32).iter().map(|b| format!("{b:02x}")).collect()
    }
    let json = shared("ml-dsa/cctv-accumulated/accumulated.json");
    let expected = |set: &str, n: usize| json["results"][set][n.to_string()].as_str().unwrap().to_string();
    assert_eq!(accumulate::<MlDsa44>(100), expected("ML-DSA-44", 100));
    assert_eq!(accumulate::<MlDsa65>(100), expected("ML-DSA-65", 100));
    assert_eq!(accumulate::<MlDsa87>(100), expected("ML-DSA-87", 100));
    if !cfg!(debug_assertions) {
        assert_eq!(accumulate::<MlDsa65>(10_000), expected("ML-DSA-65", 10_000));
    }
}

/// SHAKE128 (FIPS 202) of `input`, `out_len` bytes: for the accumulated test only.
fn shake128(input: &[u8], out_len: usize) -> Vec<u8> {
    const RATE: usize = 168;
    let mut state = [0u64; 25];
    let permute = |state: &mut [u64; 25]| keccak::Keccak::new().with_f1600(|f| f(state));
    let xor_block = |state: &mut [u64; 25], block: &[u8]| {
        for (lane, bytes) in state.iter_mut().zip(block.chunks_exact(8)) {
            *lane ^= u64::from_le_bytes(bytes.try_into().unwrap());
        }
    };
    let mut blocks = input.chunks_exact(RATE);
    for block in &mut blocks {
        xor_block(&mut state, block);
        permute(&mut state);
    }
    let mut last = [0u8; RATE];
    let tail = blocks.remainder();
    last[..tail.len()].copy_from_slice(tail);
    last[tail.len()] ^= 0x1F;
    last[RATE - 1] ^= 0x80;
    xor_block(&mut state, &last);
    let mut out = Vec::with_capacity(out_len + RATE);
    loop {
        permute(&mut state);
        out.extend(state.iter().flat_map(|lane| lane.to_le_bytes()).take(RATE));
        if out.len() >= out_len {
            out.truncate(out_len);
            return out;
        }
    }
}

#[test]
fn shake128_known_answer() {
    // FIPS 202 SHAKE128 of the empty string, the first 32 bytes.
    assert_eq!(shake128(b"", 32), hex("7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26"));
}

/// While a signing key lives, its secrets (the seed ξ, and in the expanded key K, s1, s2 and
/// t0) are in protected memory only: after key generation and signing (hedged and
/// deterministic) on an ordinary thread, none of them is on that thread's stack or anywhere
/// else in ordinary memory. (The search's control is in `kem::tests`.)
#[test]
#[cfg(all(target_os = "linux", not(miri)))]
fn no_secret_is_left_in_ordinary_memory() {
    use crate::testing::{find_in_ordinary_memory, stack_after};

    if crate::testing::skip_under_qemu(
        "sign::tests::no_secret_is_left_in_ordinary_memory",
        "returns success for madvise(MADV_DONTDUMP) but does not apply it, so strongroom's own regions \
         cannot be told from ordinary memory",
    ) {
        return;
    }
    let (send, keys) = std::sync::mpsc::channel();
    let stack = stack_after(move || {
        let key = SigningKey::<MlDsa65>::generate().unwrap();
        let hedged = key.sign(b"message", b"context").unwrap();
        let deterministic = key.sign_deterministic(b"message", b"").unwrap();
        key.verifying_key().verify(b"message", b"context", &hedged).unwrap();
        key.verifying_key().verify(b"message", b"", &deterministic).unwrap();
        send.send(key).unwrap();
    });
    let key = keys.recv().unwrap();
    let seed = key.seed.expose().unwrap();
    let expanded = key.expanded.expose().unwrap();
    let len = expanded.len();
    // sk = ρ (32) ‖ K (32) ‖ tr (64) ‖ s1 ‖ s2 ‖ t0: all but ρ and tr are secret.
    let secrets: [&[u8]; 6] = [
        &seed[..],
        &expanded[32..64],
        &expanded[128..160],
        &expanded[len / 2..len / 2 + 32],
        &expanded[len - 64..len - 32],
        &expanded[len - 32..],
    ];
    let hits = find_in_ordinary_memory(&secrets, &stack);
    assert!(hits.is_empty(), "secrets found in ordinary memory (index into the list, where): {hits:?}");
}
