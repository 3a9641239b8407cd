//! Post-quantum operations side by side in one run: ML-KEM-768 (keygen, encapsulate,
//! decapsulate), X-Wing (encapsulate, decapsulate) and ML-DSA-65 (keygen, sign, verify).
//!
//! Candidates in every group:
//! - `strongroom`: the public API (keys and shared secrets in protected memory, the work on a
//!   secure stack);
//! - `raw_aws_lc`: the same aws-lc functions on plain buffers (`strongroom_bench::aws_lc_pq`),
//!   the baseline: strongroom / raw_aws_lc is the cost of the protection;
//! - `libcrux`: libcrux-ml-kem, libcrux-kem's X-Wing (on its expanded key), libcrux-ml-dsa;
//! - `rustcrypto`: ml-kem, x-wing, ml-dsa.
//!
//! Every input is fixed (seeds, encapsulation randomness, message, context) and signing is
//! deterministic, so all four must produce the same bytes: `check_agreement` asserts that once
//! before anything is measured. Keys are made outside the timed loops, each candidate's in its
//! own natural form (note that RustCrypto's ML-DSA keys keep the expanded matrix Â, which the
//! others re-derive in every sign and verify, and that its X-Wing decapsulation re-expands the
//! 32-byte seed every time); what an operation returns is dropped inside the timing.
//!
//! `cargo bench -p strongroom-bench --bench pq`, then
//! `cargo run -p strongroom-bench --bin bench-ratios -- pq raw_aws_lc`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime};
use libcrux_traits::kem::arrayref::Kem as _;
use ml_kem::kem::{Decapsulate as _, Decapsulator as _, KeyExport as _};
use strongroom::kem::{DecapsulationKey, EncapsulationKey, MlKem768, x_wing};
use strongroom::sign::{MlDsa65, SigningKey, VerifyingKey};
use strongroom_bench::aws_lc_pq as raw;

/// `N` bytes counting up from `start`: fixed, and unlike each other.
const fn pattern<const N: usize>(start: u8) -> [u8; N] {
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = start.wrapping_add(i as u8);
        i += 1;
    }
    out
}

const KEM_SEED: [u8; 64] = pattern(0x10);
const KEM_M: [u8; 32] = pattern(0x60);
const X_WING_SEED: [u8; 32] = pattern(0x80);
const X_WING_ESEED: [u8; 64] = pattern(0xA0);
const DSA_SEED: [u8; 32] = pattern(0xE0);
const MESSAGE: [u8; 64] = pattern(0x33);
const CONTEXT: &[u8] = b"strongroom-bench pq";
/// Deterministic ML-DSA signing: `rnd` all zero.
const ZERO_RND: [u8; 32] = [0; 32];

/// libcrux-kem's X-Wing sizes (its array-based `Kem` is generic over them): the expanded
/// ML-KEM-768 key followed by the X25519 secret.
const LIBCRUX_X_WING_DK_LEN: usize = raw::ML_KEM_768_DK_LEN + raw::X25519_LEN;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    // 32 functions at about 4.5 s each (warm-up, measurement, analysis): under 3 minutes.
    g.sample_size(50).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    g
}

fn strongroom_secret(secret: &strongroom::kem::SharedSecret) -> [u8; 32] {
    secret.with(|s| *s).expect("expose shared secret")
}

/// All four candidates give the same keys, ciphertexts, shared secrets and signatures for the
/// fixed inputs, so that a wrong wrapper or a mismatched call cannot go unnoticed.
fn check_agreement() {
    // ML-KEM-768.
    let sr = DecapsulationKey::<MlKem768>::from_seed(&mut KEM_SEED.clone()).expect("strongroom keygen");
    let sr_ek = sr.encapsulation_key().as_bytes().to_vec();
    let (sr_ct, sr_ss) = sr.encapsulation_key().encapsulate_deterministic(&KEM_M).expect("strongroom encaps");
    let sr_ss = strongroom_secret(&sr_ss);
    assert_eq!(strongroom_secret(&sr.decapsulate(&sr_ct).expect("strongroom decaps")), sr_ss);

    let (mut ek, mut dk) = ([0u8; raw::ML_KEM_768_EK_LEN], [0u8; raw::ML_KEM_768_DK_LEN]);
    raw::ml_kem_768_keypair(&KEM_SEED, &mut ek, &mut dk);
    let (mut ct, mut ss, mut ss2) = ([0u8; raw::ML_KEM_768_CT_LEN], [0u8; 32], [0u8; 32]);
    raw::ml_kem_768_encapsulate(&ek, &KEM_M, &mut ct, &mut ss);
    raw::ml_kem_768_decapsulate(&dk, &ct, &mut ss2);
    assert_eq!((&ek[..], &ct[..], ss, ss2), (&sr_ek[..], &sr_ct[..], sr_ss, sr_ss), "ML-KEM-768: raw aws-lc");

    let lc = libcrux_ml_kem::mlkem768::generate_key_pair(KEM_SEED);
    let (lc_ct, lc_ss) = libcrux_ml_kem::mlkem768::encapsulate(lc.public_key(), KEM_M);
    let lc_ss2 = libcrux_ml_kem::mlkem768::decapsulate(lc.private_key(), &lc_ct);
    assert_eq!(lc.private_key().as_slice(), &dk, "ML-KEM-768: libcrux dk");
    assert_eq!((&lc.pk()[..], lc_ct.as_slice(), lc_ss, lc_ss2), (&ek[..], &ct, ss, ss), "ML-KEM-768: libcrux");

    let rc = ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed(KEM_SEED.into());
    let (rc_ct, rc_ss) = rc.encapsulation_key().encapsulate_deterministic(&KEM_M.into());
    let rc_ss2 = rc.decapsulate(&rc_ct);
    let rc_ek = rc.encapsulation_key().to_bytes();
    assert_eq!(
        (rc_ek.as_slice(), rc_ct.as_slice(), rc_ss.as_slice(), rc_ss2.as_slice()),
        (&ek[..], &ct[..], &ss[..], &ss[..]),
        "ML-KEM-768: RustCrypto"
    );

    // X-Wing.
    let sr = x_wing::DecapsulationKey::from_seed(&mut X_WING_SEED.clone()).expect("strongroom X-Wing keygen");
    let sr_ek = sr.encapsulation_key().as_bytes().to_vec();
    let (sr_ct, sr_ss) = sr.encapsulation_key().encapsulate_deterministic(&X_WING_ESEED).expect("X-Wing encaps");
    let sr_ss = strongroom_secret(&sr_ss);
    assert_eq!(strongroom_secret(&sr.decapsulate(&sr_ct).expect("strongroom X-Wing decaps")), sr_ss);

    let rw = raw::XWingKey::from_seed(&X_WING_SEED);
    let (mut ct, mut ss, mut ss2) = ([0u8; raw::X_WING_CT_LEN], [0u8; 32], [0u8; 32]);
    raw::x_wing_encapsulate(rw.encapsulation_key(), &X_WING_ESEED, &mut ct, &mut ss);
    rw.decapsulate(&ct, &mut ss2);
    let ek = rw.encapsulation_key();
    assert_eq!((&ek[..], &ct[..], ss, ss2), (&sr_ek[..], &sr_ct[..], sr_ss, sr_ss), "X-Wing: raw aws-lc");

    let (mut lc_ek, mut lc_dk) = ([0u8; raw::X_WING_EK_LEN], [0u8; LIBCRUX_X_WING_DK_LEN]);
    libcrux_kem::XWing::keygen(&mut lc_ek, &mut lc_dk, &X_WING_SEED).expect("libcrux X-Wing keygen");
    let (mut lc_ct, mut lc_ss, mut lc_ss2) = ([0u8; raw::X_WING_CT_LEN], [0u8; 32], [0u8; 32]);
    libcrux_kem::XWing::encaps(&mut lc_ct, &mut lc_ss, &lc_ek, &X_WING_ESEED).expect("libcrux X-Wing encaps");
    libcrux_kem::XWing::decaps(&mut lc_ss2, &lc_ct, &lc_dk).expect("libcrux X-Wing decaps");
    assert_eq!((&lc_ek[..], &lc_ct[..], lc_ss, lc_ss2), (&ek[..], &ct[..], ss, ss), "X-Wing: libcrux");

    let rc = ::x_wing::DecapsulationKey::from(X_WING_SEED);
    let (rc_ct, rc_ss) = rc.encapsulation_key().encapsulate_deterministic(&X_WING_ESEED.into());
    let rc_ss2 = rc.decapsulate(&rc_ct);
    let rc_ek = rc.encapsulation_key().to_bytes();
    assert_eq!(
        (rc_ek.as_slice(), rc_ct.as_slice(), rc_ss.as_slice(), rc_ss2.as_slice()),
        (&ek[..], &ct[..], &ss[..], &ss[..]),
        "X-Wing: RustCrypto"
    );

    // ML-DSA-65.
    let sr = SigningKey::<MlDsa65>::from_seed(&mut DSA_SEED.clone()).expect("strongroom ML-DSA keygen");
    let sr_sig = sr.sign_deterministic(&MESSAGE, CONTEXT).expect("strongroom sign");
    sr.verifying_key().verify(&MESSAGE, CONTEXT, sr_sig.as_bytes()).expect("strongroom verify");
    let (sr_pk, sr_sig) = (sr.verifying_key().as_bytes(), sr_sig.as_bytes());

    let (mut pk, mut sk) = ([0u8; raw::ML_DSA_65_PK_LEN], Box::new([0u8; raw::ML_DSA_65_SK_LEN]));
    raw::ml_dsa_65_keypair(&DSA_SEED, &mut pk, &mut sk);
    let mut sig = Box::new([0u8; raw::ML_DSA_65_SIG_LEN]);
    raw::ml_dsa_65_sign(&sk, &MESSAGE, CONTEXT, &ZERO_RND, &mut sig);
    assert!(raw::ml_dsa_65_verify_ok(&pk, &MESSAGE, CONTEXT, &sig[..]), "ML-DSA-65: raw aws-lc verify");
    assert!(!raw::ml_dsa_65_verify_ok(&pk, &MESSAGE, b"other", &sig[..]), "ML-DSA-65: raw aws-lc verify");
    assert_eq!((&pk[..], &sig[..]), (sr_pk, sr_sig), "ML-DSA-65: raw aws-lc");

    let lc = libcrux_ml_dsa::ml_dsa_65::generate_key_pair(DSA_SEED);
    let lc_sig = libcrux_ml_dsa::ml_dsa_65::sign(&lc.signing_key, &MESSAGE, CONTEXT, ZERO_RND).expect("libcrux sign");
    libcrux_ml_dsa::ml_dsa_65::verify(&lc.verification_key, &MESSAGE, CONTEXT, &lc_sig).expect("libcrux verify");
    assert_eq!(lc.signing_key.as_slice(), &sk[..], "ML-DSA-65: libcrux sk");
    assert_eq!((lc.verification_key.as_slice(), lc_sig.as_slice()), (&pk[..], &sig[..]), "ML-DSA-65: libcrux");

    let rc = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&DSA_SEED.into());
    let rc_vk: &ml_dsa::VerifyingKey<ml_dsa::MlDsa65> = rc.as_ref();
    let rc_sig = rc.expanded_key().sign_deterministic(&MESSAGE, CONTEXT).expect("RustCrypto sign");
    assert!(rc_vk.verify_with_context(&MESSAGE, CONTEXT, &rc_sig), "ML-DSA-65: RustCrypto verify");
    assert_eq!((rc_vk.encode().as_slice(), rc_sig.encode().as_slice()), (&pk[..], &sig[..]), "ML-DSA-65: RustCrypto");

    eprintln!("pq: strongroom, raw aws-lc, libcrux and RustCrypto agree on every output");
}

fn ml_kem_768(c: &mut Criterion) {
    check_agreement();

    let mut g = group(c, "pq/ml_kem_768/keygen");
    g.bench_function("strongroom", |b| {
        b.iter(|| DecapsulationKey::<MlKem768>::from_seed(&mut black_box(KEM_SEED)).expect("keygen"))
    });
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| {
            let (mut ek, mut dk) = ([0u8; raw::ML_KEM_768_EK_LEN], [0u8; raw::ML_KEM_768_DK_LEN]);
            raw::ml_kem_768_keypair(&black_box(KEM_SEED), &mut ek, &mut dk);
            black_box((ek, dk));
        })
    });
    g.bench_function("libcrux", |b| b.iter(|| libcrux_ml_kem::mlkem768::generate_key_pair(black_box(KEM_SEED))));
    g.bench_function("rustcrypto", |b| {
        b.iter(|| ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed(black_box(KEM_SEED).into()))
    });
    g.finish();

    let sr = DecapsulationKey::<MlKem768>::from_seed(&mut KEM_SEED.clone()).expect("keygen");
    let sr_ek = EncapsulationKey::<MlKem768>::from_bytes(sr.encapsulation_key().as_bytes()).expect("ek");
    let (mut ek, mut dk) = ([0u8; raw::ML_KEM_768_EK_LEN], [0u8; raw::ML_KEM_768_DK_LEN]);
    raw::ml_kem_768_keypair(&KEM_SEED, &mut ek, &mut dk);
    let lc = libcrux_ml_kem::mlkem768::generate_key_pair(KEM_SEED);
    let rc = ml_kem::DecapsulationKey::<ml_kem::MlKem768>::from_seed(KEM_SEED.into());
    let rc_ek = rc.encapsulation_key().clone();

    let mut g = group(c, "pq/ml_kem_768/encapsulate");
    g.bench_function("strongroom", |b| {
        b.iter(|| sr_ek.encapsulate_deterministic(black_box(&KEM_M)).expect("encapsulate"))
    });
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| {
            let (mut ct, mut ss) = ([0u8; raw::ML_KEM_768_CT_LEN], [0u8; 32]);
            raw::ml_kem_768_encapsulate(&ek, black_box(&KEM_M), &mut ct, &mut ss);
            black_box((ct, ss));
        })
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| libcrux_ml_kem::mlkem768::encapsulate(lc.public_key(), black_box(KEM_M)))
    });
    g.bench_function("rustcrypto", |b| b.iter(|| rc_ek.encapsulate_deterministic(&black_box(KEM_M).into())));
    g.finish();

    let (ct, _) = sr_ek.encapsulate_deterministic(&KEM_M).expect("encapsulate");
    let ct_array: [u8; raw::ML_KEM_768_CT_LEN] = ct[..].try_into().expect("ciphertext length");
    let lc_ct = libcrux_ml_kem::mlkem768::MlKem768Ciphertext::from(ct_array);
    let rc_ct = ml_kem::ml_kem_768::Ciphertext::from(ct_array);

    let mut g = group(c, "pq/ml_kem_768/decapsulate");
    g.bench_function("strongroom", |b| b.iter(|| sr.decapsulate(black_box(&ct)).expect("decapsulate")));
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| {
            let mut ss = [0u8; 32];
            raw::ml_kem_768_decapsulate(&dk, black_box(&ct_array), &mut ss);
            black_box(ss);
        })
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| libcrux_ml_kem::mlkem768::decapsulate(lc.private_key(), black_box(&lc_ct)))
    });
    g.bench_function("rustcrypto", |b| b.iter(|| rc.decapsulate(black_box(&rc_ct))));
    g.finish();
}

fn x_wing_kem(c: &mut Criterion) {
    let sr = x_wing::DecapsulationKey::from_seed(&mut X_WING_SEED.clone()).expect("keygen");
    let sr_ek = x_wing::EncapsulationKey::from_bytes(sr.encapsulation_key().as_bytes()).expect("ek");
    let rw = raw::XWingKey::from_seed(&X_WING_SEED);
    let (mut lc_ek, mut lc_dk) = ([0u8; raw::X_WING_EK_LEN], [0u8; LIBCRUX_X_WING_DK_LEN]);
    libcrux_kem::XWing::keygen(&mut lc_ek, &mut lc_dk, &X_WING_SEED).expect("libcrux keygen");
    let rc = ::x_wing::DecapsulationKey::from(X_WING_SEED);
    let rc_ek = rc.encapsulation_key().clone();

    let mut g = group(c, "pq/x_wing/encapsulate");
    g.bench_function("strongroom", |b| {
        b.iter(|| sr_ek.encapsulate_deterministic(black_box(&X_WING_ESEED)).expect("encapsulate"))
    });
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| {
            let (mut ct, mut ss) = ([0u8; raw::X_WING_CT_LEN], [0u8; 32]);
            raw::x_wing_encapsulate(rw.encapsulation_key(), black_box(&X_WING_ESEED), &mut ct, &mut ss);
            black_box((ct, ss));
        })
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| {
            let (mut ct, mut ss) = ([0u8; raw::X_WING_CT_LEN], [0u8; 32]);
            libcrux_kem::XWing::encaps(&mut ct, &mut ss, &lc_ek, black_box(&X_WING_ESEED)).expect("encapsulate");
            black_box((ct, ss));
        })
    });
    g.bench_function("rustcrypto", |b| b.iter(|| rc_ek.encapsulate_deterministic(&black_box(X_WING_ESEED).into())));
    g.finish();

    let (ct, _) = sr_ek.encapsulate_deterministic(&X_WING_ESEED).expect("encapsulate");
    let ct_array: [u8; raw::X_WING_CT_LEN] = ct[..].try_into().expect("ciphertext length");
    let rc_ct = ::x_wing::Ciphertext::from(ct_array);

    let mut g = group(c, "pq/x_wing/decapsulate");
    g.bench_function("strongroom", |b| b.iter(|| sr.decapsulate(black_box(&ct)).expect("decapsulate")));
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| {
            let mut ss = [0u8; 32];
            rw.decapsulate(black_box(&ct_array), &mut ss);
            black_box(ss);
        })
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| {
            let mut ss = [0u8; 32];
            libcrux_kem::XWing::decaps(&mut ss, black_box(&ct_array), &lc_dk).expect("decapsulate");
            black_box(ss);
        })
    });
    g.bench_function("rustcrypto", |b| b.iter(|| rc.decapsulate(black_box(&rc_ct))));
    g.finish();
}

fn ml_dsa_65(c: &mut Criterion) {
    let mut g = group(c, "pq/ml_dsa_65/keygen");
    g.bench_function("strongroom", |b| {
        b.iter(|| SigningKey::<MlDsa65>::from_seed(&mut black_box(DSA_SEED)).expect("keygen"))
    });
    g.bench_function("raw_aws_lc", |b| {
        let (mut pk, mut sk) = (Box::new([0u8; raw::ML_DSA_65_PK_LEN]), Box::new([0u8; raw::ML_DSA_65_SK_LEN]));
        b.iter(|| {
            raw::ml_dsa_65_keypair(&black_box(DSA_SEED), &mut pk, &mut sk);
            black_box((&pk, &sk));
        })
    });
    g.bench_function("libcrux", |b| b.iter(|| libcrux_ml_dsa::ml_dsa_65::generate_key_pair(black_box(DSA_SEED))));
    g.bench_function("rustcrypto", |b| {
        b.iter(|| ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&black_box(DSA_SEED).into()))
    });
    g.finish();

    let sr = SigningKey::<MlDsa65>::from_seed(&mut DSA_SEED.clone()).expect("keygen");
    let (mut pk, mut sk) = (Box::new([0u8; raw::ML_DSA_65_PK_LEN]), Box::new([0u8; raw::ML_DSA_65_SK_LEN]));
    raw::ml_dsa_65_keypair(&DSA_SEED, &mut pk, &mut sk);
    let lc = libcrux_ml_dsa::ml_dsa_65::generate_key_pair(DSA_SEED);
    let rc = ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&DSA_SEED.into());

    let mut g = group(c, "pq/ml_dsa_65/sign");
    g.bench_function("strongroom", |b| b.iter(|| sr.sign_deterministic(black_box(&MESSAGE), CONTEXT).expect("sign")));
    g.bench_function("raw_aws_lc", |b| {
        let mut sig = Box::new([0u8; raw::ML_DSA_65_SIG_LEN]);
        b.iter(|| {
            raw::ml_dsa_65_sign(&sk, black_box(&MESSAGE), CONTEXT, &ZERO_RND, &mut sig);
            black_box(&sig);
        })
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| {
            libcrux_ml_dsa::ml_dsa_65::sign(&lc.signing_key, black_box(&MESSAGE), CONTEXT, ZERO_RND).expect("sign")
        })
    });
    g.bench_function("rustcrypto", |b| {
        b.iter(|| rc.expanded_key().sign_deterministic(black_box(&MESSAGE), CONTEXT).expect("sign"))
    });
    g.finish();

    let sig = sr.sign_deterministic(&MESSAGE, CONTEXT).expect("sign");
    let sr_vk = VerifyingKey::<MlDsa65>::from_bytes(sr.verifying_key().as_bytes()).expect("verifying key");
    let sig_bytes = sig.as_bytes();
    let lc_sig = libcrux_ml_dsa::ml_dsa_65::MLDSA65Signature::new(sig_bytes.try_into().expect("signature length"));
    let rc_vk: &ml_dsa::VerifyingKey<ml_dsa::MlDsa65> = rc.as_ref();
    let rc_sig = ml_dsa::Signature::<ml_dsa::MlDsa65>::try_from(sig_bytes).expect("signature");

    let mut g = group(c, "pq/ml_dsa_65/verify");
    g.bench_function("strongroom", |b| {
        b.iter(|| sr_vk.verify(black_box(&MESSAGE), CONTEXT, sig_bytes).expect("verify"))
    });
    g.bench_function("raw_aws_lc", |b| {
        b.iter(|| assert!(raw::ml_dsa_65_verify_ok(&pk, black_box(&MESSAGE), CONTEXT, sig_bytes)))
    });
    g.bench_function("libcrux", |b| {
        b.iter(|| {
            libcrux_ml_dsa::ml_dsa_65::verify(&lc.verification_key, black_box(&MESSAGE), CONTEXT, &lc_sig)
                .expect("verify")
        })
    });
    g.bench_function("rustcrypto", |b| {
        b.iter(|| assert!(rc_vk.verify_with_context(black_box(&MESSAGE), CONTEXT, &rc_sig)))
    });
    g.finish();
}

criterion_group!(benches, ml_kem_768, x_wing_kem, ml_dsa_65);
criterion_main!(benches);
