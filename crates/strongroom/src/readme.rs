//! The README's examples, compiled and run as doctests (`cargo test --doc`), so that every
//! snippet a newcomer copies from it works as written. Nothing here is part of the API.

/// The repository's README.md; each of its ```rust blocks is a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;
