//! Exercises every feature once, in one process, and says which worked: the program CI runs
//! under small `RLIMIT_MEMLOCK` limits (`tests/memlock_budget.rs`).
//!
//! `cargo run --example every_feature [-- --allow-unlocked]`, or under a limit, without
//! privilege: `prlimit --memlock=65536 setpriv --reuid=65534 --regid=65534 --clear-groups
//! --inh-caps=-all --bounding-set=-all target/debug/examples/every_feature`. With
//! `--allow-unlocked` it sets the process-wide default policy to accept unlocked memory.

use std::io::{Read, Write};

use strongroom::{Enclave, LockedBuffer, Result, SecretBox, SecretString, SecretVec, aead, kdf, stack, stream};

fn guarded() -> Result<String> {
    let mut key = LockedBuffer::random(32)?;
    key.freeze()?;
    Ok(format!("{:?}", key.protections()))
}

fn pooled() -> Result<String> {
    let key = SecretBox::new(|k: &mut [u8; 32]| k.fill(7))?;
    let mut v = SecretVec::new();
    v.extend_from_slice(b"seed words")?;
    let mut s = SecretString::new();
    s.push_str("passphrase")?;
    Ok(format!("{:?}", key.protections()))
}

fn strict() -> Result<String> {
    let key = SecretBox::strict(|k: &mut [u8; 32]| k.fill(9))?;
    Ok(format!("{:?}", key.protections()))
}

fn enclave() -> Result<String> {
    let sealed = Enclave::random(32)?;
    let len = sealed.with(|plain| plain.len())?;
    let opened = sealed.open()?;
    Ok(format!("{len} bytes; open() got {:?}", opened.protections()))
}

fn aead_round_trip() -> Result<String> {
    let key = aead::Key::random()?;
    let mut sealed = [0u8; 5 + aead::TAG_LEN];
    aead::seal_into(&key, aead::Nonce::random()?, b"", b"hello", &mut sealed)?;
    Ok("sealed".into())
}

fn secure_stack() -> Result<String> {
    let answer = stack::run(|| 6 * 7)?;
    Ok(format!("ran, returned {answer}"))
}

fn kdf_derivation() -> Result<String> {
    let params = kdf::KdfParams { memory_kib: 64 * 1024, iterations: 1, rounds: 10 };
    let derived = kdf::derive_key_combined(b"password", b"saltsaltsalt", &params)?;
    Ok(format!("work memory {:?}", derived.work_memory))
}

fn stream_round_trip() -> Result<String> {
    let key = aead::Key::random()?;
    let mut enc = stream::Encryptor::new(&key, Vec::new())?;
    enc.write_all(&[0x5a; 100_000]).map_err(strongroom::Error::Io)?;
    let sealed = enc.finish()?;
    let mut dec = stream::Decryptor::new(&key, &sealed[..])?;
    let mut plain = Vec::new();
    dec.read_to_end(&mut plain).map_err(strongroom::Error::Io)?;
    assert_eq!(plain.len(), 100_000);
    Ok("100000 bytes round trip".into())
}

/// One feature: its name, and what running it reports.
type Feature = (&'static str, fn() -> Result<String>);

fn ml_kem() -> Result<String> {
    use strongroom::kem::{DecapsulationKey, MlKem768};
    let key = DecapsulationKey::<MlKem768>::generate()?;
    let (ciphertext, sent) = key.encapsulation_key().encapsulate()?;
    let received = key.decapsulate(&ciphertext)?;
    assert!(sent == received);
    Ok("ML-KEM-768 round trip".into())
}

fn ml_dsa() -> Result<String> {
    use strongroom::sign::{MlDsa65, SigningKey};
    let key = SigningKey::<MlDsa65>::generate()?;
    let signature = key.sign(b"message", b"")?;
    key.verifying_key().verify(b"message", b"", &signature)?;
    Ok("ML-DSA-65 signed and verified".into())
}

fn main() {
    // `--allow-unlocked`: the downgrade a caller may choose where RLIMIT_MEMLOCK is too small.
    if std::env::args().any(|a| a == "--allow-unlocked") {
        let policy = strongroom::Policy { lock: strongroom::Need::Preferred, ..strongroom::Policy::STANDARD };
        strongroom::Policy::set_default(policy).expect("set before the first secret");
    }
    let features: [Feature; 10] = [
        ("guarded secret", guarded),
        ("pooled secrets", pooled),
        ("strict secret", strict),
        ("enclave", enclave),
        ("aead", aead_round_trip),
        ("secure stack", secure_stack),
        ("kdf", kdf_derivation),
        ("stream", stream_round_trip),
        ("ml-kem", ml_kem),
        ("ml-dsa", ml_dsa),
    ];
    let mut failed = 0;
    for (name, feature) in features {
        match feature() {
            Ok(got) => println!("ok    {name}: {got}"),
            Err(e) => {
                failed += 1;
                println!("error {name}: {e:?}");
            }
        }
    }
    println!("{} worked, {failed} failed", features.len() - failed);
    std::process::exit(if failed == 0 { 0 } else { 1 });
}
