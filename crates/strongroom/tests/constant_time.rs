//! Constant time, measured the way dudect does ("Dude, is my code constant time?", Reparaz,
//! Balasch and Verbauwhede, 2017): time one operation on two classes of input, interleaved
//! at random, crop the slow tail at several percentiles, and compute Welch's t between the
//! classes. A timing difference between the classes shows as a |t| that grows with the number
//! of samples; constant-time code keeps |t| small however long it runs.
//!
//! What is measured:
//! - `LockedBuffer::ct_eq` and `SecretVec`'s `ConstantTimeEq`: equal input vs input whose
//!   first byte differs (an early exit would return at once);
//! - `aead::open_into` of a forged message: the tag wrong in its first vs its last byte (both
//!   fail; a tag comparison that stops at the first difference would fail faster);
//! - ML-KEM-768 decapsulation of a valid vs a tampered ciphertext (implicit rejection must
//!   take as long as acceptance);
//! - a control: the same buffer compared with `==` (an early-exit `memcmp`), which must show
//!   a difference, or the harness proves nothing.
//!
//! Each test prints its |t| (the largest over the crops) per repetition and fails when the
//! majority of repetitions pass [`THRESHOLD`] (10, generous: dudect flags 10 as a certain
//! leak, and by then a real one is far past it). Measurements on a shared 2-core machine are
//! noisy, but noise that hits both classes alike does not move t, and the majority vote
//! absorbs one burst that hits one class more. The tests in this binary take turns (a lock),
//! so they do not disturb each other's timing.
//!
//! The default run is short (about a second per repetition). Run longer, optimised, with
//! more samples per repetition:
//!
//! ```sh
//! STRONGROOM_CT_SAMPLES=1000000 cargo test --release -p strongroom --test constant_time -- --nocapture
//! ```
#![cfg(unix)]

use std::hint::black_box;
use std::io::Write;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use strongroom::{LockedBuffer, SecretVec, aead};
use subtle::ConstantTimeEq;

/// |t| above this is a timing difference between the classes.
const THRESHOLD: f64 = 10.0;
/// Repetitions of each measurement; the verdict is the majority's.
const REPETITIONS: usize = 3;
/// Besides all measurements, t is computed over those below each of these percentiles of the
/// pooled measurements (dudect's cropping: the slow tail is mostly interrupts and migrations).
const CROPS: [f64; 5] = [0.50, 0.75, 0.90, 0.95, 0.99];
/// Bytes compared by the comparison tests and the control.
const COMPARED: usize = 1024;

/// One test at a time in this binary: concurrent tests would time each other.
static TURN: Mutex<()> = Mutex::new(());

/// Samples per repetition: `default`, or `STRONGROOM_CT_SAMPLES` (at least 100).
fn samples(default: usize) -> usize {
    std::env::var("STRONGROOM_CT_SAMPLES").ok().and_then(|v| v.parse().ok()).unwrap_or(default).max(100)
}

/// xorshift64*: which class each sample gets; seeded from the clock, so every run differs.
struct Coin(u64);

impl Coin {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        Coin(nanos as u64 | 1)
    }

    fn flip(&mut self) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 63) as usize
    }
}

/// Welch's t between the two classes of `(class, nanoseconds)` measurements with a time below
/// `limit`; `None` with fewer than two measurements in a class.
fn welch_t(measured: &[(usize, u64)], limit: u64) -> Option<f64> {
    let (mut n, mut mean, mut m2) = ([0f64; 2], [0f64; 2], [0f64; 2]);
    for &(class, ns) in measured.iter().filter(|&&(_, ns)| ns < limit) {
        // Welford's online mean and variance.
        let x = ns as f64;
        n[class] += 1.0;
        let delta = x - mean[class];
        mean[class] += delta / n[class];
        m2[class] += delta * (x - mean[class]);
    }
    if n[0] < 2.0 || n[1] < 2.0 {
        return None;
    }
    let var = [m2[0] / (n[0] - 1.0), m2[1] / (n[1] - 1.0)];
    let se = (var[0] / n[0] + var[1] / n[1]).sqrt();
    Some(if se == 0.0 { 0.0 } else { (mean[0] - mean[1]) / se })
}

/// One repetition: `n` measurements of `timed(class)` (which prepares its input for `class`,
/// then returns how long the operation alone took), classes drawn at random. Returns the
/// largest |t| over all measurements and each crop.
fn repetition(n: usize, timed: &mut impl FnMut(usize) -> Duration) -> f64 {
    let mut coin = Coin::new();
    for _ in 0..(n / 10).clamp(10, 2000) {
        timed(coin.flip()); // warm caches, branch predictors and the pool
    }
    let measured: Vec<(usize, u64)> = (0..n)
        .map(|_| {
            let class = coin.flip();
            (class, timed(class).as_nanos() as u64)
        })
        .collect();
    let mut sorted: Vec<u64> = measured.iter().map(|&(_, ns)| ns).collect();
    sorted.sort_unstable();
    let limits = CROPS.iter().map(|p| sorted[((sorted.len() - 1) as f64 * p) as usize]);
    std::iter::once(u64::MAX)
        .chain(limits)
        .filter_map(|limit| welch_t(&measured, limit))
        .map(f64::abs)
        .fold(0.0, f64::max)
}

/// Repeats the measurement until the majority is decided; returns each repetition's |t|.
fn measure(name: &str, n: usize, mut timed: impl FnMut(usize) -> Duration) -> Vec<f64> {
    let _turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let started = Instant::now();
    let mut ts = Vec::new();
    while ts.len() < REPETITIONS {
        ts.push(repetition(n, &mut timed));
        let above = ts.iter().filter(|&&t| t > THRESHOLD).count();
        if above > REPETITIONS / 2 || ts.len() - above > REPETITIONS / 2 {
            break;
        }
    }
    let shown: Vec<String> = ts.iter().map(|t| format!("{t:.2}")).collect();
    // Straight to stderr, past libtest's capture: the figures are the point of the test.
    let line = format!(
        "constant time: {name}: |t| = [{}] ({n} samples each, {:.1} s; threshold {THRESHOLD})\n",
        shown.join(", "),
        started.elapsed().as_secs_f64()
    );
    let _ = std::io::stderr().lock().write_all(line.as_bytes());
    ts
}

/// Fails when the majority of repetitions saw a difference.
fn assert_constant(name: &str, ts: &[f64]) {
    let above = ts.iter().filter(|&&t| t > THRESHOLD).count();
    assert!(above <= REPETITIONS / 2, "{name}: a timing difference between the classes: |t| = {ts:.2?}");
}

/// Times `op` alone.
fn time<R>(op: impl FnOnce() -> R) -> Duration {
    let start = Instant::now();
    black_box(op());
    start.elapsed()
}

/// The secret compared against, and the two inputs: equal, and different in the first byte.
fn comparison_inputs() -> (Vec<u8>, [Vec<u8>; 2]) {
    let secret: Vec<u8> = (0..COMPARED).map(|i| (i * 31 + 7) as u8).collect();
    let mut differs = secret.clone();
    differs[0] ^= 0x80;
    (secret.clone(), [secret, differs])
}

#[test]
fn locked_buffer_ct_eq_takes_the_same_time_whatever_the_input() {
    let (secret, inputs) = comparison_inputs();
    let buf = LockedBuffer::from_bytes(&mut secret.clone()).unwrap();
    let mut work = vec![0u8; COMPARED];
    let ts = measure("LockedBuffer::ct_eq, equal vs first byte different", samples(20_000), |class| {
        work.copy_from_slice(&inputs[class]);
        time(|| buf.ct_eq(black_box(&work)))
    });
    assert!(buf.ct_eq(&inputs[0]) && !buf.ct_eq(&inputs[1]));
    assert_constant("LockedBuffer::ct_eq", &ts);
}

#[test]
fn secret_vec_ct_eq_takes_the_same_time_whatever_the_input() {
    let (secret, inputs) = comparison_inputs();
    let mut a = SecretVec::new();
    a.extend_from_slice(&secret).unwrap();
    let mut b = SecretVec::new();
    b.extend_from_slice(&secret).unwrap();
    let ts = measure("SecretVec ct_eq, equal vs first byte different", samples(20_000), |class| {
        b.expose_mut().unwrap().copy_from_slice(&inputs[class]);
        time(|| bool::from(a.ct_eq(black_box(&b))))
    });
    assert_constant("SecretVec ct_eq", &ts);
}

/// The harness can see an early exit: the same buffer, compared with `==` (`memcmp`, which
/// stops at the first difference) instead of `ct_eq`, must exceed the threshold.
#[test]
fn control_an_early_exit_comparison_is_caught() {
    let (secret, inputs) = comparison_inputs();
    let buf = LockedBuffer::from_bytes(&mut secret.clone()).unwrap();
    let mut work = vec![0u8; COMPARED];
    let ts =
        measure("control: LockedBuffer compared with ==, equal vs first byte different", samples(20_000), |class| {
            work.copy_from_slice(&inputs[class]);
            time(|| buf.with(|bytes| bytes == black_box(&work[..])))
        });
    let above = ts.iter().filter(|&&t| t > THRESHOLD).count();
    assert!(
        above > REPETITIONS / 2,
        "the control's early exit went unseen: |t| = {ts:.2?}; the harness proves nothing"
    );
}

#[test]
fn aead_rejects_a_forged_tag_in_the_same_time_wherever_it_differs() {
    const MESSAGE: usize = 64;
    let key = aead::Key::random().unwrap();
    let nonce = [7u8; aead::NONCE_LEN];
    let mut sealed = vec![0u8; MESSAGE + aead::TAG_LEN];
    aead::seal_into(&key, aead::Nonce::assume_unique_for_key(nonce), b"aad", &[0x42; MESSAGE], &mut sealed).unwrap();
    let mut forged = [sealed.clone(), sealed];
    forged[0][MESSAGE] ^= 1; // the tag's first byte
    forged[1][MESSAGE + aead::TAG_LEN - 1] ^= 1; // its last byte
    let (mut work, mut out) = (vec![0u8; MESSAGE + aead::TAG_LEN], vec![0u8; MESSAGE]);
    let mut opened = 0;
    let ts = measure("aead::open_into, forged tag wrong in its first vs its last byte", samples(50_000), |class| {
        work.copy_from_slice(&forged[class]);
        let nonce = aead::Nonce::assume_unique_for_key(nonce);
        let mut result = Ok(());
        let took = time(|| result = aead::open_into(&key, nonce, b"aad", black_box(&work), &mut out));
        opened += usize::from(result.is_ok());
        took
    });
    assert_eq!(opened, 0, "a forged message opened");
    assert_constant("aead::open_into", &ts);
}

#[cfg(target_os = "linux")]
#[test]
fn ml_kem_decapsulation_takes_the_same_time_for_valid_and_tampered_ciphertexts() {
    use strongroom::kem::{DecapsulationKey, MlKem768};

    let key = DecapsulationKey::<MlKem768>::generate().unwrap();
    let (valid, sent) = key.encapsulation_key().encapsulate().unwrap();
    let mut tampered = valid.clone();
    tampered[valid.len() / 2] ^= 0x10;
    let inputs = [valid, tampered];
    let mut work = inputs[0].clone();
    let mut agreed = [0usize; 2];
    let ts = measure("ML-KEM-768 decapsulate, valid vs tampered ciphertext", samples(10_000), |class| {
        work.copy_from_slice(&inputs[class]);
        let mut secret = None;
        let took = time(|| secret = Some(key.decapsulate(black_box(&work)).unwrap()));
        agreed[class] += usize::from(secret.is_some_and(|s| s == sent));
        took
    });
    assert!(agreed[0] > 0 && agreed[1] == 0, "valid ciphertexts must agree, tampered ones never: {agreed:?}");
    assert_constant("ML-KEM-768 decapsulate", &ts);
}
