//! age's ASCII armor (C2SP age, "ASCII armor"): the binary age file as strict PEM.
//!
//! ```text
//! -----BEGIN AGE ENCRYPTED FILE-----
//! YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBURWlGMHlwcXIrYnB2Y3FY
//! TnlDVkpwTDdPdXdQZFZ3UEw3S1FFYkZET0NjCmhqYWJHWHdTTFE5YzNTNkx3Mmkr
//! yPC8DpksHoMx+2Y=
//! -----END AGE ENCRYPTED FILE-----
//! ```
//!
//! The body is standard base64 with padding, 64 columns a line: every line but the last
//! holds exactly 64 columns (48 bytes), the last holds 1 to 64, and an empty file has no body
//! line at all. The reader mirrors the reference implementation (filippo.io/age `armor`)
//! and the age testkit's `armor_*` vectors:
//!
//! - Whole lines of whitespace before the BEGIN line, and whitespace after the END line, are
//!   ignored (up to 1 KiB each), so a file pasted with blank lines around it still reads.
//! - Every line ends in `\n` or `\r\n`, line by line as in the reference; the END line may
//!   also end the input without one.
//! - Inside, nothing is tolerated: no PEM headers, no blank line, no spaces, no checksum
//!   line, no line over 64 columns, no line after a short one but the END line, and each line
//!   is canonical padded base64 (no missing padding, no non-zero trailing bits).
//!
//! So a file that decodes is the canonical encoding of what it decodes to, up to the outer
//! whitespace and the line endings. What the armor holds is ciphertext, public data.
//!
//! The reader reads a line at a time into a fixed buffer of 65 bytes (64 columns and a
//! `\r`): a hostile input costs constant memory and is refused as soon as a line overruns.

use std::io::{self, BufRead, Read, Write};

use base64ct::{Base64, Encoding};

use crate::error::{Error, FormatError, Result};

/// The first line of an armored file.
const BEGIN: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// The last line of an armored file.
const END: &[u8] = b"-----END AGE ENCRYPTED FILE-----";
/// Base64 columns per full line.
const COLUMNS: usize = 64;
/// The bytes a full line holds.
const BYTES_PER_LINE: usize = COLUMNS / 4 * 3;
/// The longest line before its `\n`: 64 columns and the `\r` of a CRLF.
const MAX_LINE: usize = COLUMNS + 1;
/// The most whitespace accepted before the BEGIN line, and after the END line (the
/// reference's bound): enough for any pasting, and no unbounded skipping.
const MAX_WHITESPACE: usize = 1024;

/// How many leading bytes of an input [`starts_armored`] should see to tell: the longest
/// accepted whitespace and the BEGIN line.
pub(crate) const SNIFF_LEN: usize = MAX_WHITESPACE + BEGIN.len();

// The rules, as the errors name them.
const NO_BEGIN: &str = "the input ends before the BEGIN line";
const NOT_BEGIN: &str = "the first line is not \"-----BEGIN AGE ENCRYPTED FILE-----\"";
const WHITESPACE_BEFORE: &str = "more than 1 KiB of whitespace before the BEGIN line";
const TOO_LONG: &str = "a line is longer than 64 columns";
const EMPTY_LINE: &str = "an empty line inside the armor";
const NOT_BASE64: &str = "a line is not canonical padded base64";
const AFTER_SHORT: &str = "a line shorter than 64 columns is not followed by the END line";
const NO_END: &str = "the input ends before the END line";
const DATA_AFTER: &str = "something other than whitespace follows the END line";
const WHITESPACE_AFTER: &str = "more than 1 KiB of whitespace after the END line";

/// The whitespace the reference ignores around the armor (Go's ASCII white space).
fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

fn invalid(rule: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, Error::Format(FormatError::InvalidArmor(rule)))
}

/// Whether `first_bytes` (the first [`SNIFF_LEN`] bytes of an input, or all of a shorter
/// one) begin, after any whitespace, with the BEGIN line: then the input is armored and is
/// read through an [`ArmorReader`], which enforces the rest.
pub(crate) fn starts_armored(first_bytes: &[u8]) -> bool {
    let text = first_bytes.iter().position(|&b| !is_whitespace(b)).unwrap_or(first_bytes.len());
    first_bytes[text..].starts_with(BEGIN)
}

/// Where the reader is in the armor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Skipping whitespace before the BEGIN line: `skipped` bytes so far; `line_start` tells
    /// whether the last one was a `\n` (or none was), since BEGIN must start a line.
    Leading { skipped: usize, line_start: bool },
    /// Reading the BEGIN line.
    Begin,
    /// After the BEGIN line or a body line; `short`: the last body line held fewer than 48
    /// bytes, so only the END line may follow.
    Body { short: bool },
    /// After the END line: `skipped` bytes of whitespace so far.
    Trailing { skipped: usize },
    /// The armor was complete and the input ended.
    Done,
    /// A rule was broken; every later read reports it again.
    Failed(&'static str),
}

/// Decodes armored input as it is read, one line at a time.
///
/// Read until it returns 0: only then have the END line and what follows it been checked.
/// An I/O error of `inner` (`Interrupted` too) is passed through untouched, and the read can
/// be retried: every byte taken from `inner` is accounted for in the reader's state (a line
/// read in part stays in the line buffer). A broken armor rule is an `InvalidData` error
/// holding [`FormatError::InvalidArmor`], and stays.
pub(crate) struct ArmorReader<R: BufRead> {
    inner: R,
    state: State,
    /// The line being read, without its `\n`.
    line: [u8; MAX_LINE],
    line_len: usize,
    /// The bytes of the last body line, `decoded[given..decoded_len]` not yet returned.
    decoded: [u8; BYTES_PER_LINE],
    decoded_len: usize,
    given: usize,
}

impl<R: BufRead> ArmorReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        ArmorReader {
            inner,
            state: State::Leading { skipped: 0, line_start: true },
            line: [0; MAX_LINE],
            line_len: 0,
            decoded: [0; BYTES_PER_LINE],
            decoded_len: 0,
            given: 0,
        }
    }

    /// Records the broken rule and returns its error.
    fn fail(&mut self, rule: &'static str) -> io::Error {
        self.state = State::Failed(rule);
        invalid(rule)
    }

    /// Reads the next line into `self.line` and returns its length without the `\n` and one
    /// `\r` before it; `None` if the input ends first. A line that overruns 64 columns is
    /// refused with `too_long` before any more of it is read.
    fn read_line(&mut self, too_long: &'static str) -> io::Result<Option<usize>> {
        loop {
            let available = self.inner.fill_buf()?;
            if available.is_empty() {
                if self.line_len == 0 {
                    return Ok(None);
                }
                break; // the END line may end the input without a `\n`
            }
            let (take, ends) = match available.iter().position(|&b| b == b'\n') {
                Some(at) => (at, true),
                None => (available.len(), false),
            };
            if take > MAX_LINE - self.line_len {
                return Err(self.fail(too_long));
            }
            self.line[self.line_len..self.line_len + take].copy_from_slice(&available[..take]);
            self.line_len += take;
            self.inner.consume(take + usize::from(ends));
            if ends {
                break;
            }
        }
        let len = self.line_len - usize::from(self.line[..self.line_len].ends_with(b"\r"));
        self.line_len = 0;
        if len > COLUMNS {
            return Err(self.fail(too_long)); // 65 columns, no `\r`
        }
        Ok(Some(len))
    }

    /// Advances by one step: decodes a body line into `decoded`, or moves through the
    /// BEGIN line, the END line, or a buffer's worth of whitespace around them. Returns
    /// `false` once the armor is complete and the input has ended.
    fn step(&mut self) -> io::Result<bool> {
        match self.state {
            State::Leading { skipped, line_start } => {
                let available = self.inner.fill_buf()?;
                if available.is_empty() {
                    return Err(self.fail(NO_BEGIN));
                }
                let text = available.iter().position(|&b| !is_whitespace(b));
                let take = text.unwrap_or(available.len());
                let line_start = available[..take].last().map_or(line_start, |&b| b == b'\n');
                self.inner.consume(take);
                let skipped = skipped + take;
                self.state = match text {
                    _ if skipped > MAX_WHITESPACE => return Err(self.fail(WHITESPACE_BEFORE)),
                    None => State::Leading { skipped, line_start },
                    Some(_) if line_start => State::Begin,
                    // Whitespace before BEGIN on its own line: the reference refuses it too.
                    Some(_) => return Err(self.fail(NOT_BEGIN)),
                };
            }
            State::Begin => match self.read_line(NOT_BEGIN)? {
                Some(len) if self.line[..len] == *BEGIN => self.state = State::Body { short: false },
                _ => return Err(self.fail(NOT_BEGIN)),
            },
            State::Body { short } => {
                let Some(len) = self.read_line(TOO_LONG)? else { return Err(self.fail(NO_END)) };
                let line = &self.line[..len];
                if line == END {
                    self.state = State::Trailing { skipped: 0 };
                } else if short {
                    return Err(self.fail(AFTER_SHORT));
                } else if line.is_empty() {
                    return Err(self.fail(EMPTY_LINE));
                } else {
                    // Each line is whole base64 on its own (padded, at most 48 bytes), as in
                    // the reference: padding can only end the last line.
                    let Ok(decoded) = Base64::decode(line, &mut self.decoded) else {
                        return Err(self.fail(NOT_BASE64));
                    };
                    self.decoded_len = decoded.len();
                    self.given = 0;
                    self.state = State::Body { short: self.decoded_len < BYTES_PER_LINE };
                }
            }
            State::Trailing { skipped } => {
                let available = self.inner.fill_buf()?;
                if available.is_empty() {
                    self.state = State::Done;
                    return Ok(false);
                }
                let text = available.iter().position(|&b| !is_whitespace(b));
                let take = text.unwrap_or(available.len());
                self.inner.consume(take);
                let skipped = skipped + take;
                self.state = match text {
                    Some(_) => return Err(self.fail(DATA_AFTER)),
                    None if skipped > MAX_WHITESPACE => return Err(self.fail(WHITESPACE_AFTER)),
                    None => State::Trailing { skipped },
                };
            }
            State::Done => return Ok(false),
            State::Failed(rule) => return Err(invalid(rule)),
        }
        Ok(true)
    }
}

impl<R: BufRead> Read for ArmorReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.given == self.decoded_len {
            if !self.step()? {
                return Ok(0);
            }
        }
        let n = out.len().min(self.decoded_len - self.given);
        out[..n].copy_from_slice(&self.decoded[self.given..self.given + n]);
        self.given += n;
        Ok(n)
    }
}

/// Encodes what is written to it as armor: the BEGIN line, 64-column lines of padded base64,
/// and, at [`finish`](ArmorWriter::finish), the last line and the END line; `\n` line
/// endings. Holds at most one line (48 bytes) of input.
///
/// Dropped without `finish`, the armor lacks its end and readers refuse it. After an I/O
/// error of `inner` the output is incomplete, as with any writer.
pub(crate) struct ArmorWriter<W: Write> {
    inner: W,
    begun: bool,
    /// Input not yet written out: less than a line, or a full line whose write failed.
    pending: [u8; BYTES_PER_LINE],
    pending_len: usize,
}

impl<W: Write> ArmorWriter<W> {
    pub(crate) fn new(inner: W) -> Self {
        ArmorWriter { inner, begun: false, pending: [0; BYTES_PER_LINE], pending_len: 0 }
    }

    /// Writes the BEGIN line, once.
    fn begin(&mut self) -> io::Result<()> {
        if !self.begun {
            self.inner.write_all(BEGIN)?;
            self.inner.write_all(b"\n")?;
            self.begun = true;
        }
        Ok(())
    }

    /// Writes the pending bytes as one line.
    fn write_line(&mut self) -> io::Result<()> {
        let mut text = [0; COLUMNS + 1];
        let columns = Base64::encode(&self.pending[..self.pending_len], &mut text)
            .map_err(|_| io::Error::other(Error::Internal("48 bytes encode to 64 base64 columns")))?
            .len();
        text[columns] = b'\n';
        self.inner.write_all(&text[..=columns])?;
        self.pending_len = 0;
        Ok(())
    }

    /// Writes the last line and the END line, flushes, and returns the inner writer.
    pub(crate) fn finish(mut self) -> Result<W> {
        self.begin().map_err(Error::Io)?;
        // Data of whole lines ends with a full line: the END line follows it directly.
        if self.pending_len > 0 {
            self.write_line().map_err(Error::Io)?;
        }
        self.inner.write_all(END).map_err(Error::Io)?;
        self.inner.write_all(b"\n").map_err(Error::Io)?;
        self.inner.flush().map_err(Error::Io)?;
        Ok(self.inner)
    }
}

impl<W: Write> Write for ArmorWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.begin()?;
        let mut taken = 0;
        while taken < data.len() {
            // A full line is written out when more input comes (or at `finish`), so the last
            // line of the armor is whichever is pending at the end.
            if self.pending_len == BYTES_PER_LINE
                && let Err(e) = self.write_line()
            {
                // Bytes taken already are held: report them; the error will come again.
                return if taken == 0 { Err(e) } else { Ok(taken) };
            }
            let n = (BYTES_PER_LINE - self.pending_len).min(data.len() - taken);
            self.pending[self.pending_len..self.pending_len + n].copy_from_slice(&data[taken..taken + n]);
            self.pending_len += n;
            taken += n;
        }
        Ok(taken)
    }

    /// Flushes what is written out so far; a partial line stays pending until it is full or
    /// the armor is finished.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests;
