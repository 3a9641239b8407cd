//! age v1 (C2SP age specification): reading files encrypted to X25519 recipients or with a
//! passphrase (the header, the recipients, the payload) and the ASCII armor, so far.

pub(crate) mod armor;
pub(crate) mod bech32;
pub(crate) mod header;
#[cfg(all(test, target_os = "linux", not(miri)))]
mod interop_tests;
pub(crate) mod payload;
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) mod recipients;
#[cfg(test)]
mod testkit;
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) mod writer;

/// Opens an age file read from `input`, binary or armored, with the first of `identities`
/// that matches a recipient: reads and checks the header (syntax, the recipient stanzas, the
/// MAC) and returns the reader of the plaintext.
///
/// The input counts as armored when, after any whitespace, it starts with `-----`: then the
/// armor's own rules decide, so that a wrong or broken BEGIN line is an armor error.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn open<'a>(
    mut input: impl std::io::Read + 'a,
    identities: &[impl std::borrow::Borrow<recipients::Identity>],
) -> crate::error::Result<payload::PayloadReader<Box<dyn std::io::BufRead + 'a>>> {
    use std::io::{BufReader, Cursor, Read};

    let mut prefix = Vec::with_capacity(armor::SNIFF_LEN);
    (&mut input).take(armor::SNIFF_LEN as u64).read_to_end(&mut prefix).map_err(crate::error::Error::from_reader)?;
    let text = prefix.iter().position(|&b| !(b.is_ascii_whitespace() || b == 0x0b)).unwrap_or(prefix.len());
    let armored = armor::starts_armored(&prefix) || prefix[text..].starts_with(b"-----");
    let whole = Cursor::new(prefix).chain(input);
    let mut reader: Box<dyn std::io::BufRead + 'a> = if armored {
        Box::new(BufReader::new(armor::ArmorReader::new(BufReader::new(whole))))
    } else {
        Box::new(BufReader::new(whole))
    };
    let header = header::Header::read(&mut reader)?;
    let file_key = recipients::file_key(&header, identities)?;
    payload::verify_header_mac(&file_key, &header)?;
    payload::PayloadReader::new(&file_key, reader)
}
