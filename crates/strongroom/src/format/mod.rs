//! Encrypted file formats: age v1 (C2SP age) so far.

pub(crate) mod age;
