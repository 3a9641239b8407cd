//! The age v1 header (C2SP age, "Header"): a version line, recipient stanzas, and a MAC
//! line; parsed with every canonical-encoding rule, and encoded back byte for byte.
//!
//! ```text
//! age-encryption.org/v1
//! -> X25519 <arg> ...          one line per stanza: "-> ", then the tag and its arguments
//! <body, base64, 64 columns>   the last body line is shorter than 64 (possibly empty)
//! --- <base64 of the 32-byte HMAC-SHA256 over everything up to and including "---">
//! ```
//!
//! Everything here is public data: stanza bodies are wrapped (encrypted) file keys. The
//! reader is bounded: a line, the header and the number of stanzas have limits, so a hostile
//! header costs little memory and time.

use std::io::BufRead;

use base64ct::{Base64Unpadded, Encoding};

use crate::error::{Error, FormatError, Result};

/// The first line of every age v1 file.
const VERSION_LINE: &[u8] = b"age-encryption.org/v1";
/// Base64 columns per full body line.
const COLUMNS: usize = 64;
/// The longest header line accepted (a hybrid recipient's stanza line is about 1.5 KiB).
const MAX_LINE: usize = 8 * 1024;
/// The largest header accepted, all stanzas included.
const MAX_HEADER: usize = 1 << 20;
/// The most stanzas a header may hold.
const MAX_STANZAS: usize = 1024;

/// One recipient stanza: a tag (`X25519`, `scrypt`, `mlkem768x25519`, or one this build does
/// not know, which is skipped), its arguments, and its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Stanza {
    pub(crate) tag: String,
    pub(crate) args: Vec<String>,
    pub(crate) body: Vec<u8>,
}

/// A parsed header: the stanzas, the MAC, and the exact bytes the MAC covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) stanzas: Vec<Stanza>,
    pub(crate) mac: [u8; 32],
    /// The header from its first byte up to and including `---` (no space, no MAC).
    pub(crate) covered: Vec<u8>,
}

fn malformed(rule: &'static str) -> Error {
    Error::Format(FormatError::InvalidHeader(rule))
}

impl Header {
    /// Reads a header from `input`, leaving it at the first byte after the MAC line (the
    /// payload's nonce).
    pub(crate) fn read(input: &mut impl BufRead) -> Result<Header> {
        let mut covered = Vec::new();
        let version = read_line(input, &mut covered)?.ok_or(Error::Format(FormatError::TooShort))?;
        if version != VERSION_LINE {
            return Err(if version.starts_with(b"age-encryption.org/") {
                Error::Format(FormatError::UnsupportedVersion)
            } else {
                Error::Format(FormatError::NotAStream)
            });
        }
        let mut stanzas = Vec::new();
        let mut line = read_line(input, &mut covered)?.ok_or(malformed("the header ends before its MAC line"))?;
        loop {
            if let Some(mac) = line.strip_prefix(b"---") {
                let mac = mac.strip_prefix(b" ").ok_or(malformed("the MAC line is not \"--- \" and the MAC"))?;
                let mac = decode(mac).ok_or(malformed("the MAC is not canonical unpadded base64"))?;
                let mac = mac.try_into().map_err(|_| malformed("the MAC is not 32 bytes"))?;
                // The MAC covers the header up to "---", without the space and the MAC.
                covered.truncate(covered.len() - line.len() - 1 + 3);
                return Ok(Header { stanzas, mac, covered });
            }
            let arguments =
                line.strip_prefix(b"-> ").ok_or(malformed("a line that is neither a stanza nor the MAC"))?;
            if stanzas.len() == MAX_STANZAS {
                return Err(malformed("more stanzas than the 1024 accepted"));
            }
            let mut words = Vec::new();
            for word in arguments.split(|&b| b == b' ') {
                if word.is_empty() || !word.iter().all(|&b| (0x21..=0x7e).contains(&b)) {
                    return Err(malformed("a stanza argument is empty or has a character outside ASCII 33-126"));
                }
                words.push(String::from_utf8(word.to_vec()).map_err(|_| Error::Internal("ASCII is UTF-8"))?);
            }
            let tag = words.remove(0);
            // The body: full 64-column lines, then one shorter line (possibly empty).
            let mut body = Vec::new();
            loop {
                let text = read_line(input, &mut covered)?.ok_or(malformed("a stanza body is not finished"))?;
                if text.len() > COLUMNS {
                    return Err(malformed("a stanza body line is longer than 64 columns"));
                }
                if text.starts_with(b"-> ") || text.starts_with(b"---") {
                    return Err(malformed("a stanza body does not end with a line shorter than 64 columns"));
                }
                body.extend_from_slice(&text);
                if text.len() < COLUMNS {
                    break;
                }
            }
            let body = decode(&body).ok_or(malformed("a stanza body is not canonical unpadded base64"))?;
            stanzas.push(Stanza { tag, args: words, body });
            line = read_line(input, &mut covered)?.ok_or(malformed("the header ends before its MAC line"))?;
        }
    }

    /// The header's bytes up to and including `---`: what the MAC covers, for `stanzas`.
    pub(crate) fn encode_covered(stanzas: &[Stanza]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(VERSION_LINE);
        out.push(b'\n');
        for stanza in stanzas {
            out.extend_from_slice(b"-> ");
            out.extend_from_slice(stanza.tag.as_bytes());
            for arg in &stanza.args {
                out.push(b' ');
                out.extend_from_slice(arg.as_bytes());
            }
            out.push(b'\n');
            let body = Base64Unpadded::encode_string(&stanza.body);
            let mut lines = body.as_bytes().chunks(COLUMNS).peekable();
            let mut last_full = true;
            while let Some(line) = lines.next() {
                out.extend_from_slice(line);
                out.push(b'\n');
                last_full = line.len() == COLUMNS && lines.peek().is_none();
            }
            if body.is_empty() || last_full {
                out.push(b'\n'); // the empty final line that ends a body of whole lines
            }
        }
        out.extend_from_slice(b"---");
        out
    }

    /// The whole header: the covered bytes, then ` <MAC>\n`.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Self::encode_covered(&self.stanzas);
        out.push(b' ');
        out.extend_from_slice(Base64Unpadded::encode_string(&self.mac).as_bytes());
        out.push(b'\n');
        out
    }
}

/// Canonical unpadded standard base64 (age's encoding), or `None`.
fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(text).ok()?;
    Base64Unpadded::decode_vec(text).ok()
}

/// Reads one `\n`-terminated line into `covered` and returns it without the `\n`; `None` at
/// the end of the input. A `\r`, a line over [`MAX_LINE`], a header over [`MAX_HEADER`] or an
/// input that ends inside a line are errors.
fn read_line(input: &mut impl BufRead, covered: &mut Vec<u8>) -> Result<Option<Vec<u8>>> {
    let start = covered.len();
    loop {
        let available = match input.fill_buf() {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::from_reader(e)),
        };
        if available.is_empty() {
            return if covered.len() == start {
                Ok(None)
            } else {
                Err(malformed("the input ends inside a header line"))
            };
        }
        let (take, done) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (end + 1, true),
            None => (available.len(), false),
        };
        covered.extend_from_slice(&available[..take]);
        input.consume(take);
        if covered.len() - start > MAX_LINE + 1 {
            return Err(malformed("a header line is longer than 8 KiB"));
        }
        if covered.len() > MAX_HEADER {
            return Err(malformed("the header is larger than 1 MiB"));
        }
        if done {
            let line = covered[start..covered.len() - 1].to_vec();
            if line.contains(&b'\r') {
                return Err(malformed("a header line holds a carriage return"));
            }
            return Ok(Some(line));
        }
    }
}

#[cfg(test)]
mod tests;
