//! The armor against the age testkit (`../shared/vectors/age-testkit`), round trips, every
//! truncation and single-byte change of a small file, and hostile input.

use std::cell::Cell;
use std::io::{BufReader, Read, Write};

use super::*;
use crate::format::age::testkit::testkit;

/// Decodes `armored` through a 7-byte buffer, so that reads cross every line boundary.
fn decode(armored: &[u8]) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    ArmorReader::new(BufReader::with_capacity(7, armored)).read_to_end(&mut out)?;
    Ok(out)
}

/// The armor rule an error names; panics if it is not an armor error.
fn rule(err: &io::Error) -> &'static str {
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    match err.get_ref().and_then(|e| e.downcast_ref::<Error>()) {
        Some(Error::Format(FormatError::InvalidArmor(rule))) => rule,
        _ => panic!("not an armor error: {err:?}"),
    }
}

/// Encodes `data` through an `ArmorWriter`, in writes of the sizes in `steps`, in turn.
fn encode(data: &[u8], steps: &[usize]) -> Vec<u8> {
    let mut writer = ArmorWriter::new(Vec::new());
    let (mut at, mut step) = (0, 0);
    while at < data.len() {
        let end = data.len().min(at + steps[step % steps.len()]);
        writer.write_all(&data[at..end]).unwrap();
        at = end;
        step += 1;
    }
    writer.finish().unwrap()
}

/// The canonical armor of `data`, built independently of `ArmorWriter`: the whole base64
/// cut into 64-column lines.
fn canonical(data: &[u8]) -> Vec<u8> {
    let mut out = b"-----BEGIN AGE ENCRYPTED FILE-----\n".to_vec();
    for line in Base64::encode_string(data).as_bytes().chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END AGE ENCRYPTED FILE-----\n");
    out
}

/// What the reference's malleability fuzz compares: the input without the whitespace
/// around it and with CRLF as LF (and the final `\n` put back).
fn normalize(armored: &[u8]) -> Vec<u8> {
    let start = armored.iter().position(|&b| !is_whitespace(b)).unwrap_or(armored.len());
    let end = armored.iter().rposition(|&b| !is_whitespace(b)).map_or(start, |at| at + 1);
    let mut out = Vec::new();
    let mut rest = &armored[start..end];
    while let Some(at) = rest.windows(2).position(|w| w == b"\r\n") {
        out.extend_from_slice(&rest[..at]);
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'\n');
    out
}

/// Deterministic test data.
fn bytes(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Every armored testkit vector: an `armor failure` is refused, with the rule it breaks;
/// every other one decodes, and its header parses unless it is a header-syntax failure
/// (`armor_empty`, `armor_header_crlf`). Re-encoded with `ArmorWriter`, the canonical ones
/// (LF, nothing around, a final newline) come back byte for byte; the three that are not
/// (`armor_crlf`, `armor_no_eol`, `armor_whitespace_outside`) come back as their normalized
/// form. `starts_armored` picks exactly the armored vectors whose first line is right.
#[test]
#[cfg_attr(not(strongroom_shared_vectors), ignore = "../shared (test vectors) is absent beside the repo root")]
fn the_age_testkit_armor() {
    let refusals = [
        ("armor_empty_last_line", EMPTY_LINE),
        ("armor_empty_line_begin", EMPTY_LINE),
        ("armor_eol_between_padding", NOT_BASE64),
        ("armor_garbage_leading", NOT_BEGIN),
        ("armor_headers", NOT_BASE64),
        ("armor_invalid_character_header", NOT_BASE64),
        ("armor_long_line", TOO_LONG),
        ("armor_lowercase", NOT_BEGIN),
        ("armor_no_end_line", NO_END),
        ("armor_no_padding", NOT_BASE64),
        ("armor_not_canonical", NOT_BASE64),
        ("armor_pgp_checksum", EMPTY_LINE),
        ("armor_whitespace_begin", NOT_BEGIN),
        ("armor_whitespace_end", AFTER_SHORT),
        ("armor_whitespace_eol", TOO_LONG),
        ("armor_whitespace_last_line", NOT_BASE64),
        ("armor_wrong_type", NOT_BEGIN),
    ];
    let not_sniffed = ["armor_garbage_leading", "armor_lowercase", "armor_whitespace_begin", "armor_wrong_type"];
    let (mut refused, mut exact, mut normalized) = (Vec::new(), Vec::new(), Vec::new());
    for v in testkit() {
        let name = v.name.as_str();
        if v.get("armored") != Some("yes") {
            assert!(!starts_armored(&v.file[..SNIFF_LEN.min(v.file.len())]), "{name}: not armored");
            continue;
        }
        assert_eq!(starts_armored(&v.file[..SNIFF_LEN.min(v.file.len())]), !not_sniffed.contains(&name), "{name}");
        if v.get("expect") == Some("armor failure") {
            let err = decode(&v.file).expect_err(name);
            let expected = refusals.iter().find(|(n, _)| *n == name).unwrap_or_else(|| panic!("{name}: not listed"));
            assert_eq!(rule(&err), expected.1, "{name}");
            refused.push(v.name);
            continue;
        }
        let decoded = decode(&v.file).unwrap_or_else(|e| panic!("{name}: {e}"));
        let header = super::super::header::Header::read(&mut BufReader::new(&decoded[..]));
        let header_syntax_failure = ["armor_empty", "armor_header_crlf"].contains(&name);
        assert_eq!(header.is_err(), header_syntax_failure, "{name}: {header:?}");
        let again = encode(&decoded, &[4096]);
        assert_eq!(again, canonical(&decoded), "{name}");
        if again == v.file {
            exact.push(v.name);
        } else {
            assert_eq!(again, normalize(&v.file), "{name}: not canonical even after normalizing");
            normalized.push(v.name);
        }
    }
    assert_eq!(refused, refusals.map(|(name, _)| name), "every listed refusal is in the testkit");
    let exact_expected = [
        "armor_empty",
        "armor_full_last_line",
        "armor_garbage_encoded",
        "armor_header_crlf",
        "armor_hybrid",
        "armor_scrypt",
        "armor_x25519",
    ];
    assert_eq!(exact, exact_expected);
    assert_eq!(normalized, ["armor_crlf", "armor_no_eol", "armor_whitespace_outside"]);
}

/// Lengths around the line size (48 bytes) and larger, written in odd pieces and read back
/// in odd pieces; the armor is the canonical one.
#[test]
fn round_trips() {
    for (seed, len) in [0, 1, 46, 47, 48, 49, 94, 95, 96, 1000, 100_000].into_iter().enumerate() {
        let data = bytes(len, seed as u64);
        let armored = encode(&data, &[1, 7, 13, 47, 49, 1021]);
        assert_eq!(armored, canonical(&data), "length {len}");
        assert!(starts_armored(&armored));
        let mut reader = ArmorReader::new(BufReader::with_capacity(11, &armored[..]));
        let (mut out, mut piece) = (Vec::new(), [0; 5]);
        loop {
            let n = reader.read(&mut piece).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&piece[..n]);
        }
        assert_eq!(out, data, "length {len}");
        assert_eq!(reader.read(&mut piece).unwrap(), 0, "the end stays the end");
    }
}

/// Every truncation and every single-byte change of a small armored file, and a few
/// insertions, are refused with an armor error or decode to bytes whose canonical armor is
/// the altered input normalized: the armor is not malleable beyond whitespace and CRLF.
#[test]
fn truncated_and_altered_armor_is_refused_or_canonical() {
    let data = bytes(100, 7); // two full lines and a short one
    let armored = canonical(&data);
    let check = |input: &[u8], what: &str| match decode(input) {
        Ok(decoded) => {
            assert_eq!(canonical(&decoded), normalize(input), "{what}: accepted a non-canonical form");
            1
        }
        Err(e) => {
            rule(&e);
            0
        }
    };
    let mut accepted = 0;
    for cut in 0..armored.len() {
        accepted += check(&armored[..cut], &format!("cut to {cut} bytes"));
    }
    assert_eq!(accepted, 1, "only the cut of the final newline is accepted");
    for at in 0..armored.len() {
        for value in 0..=255 {
            let mut altered = armored.clone();
            altered[at] = value;
            accepted += check(&altered, &format!("byte {at} set to {value:#x}"));
        }
        for value in [b'\r', b'\n', b' ', b'A', b'='] {
            let mut altered = armored.clone();
            altered.insert(at, value);
            accepted += check(&altered, &format!("{value:#x} inserted at {at}"));
        }
    }
    assert!(accepted > 1, "some changes of base64 characters decode");
}

/// Whitespace around the armor: whole lines before BEGIN and anything after END, up to
/// 1 KiB each; none on the BEGIN line itself. Line endings are per line, as in the reference.
#[test]
fn whitespace_and_line_endings() {
    let data = bytes(60, 3);
    let armored = canonical(&data);
    let around = |before: &[u8], after: &[u8]| [before, &armored[..], after].concat();
    assert_eq!(decode(&around(&[&[b' '; 1023][..], b"\n"].concat(), b"")).unwrap(), data);
    assert_eq!(decode(&around(b"", &[b'\t'; 1024])).unwrap(), data);
    assert_eq!(rule(&decode(&around(&[b'\n'; 1025], b"")).unwrap_err()), WHITESPACE_BEFORE);
    assert_eq!(rule(&decode(&around(b"", &[b'\n'; 1025])).unwrap_err()), WHITESPACE_AFTER);
    assert_eq!(rule(&decode(&around(b"\n  ", b"")).unwrap_err()), NOT_BEGIN);
    assert!(starts_armored(&around(b"\n  ", b"")), "chosen as armor, then refused with the armor's rule");
    assert_eq!(rule(&decode(&around(b"", b"\nx")).unwrap_err()), DATA_AFTER);
    assert_eq!(rule(&decode(b"").unwrap_err()), NO_BEGIN);
    assert_eq!(rule(&decode(b" \r\n\t").unwrap_err()), NO_BEGIN);
    // Mixed endings, and an END line that ends the input with a lone `\r`.
    let mixed = replace(&replace(&armored, b"-----\n", b"-----\r\n"), b"-----\n", b"-----\r");
    assert_eq!(mixed.iter().filter(|&&b| b == b'\r').count(), 2);
    assert_eq!(decode(&mixed).unwrap(), data);
    // Two `\r` end a line: the reference's base64 decoder skips the second, this one refuses.
    let doubled = replace(&armored, b"\n-----END", b"\r\r\n-----END");
    assert_eq!(rule(&decode(&doubled).unwrap_err()), NOT_BASE64);
}

/// A line holds at most 64 columns, with or without a `\r`, and wherever it ends.
#[test]
fn line_lengths() {
    let begin = b"-----BEGIN AGE ENCRYPTED FILE-----\n".as_slice();
    let end = b"-----END AGE ENCRYPTED FILE-----\n".as_slice();
    let full = [b'A'; 64].as_slice(); // 48 zero bytes
    assert_eq!(decode(&[begin, full, b"\r\n", end].concat()).unwrap(), [0; 48]);
    assert_eq!(decode(&[begin, full, b"\n", end].concat()).unwrap(), [0; 48]);
    for tail in [b"A\n".as_slice(), b"A\r\n", b"\r\r\n", b"A", b" \n"] {
        let err = decode(&[begin, full, tail, end].concat()).unwrap_err();
        assert_eq!(rule(&err), TOO_LONG, "{tail:?}");
    }
    assert_eq!(rule(&decode(&[begin, full, b"A"].concat()).unwrap_err()), TOO_LONG, "at the end of the input");
    assert_eq!(rule(&decode(&[begin, full, b"\n"].concat()).unwrap_err()), NO_END);
    assert_eq!(rule(&decode(&[begin, b"AAAA\n", full, b"\n", end].concat()).unwrap_err()), AFTER_SHORT);
}

/// `input` with the first `from` replaced by `to`.
fn replace(input: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let at = input.windows(from.len()).position(|w| w == from).unwrap();
    [&input[..at], to, &input[at + from.len()..]].concat()
}

/// A source that yields `prefix`, then `fill` up to `total` bytes, counting what is taken.
struct Hostile<'a> {
    prefix: Vec<u8>,
    fill: u8,
    total: usize,
    taken: &'a Cell<usize>,
}

impl Read for Hostile<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let at = self.taken.get();
        let n = out.len().min(self.total - at);
        for (i, byte) in out[..n].iter_mut().enumerate() {
            *byte = self.prefix.get(at + i).copied().unwrap_or(self.fill);
        }
        self.taken.set(at + n);
        Ok(n)
    }
}

/// 10 MB without a newline (inside the armor or as its first line), or of whitespace before
/// or after it, is refused after reading a few KiB at most.
#[test]
fn hostile_input_is_refused_early() {
    const TOTAL: usize = 10_000_000;
    let begin = b"-----BEGIN AGE ENCRYPTED FILE-----\n".to_vec();
    let cases = [
        (begin.clone(), b'A', TOO_LONG),
        ([&begin[..], &[b'A'; 64], b"\n"].concat(), b'A', TOO_LONG),
        (Vec::new(), b'x', NOT_BEGIN),
        (Vec::new(), b' ', WHITESPACE_BEFORE),
        (canonical(b"short"), b'\n', WHITESPACE_AFTER),
        (canonical(b"short"), b'x', DATA_AFTER),
    ];
    for (prefix, fill, expected) in cases {
        let taken = Cell::new(0);
        let start = prefix.len();
        let source = Hostile { prefix, fill, total: TOTAL, taken: &taken };
        let err = ArmorReader::new(BufReader::with_capacity(512, source)).read_to_end(&mut Vec::new()).unwrap_err();
        assert_eq!(rule(&err), expected);
        assert!(taken.get() < start + 4096, "{expected}: read {} bytes past the start {start}", taken.get() - start);
    }
}

/// An input that fails every other read: the errors come through as they are, and reading
/// again after each one gives the right bytes (nothing taken from the input is lost).
#[test]
fn io_errors_pass_through_and_reads_resume() {
    struct Flaky<'a> {
        data: &'a [u8],
        calls: usize,
    }
    impl Read for Flaky<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            match self.calls % 3 {
                0 => Err(io::Error::from(io::ErrorKind::Interrupted)),
                1 => Err(io::Error::from(io::ErrorKind::TimedOut)),
                _ => {
                    let n = out.len().min(3); // small pieces, so that errors fall inside lines
                    self.data.read(&mut out[..n])
                }
            }
        }
    }
    let data = bytes(500, 11);
    let armored = [b"\r\n \n".as_slice(), &canonical(&data), b" \n"].concat();
    let mut reader = ArmorReader::new(BufReader::with_capacity(4, Flaky { data: &armored, calls: 0 }));
    let (mut out, mut piece, mut errors) = (Vec::new(), [0; 7], 0);
    loop {
        match reader.read(&mut piece) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&piece[..n]),
            Err(e) => {
                assert!(matches!(e.kind(), io::ErrorKind::Interrupted | io::ErrorKind::TimedOut), "{e}");
                errors += 1;
            }
        }
    }
    assert_eq!(out, data);
    assert!(errors > 100, "{errors}");
}

/// A writer's I/O error comes out of `finish` as `Error::Io`, and out of `write` as it is.
#[test]
fn writer_io_errors() {
    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::from(io::ErrorKind::BrokenPipe))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    assert!(matches!(ArmorWriter::new(Broken).finish(), Err(Error::Io(e)) if e.kind() == io::ErrorKind::BrokenPipe));
    let err = ArmorWriter::new(Broken).write(b"x").unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
}
