//! The C ABI's cost per call, against the Rust API in the same run: a 1 KiB buffer made and
//! destroyed, an Enclave's 1 KiB opened into a buffer, an ML-KEM-768 decapsulation. The
//! `c_abi` candidate is a C loop (benches/ffi_loop.c) calling libstrongroom as a C program
//! does, timed in C; `rust` is the same work through the Rust API.
//!
//! `cargo bench -p strongroom-bench --bench ffi && cargo run -p strongroom-bench --bin bench-ratios -- ffi rust`

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use strongroom::kem::{DecapsulationKey, MlKem768};
use strongroom::{Enclave, SecretVec};
use strongroom_ffi::{
    STRONGROOM_KEM_ML_KEM_768, STRONGROOM_OK, strongroom_enclave, strongroom_kem_key, strongroom_kem_keygen,
};

// Built by build.rs from benches/ffi_loop.c.
#[link(name = "ffi_loop", kind = "static")]
unsafe extern "C" {
    fn ffi_loop_buffer_new_destroy(iters: u64, len: usize) -> u64;
    fn ffi_loop_enclave_open(iters: u64, enclave: strongroom_enclave) -> u64;
    fn ffi_loop_kem_decapsulate(iters: u64, key: strongroom_kem_key, ct: *const u8, ct_len: usize) -> u64;
}

/// What `strongroom_buffer_new` does for a small buffer, through the Rust API.
fn rust_buffer(len: usize) -> SecretVec<u8> {
    let mut vec = SecretVec::with_capacity(len).expect("vec");
    vec.extend_from_slice(&[0u8; 1024][..len]).expect("zeros");
    vec
}

fn buffer_new_destroy(c: &mut Criterion) {
    let mut g = c.benchmark_group("ffi/buffer_new_destroy/1KiB");
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("rust", |b| b.iter(|| drop(black_box(rust_buffer(1024)))));
    g.bench_function("c_abi", |b| {
        b.iter_custom(|iters| {
            // SAFETY: the loop calls libstrongroom with valid out-parameters only.
            Duration::from_nanos(unsafe { ffi_loop_buffer_new_destroy(iters, 1024) })
        })
    });
    g.finish();
}

fn enclave_open(c: &mut Criterion) {
    let enclave = Enclave::random(1024).expect("enclave");
    let mut bytes = [0x5au8; 1024];
    let mut handle = strongroom_enclave { id: 0 };
    let mut buffer = strongroom_ffi::strongroom_buffer { id: 0 };
    // SAFETY: valid pointers and lengths for each call.
    unsafe {
        assert_eq!(
            strongroom_ffi::strongroom_buffer_from_bytes(bytes.as_mut_ptr(), bytes.len(), 0, &mut buffer),
            STRONGROOM_OK
        );
        assert_eq!(strongroom_ffi::strongroom_enclave_seal(buffer, &mut handle), STRONGROOM_OK);
    }
    let mut g = c.benchmark_group("ffi/enclave_open/1KiB");
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("rust", |b| b.iter(|| drop(black_box(enclave.open().expect("open")))));
    g.bench_function("c_abi", |b| {
        b.iter_custom(|iters| {
            // SAFETY: `handle` names a live enclave; the loop passes valid out-parameters.
            Duration::from_nanos(unsafe { ffi_loop_enclave_open(iters, handle) })
        })
    });
    g.finish();
}

fn kem_decapsulate(c: &mut Criterion) {
    let key = DecapsulationKey::<MlKem768>::generate().expect("key");
    let (ct, _) = key.encapsulation_key().encapsulate().expect("encapsulate");
    let mut handle = strongroom_kem_key { id: 0 };
    // SAFETY: a valid out-parameter.
    assert_eq!(unsafe { strongroom_kem_keygen(STRONGROOM_KEM_ML_KEM_768, &mut handle) }, STRONGROOM_OK);
    let mut public = vec![0u8; 1184];
    // SAFETY: `public` holds 1184 bytes.
    let got = unsafe {
        strongroom_ffi::strongroom_kem_public_key(handle, public.as_mut_ptr(), public.len(), std::ptr::null_mut())
    };
    assert_eq!(got, STRONGROOM_OK);
    let (c_ct, _) =
        strongroom::kem::EncapsulationKey::<MlKem768>::from_bytes(&public).expect("ek").encapsulate().expect("enc");
    let mut g = c.benchmark_group("ffi/ml_kem_768_decapsulate");
    g.measurement_time(Duration::from_secs(3));
    g.bench_function("rust", |b| b.iter(|| drop(black_box(key.decapsulate(black_box(&ct)).expect("decaps")))));
    g.bench_function("c_abi", |b| {
        b.iter_custom(|iters| {
            // SAFETY: `handle` names a live key and `c_ct` is a ciphertext of the given length.
            Duration::from_nanos(unsafe { ffi_loop_kem_decapsulate(iters, handle, c_ct.as_ptr(), c_ct.len()) })
        })
    });
    g.finish();
}

criterion_group!(benches, buffer_new_destroy, enclave_open, kem_decapsulate);
criterion_main!(benches);
