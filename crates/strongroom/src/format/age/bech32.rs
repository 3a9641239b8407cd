//! Bech32 (BIP 173), as age writes its recipients (`age1…`) and identities
//! (`AGE-SECRET-KEY-1…`), without BIP 173's 90-character limit (post-quantum recipients are
//! about 2,000 characters).
//!
//! Written here rather than taken from the `bech32` crate because an identity is a secret:
//! the crate decodes into `Vec`s on the ordinary heap, where this writes the decoded bytes
//! into the caller's (protected) buffer and keeps nothing else but public checksum state.

use crate::error::{Error, FormatError, Result};

const CHARSET: &[u8; 32] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const GENERATOR: [u32; 5] = [0x3b6a_57b2, 0x2650_8e6d, 0x1ea1_19fa, 0x3d42_33dd, 0x2a14_62b3];

fn polymod_step(checksum: u32, value: u8) -> u32 {
    let top = checksum >> 25;
    let mut checksum = ((checksum & 0x01ff_ffff) << 5) ^ u32::from(value);
    for (i, g) in GENERATOR.iter().enumerate() {
        if (top >> i) & 1 == 1 {
            checksum ^= g;
        }
    }
    checksum
}

/// The checksum state after the human-readable part (lowercase).
fn hrp_checksum(hrp: &[u8]) -> u32 {
    let mut checksum = 1;
    for &c in hrp {
        checksum = polymod_step(checksum, c.to_ascii_lowercase() >> 5);
    }
    checksum = polymod_step(checksum, 0);
    for &c in hrp {
        checksum = polymod_step(checksum, c.to_ascii_lowercase() & 31);
    }
    checksum
}

fn invalid(rule: &'static str) -> Error {
    Error::Format(FormatError::InvalidEncoding(rule))
}

/// Decodes `text` (all lowercase or all uppercase), whose human-readable part must be `hrp`
/// (compared without case), into `out`, which must be exactly the data's length; returns
/// nothing else. `text` and `out` are the caller's to protect, and for a secret the call
/// belongs on a secure stack (the bit accumulator holds a few bits of it).
pub(crate) fn decode_into(text: &[u8], hrp: &str, out: &mut [u8]) -> Result<()> {
    let has_upper = text.iter().any(u8::is_ascii_uppercase);
    if has_upper && text.iter().any(u8::is_ascii_lowercase) {
        return Err(invalid("Bech32 text mixes upper and lower case"));
    }
    let split = text.iter().rposition(|&b| b == b'1').ok_or(invalid("Bech32 text has no separator"))?;
    let (prefix, rest) = (&text[..split], &text[split + 1..]);
    if !prefix.eq_ignore_ascii_case(hrp.as_bytes()) {
        return Err(invalid("Bech32 text has another prefix than expected"));
    }
    if rest.len() < 6 {
        return Err(invalid("Bech32 text is shorter than its checksum"));
    }
    let data = rest.len() - 6;
    // 5-bit groups into bytes; the padding (at most 4 bits) must be zero.
    if data * 5 / 8 != out.len() || data * 5 % 8 >= 5 {
        return Err(invalid("Bech32 data has another length than expected"));
    }
    let mut checksum = hrp_checksum(prefix);
    let (mut accumulator, mut bits, mut written) = (0u32, 0u32, 0usize);
    for (i, &c) in rest.iter().enumerate() {
        let value = CHARSET
            .iter()
            .position(|&x| x == c.to_ascii_lowercase())
            .ok_or(invalid("Bech32 text has a character outside its alphabet"))? as u8;
        checksum = polymod_step(checksum, value);
        if i < data {
            accumulator = ((accumulator << 5) | u32::from(value)) & 0xfff;
            bits += 5;
            if bits >= 8 {
                bits -= 8;
                out[written] = (accumulator >> bits) as u8;
                written += 1;
            }
        }
    }
    let padding_is_zero = accumulator & ((1 << bits) - 1) == 0;
    if checksum != 1 || !padding_is_zero {
        zeroize::Zeroize::zeroize(out);
        return Err(invalid("Bech32 checksum or padding is wrong"));
    }
    Ok(())
}

/// The length of [`encode_into`]'s output for `data_len` bytes under `hrp`.
pub(crate) fn encoded_len(hrp: &str, data_len: usize) -> usize {
    hrp.len() + 1 + (data_len * 8).div_ceil(5) + 6
}

/// Encodes `data` under `hrp` into `out` ([`encoded_len`] bytes), in upper case if `upper`.
pub(crate) fn encode_into(hrp: &str, data: &[u8], upper: bool, out: &mut [u8]) -> Result<()> {
    if out.len() != encoded_len(hrp, data.len()) {
        return Err(Error::ApiMisuse("a Bech32 output buffer of the wrong length"));
    }
    let case = |c: u8| if upper { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() };
    let mut at = 0;
    for &c in hrp.as_bytes() {
        out[at] = case(c);
        at += 1;
    }
    out[at] = b'1';
    at += 1;
    let mut checksum = hrp_checksum(hrp.as_bytes());
    let (mut accumulator, mut bits) = (0u32, 0u32);
    let push = |value: u8, out: &mut [u8], at: &mut usize, checksum: &mut u32| {
        *checksum = polymod_step(*checksum, value);
        out[*at] = case(CHARSET[usize::from(value)]);
        *at += 1;
    };
    for &byte in data {
        accumulator = ((accumulator << 8) | u32::from(byte)) & 0xfff;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            push(((accumulator >> bits) & 31) as u8, out, &mut at, &mut checksum);
        }
    }
    if bits > 0 {
        push(((accumulator << (5 - bits)) & 31) as u8, out, &mut at, &mut checksum);
    }
    for _ in 0..6 {
        checksum = polymod_step(checksum, 0);
    }
    checksum ^= 1;
    for i in 0..6 {
        out[at] = case(CHARSET[((checksum >> (5 * (5 - i))) & 31) as usize]);
        at += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// BIP 173's valid strings (no data bytes) and age's own test identity from its README.
    #[test]
    fn known_answers_and_round_trips() {
        decode_into(b"A12UEL5L", "a", &mut []).unwrap();
        decode_into(b"a12uel5l", "a", &mut []).unwrap();
        assert!(decode_into(b"A12uEL5L", "a", &mut []).is_err(), "mixed case");
        assert!(decode_into(b"a12uel5m", "a", &mut []).is_err(), "checksum");
        for len in [0, 1, 5, 16, 32, 100, 1216] {
            let data: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            for upper in [false, true] {
                let mut text = vec![0u8; encoded_len("age", len)];
                encode_into("age", &data, upper, &mut text).unwrap();
                let mut back = vec![0u8; len];
                decode_into(&text, "age", &mut back).unwrap();
                assert_eq!(back, data);
                for at in 4..text.len() {
                    let mut bad = text.clone();
                    bad[at] = if bad[at] == b'q' || bad[at] == b'Q' { bad[at] + 1 } else { b'q' };
                    assert!(decode_into(&bad, "age", &mut back).is_err(), "len {len}, changed at {at}");
                }
            }
        }
    }
}
