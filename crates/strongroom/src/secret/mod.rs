//! The secret types: values that live only in protected memory, reachable only through
//! short-lived guards ([`crate::Exposed`]) or closures, wiped when dropped, redacted in
//! `Debug`, never implicitly cloned.
//!
//! - [`SecretBox`]: one value, built in place; optionally strict (no-access at rest).
//! - [`SecretVec`]: a growable sequence; growth leaves no stale copy behind.
//! - [`SecretString`]: UTF-8 text with character editing and terminal passphrase input.

mod boxed;
#[cfg(feature = "serde")]
mod serde;
mod string;
mod vec;

pub use boxed::SecretBox;
pub use string::SecretString;
pub use vec::SecretVec;
