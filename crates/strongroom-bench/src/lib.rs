//! Peers for strongroom's benchmarks, each behind the smallest safe wrapper that lets a
//! criterion loop call it: libsodium's guarded allocator, OpenSSL's secure heap, and the raw
//! system-call "floors" that any guarded allocator has to pay.
//!
//! This crate exists only for benchmarks (`cargo bench -p strongroom-bench`); it links the
//! system libsodium and libcrypto, which strongroom itself never needs.

pub mod aws_lc;
pub mod aws_lc_pq;
pub mod floor;
pub mod memsec_peer;
pub mod openssl_heap;
pub mod openssl_sha3;
pub mod sodium;
pub mod sodium_crypto;
