//! Deserializing straight into protected memory (the `serde` feature).
//!
//! The visitors copy each piece the deserializer hands over directly into a secret type; an
//! owned `String` or `Vec<u8>` handed over is wiped after the copy. What strongroom cannot
//! reach is the deserializer's own input and scratch buffers: keep the input itself in
//! protected memory (e.g. `serde_json::from_slice` over a [`SecretVec`]'s exposed bytes) and
//! prefer formats that can borrow strings without unescaping them.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
use zeroize::Zeroize;

use super::{SecretBox, SecretString, SecretVec};

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = SecretString;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
        let mut s = SecretString::new();
        s.push_str(v).map_err(E::custom)?;
        Ok(s)
    }

    fn visit_string<E: de::Error>(self, mut v: String) -> Result<SecretString, E> {
        SecretString::take(&mut v).map_err(E::custom)
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<SecretString, E> {
        let text = std::str::from_utf8(v).map_err(|_| E::custom("the text is not valid UTF-8"))?;
        self.visit_str(text)
    }
}

/// Deserializes a string into protected memory.
///
/// ```
/// let s: strongroom::SecretString = serde_json::from_str(r#""hunter2""#).unwrap();
/// assert_eq!(&*s.expose()?, "hunter2");
/// # Ok::<(), strongroom::Error>(())
/// ```
impl<'de> Deserialize<'de> for SecretString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor)
    }
}

struct BytesVisitor;

impl<'de> Visitor<'de> for BytesVisitor {
    type Value = SecretVec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes, a sequence of bytes, or a string")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<SecretVec<u8>, E> {
        let mut out = SecretVec::new();
        out.extend_from_slice(v).map_err(E::custom)?;
        Ok(out)
    }

    fn visit_byte_buf<E: de::Error>(self, mut v: Vec<u8>) -> Result<SecretVec<u8>, E> {
        let result = self.visit_bytes(&v);
        v.zeroize();
        result
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretVec<u8>, E> {
        self.visit_bytes(v.as_bytes())
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<SecretVec<u8>, E> {
        self.visit_byte_buf(v.into_bytes())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<SecretVec<u8>, A::Error> {
        let mut out = SecretVec::new();
        while let Some(byte) = seq.next_element::<u8>()? {
            out.push(byte).map_err(de::Error::custom)?;
        }
        Ok(out)
    }
}

/// Deserializes bytes (or a sequence of integers, or a string) into protected memory.
///
/// ```
/// let v: strongroom::SecretVec<u8> = serde_json::from_str("[1, 2, 3]").unwrap();
/// assert_eq!(&*v.expose()?, &[1, 2, 3]);
/// # Ok::<(), strongroom::Error>(())
/// ```
impl<'de> Deserialize<'de> for SecretVec<u8> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(BytesVisitor)
    }
}

/// Deserializes exactly `N` bytes into a fixed-size secret, by way of a [`SecretVec`], so
/// the bytes are only ever in protected memory. Another length is an error.
///
/// ```
/// let key: strongroom::SecretBox<[u8; 4]> = serde_json::from_str("[9, 8, 7, 6]").unwrap();
/// assert_eq!(*key.expose()?, [9, 8, 7, 6]);
/// assert!(serde_json::from_str::<strongroom::SecretBox<[u8; 4]>>("[1, 2]").is_err());
/// # Ok::<(), strongroom::Error>(())
/// ```
impl<'de, const N: usize> Deserialize<'de> for SecretBox<[u8; N]> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let bytes = SecretVec::<u8>::deserialize(deserializer)?;
        let bytes = bytes.expose().map_err(de::Error::custom)?;
        if bytes.len() != N {
            return Err(de::Error::invalid_length(bytes.len(), &"the secret's exact length"));
        }
        SecretBox::new(|key: &mut [u8; N]| key.copy_from_slice(&bytes)).map_err(de::Error::custom)
    }
}
