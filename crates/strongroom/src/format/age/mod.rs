//! age v1 (C2SP age specification): reading files encrypted to X25519 recipients or with a
//! passphrase (the header, the recipients, the payload) and the ASCII armor, so far.

pub(crate) mod armor;
pub(crate) mod bech32;
pub(crate) mod header;
pub(crate) mod payload;
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) mod recipients;
#[cfg(test)]
mod testkit;

/// Opens an age file read from `input` with the first of `identities` that matches a
/// recipient: reads and checks the header (syntax, the recipient stanzas, the MAC) and
/// returns the reader of the plaintext.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn open<R: std::io::BufRead>(
    mut input: R,
    identities: &[recipients::Identity],
) -> crate::error::Result<payload::PayloadReader<R>> {
    let header = header::Header::read(&mut input)?;
    let file_key = recipients::file_key(&header, identities)?;
    payload::verify_header_mac(&file_key, &header)?;
    payload::PayloadReader::new(&file_key, input)
}
