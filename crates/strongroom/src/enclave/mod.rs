//! Sealed secrets: ciphertext at rest, plaintext only while open.
//!
//! - [`Enclave`]: a secret encrypted under the process key, for secrets that are held long
//!   and used rarely. Its ciphertext may sit in ordinary memory; a memory dump shows nothing.
//! - [`coffer`](crate::coffer): the process key, split in protected memory and re-keyed.
//! - [`stream`](crate::stream): chunked authenticated encryption for data of any size.

pub mod coffer;
mod sealed;
pub mod stream;

pub use sealed::Enclave;
