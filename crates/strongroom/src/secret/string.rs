//! [`SecretString`]: UTF-8 text in protected memory.

use std::fmt;
use std::io::Read;

use subtle::{Choice, ConstantTimeEq};
use zeroize::Zeroize;

use super::vec::SecretVec;
use crate::error::{Error, Result};
use crate::exposed::Exposed;
use crate::policy::Protections;

/// UTF-8 text in protected memory: a passphrase, a token, a document being edited.
///
/// It is a [`SecretVec<u8>`](SecretVec) that keeps its bytes valid UTF-8, with the editing
/// operations a text needs, counted in characters. Everything [`SecretVec`] says about
/// protection holds: no stale copy on growth, vacated bytes wiped at once, wiped on drop,
/// redacted `Debug`, no `Clone`. [`SecretString::read_passphrase`] reads from the terminal
/// with echo off straight into protected memory, never through a `String`.
///
/// ```
/// use strongroom::SecretString;
///
/// let mut s = SecretString::new();
/// s.push_str("pässw")?;
/// s.push('d')?;
/// s.insert(5, 'o')?;            // a character index, not a byte index
/// assert_eq!(&*s.expose()?, "pässwod");
/// assert_eq!(s.remove(0)?, 'p');
/// assert_eq!(s.pop(), Some('d'));
/// # Ok::<(), strongroom::Error>(())
/// ```
#[derive(Default)]
pub struct SecretString {
    bytes: SecretVec<u8>,
}

impl SecretString {
    /// An empty string.
    ///
    /// ```
    /// assert!(strongroom::SecretString::new().is_empty());
    /// ```
    pub fn new() -> Self {
        SecretString { bytes: SecretVec::new() }
    }

    /// Takes the text of `source` and wipes `source` (its whole capacity).
    ///
    /// ```
    /// let mut typed = String::from("hunter2");
    /// let s = strongroom::SecretString::take(&mut typed)?;
    /// assert!(typed.is_empty());
    /// assert_eq!(&*s.expose()?, "hunter2");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn take(source: &mut String) -> Result<Self> {
        let mut s = Self::new();
        let result = s.push_str(source);
        source.zeroize();
        result.map(|()| s)
    }

    /// Appends one character.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push('€')?;
    /// assert_eq!(s.len(), 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn push(&mut self, ch: char) -> Result<()> {
        let mut utf8 = [0u8; 4];
        let result = self.bytes.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
        utf8.zeroize();
        result
    }

    /// Appends text.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("abc")?;
    /// assert_eq!(s.char_count(), 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn push_str(&mut self, text: &str) -> Result<()> {
        self.bytes.extend_from_slice(text.as_bytes())
    }

    /// Removes and returns the last character.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("ab")?;
    /// assert_eq!(s.pop(), Some('b'));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let ch = self.expose().ok()?.chars().next_back()?;
        self.bytes.truncate(self.bytes.len() - ch.len_utf8());
        Some(ch)
    }

    /// The byte offset of character `index` (`index == char_count()` is the end).
    fn byte_offset(&self, index: usize) -> Result<usize> {
        let text = self.expose()?;
        text.char_indices().map(|(i, _)| i).chain([text.len()]).nth(index).ok_or(Error::OutOfRange)
    }

    /// Inserts `ch` before character `index` (`index == char_count()` appends).
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("ac")?;
    /// s.insert(1, 'b')?;
    /// assert_eq!(&*s.expose()?, "abc");
    /// assert!(s.insert(4, 'x').is_err());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn insert(&mut self, index: usize, ch: char) -> Result<()> {
        let at = self.byte_offset(index)?;
        let mut utf8 = [0u8; 4];
        let encoded = ch.encode_utf8(&mut utf8).as_bytes();
        let mut result = Ok(());
        for (i, &b) in encoded.iter().enumerate() {
            result = result.and_then(|()| self.bytes.insert(at + i, b));
        }
        utf8.zeroize();
        result
    }

    /// Removes and returns character `index`.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("aßc")?;
    /// assert_eq!(s.remove(1)?, 'ß');
    /// assert_eq!(&*s.expose()?, "ac");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn remove(&mut self, index: usize) -> Result<char> {
        let at = self.byte_offset(index)?;
        let ch = self.expose()?[at..].chars().next().ok_or(Error::OutOfRange)?;
        for _ in 0..ch.len_utf8() {
            self.bytes.remove(at)?;
        }
        Ok(ch)
    }

    /// Removes everything, wiping it.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("x")?;
    /// s.clear();
    /// assert!(s.is_empty());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.bytes.clear();
    }

    /// Length in bytes.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("é")?;
    /// assert_eq!(s.len(), 2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the string is empty.
    ///
    /// ```
    /// assert!(strongroom::SecretString::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Length in characters.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("é!")?;
    /// assert_eq!(s.char_count(), 2);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn char_count(&self) -> usize {
        self.expose().map_or(0, |s| s.chars().count())
    }

    /// Read access to the text.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("abc")?;
    /// assert!(s.expose()?.starts_with("ab"));
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn expose(&self) -> Result<Exposed<'_, str>> {
        // Every mutation keeps the bytes valid UTF-8, so this check never fails in practice.
        self.bytes.expose()?.try_map(|bytes| std::str::from_utf8(bytes).map_err(|_| Error::InvalidUtf8))
    }

    /// Runs `f` on the text.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push_str("abc")?;
    /// assert_eq!(s.with(|t| t.to_uppercase().len())?, 3);
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn with<R>(&self, f: impl FnOnce(&str) -> R) -> Result<R> {
        Ok(f(&self.expose()?))
    }

    /// What protection the current block really got; `None` while empty.
    ///
    /// ```
    /// let mut s = strongroom::SecretString::new();
    /// s.push('x')?;
    /// assert!(s.protections().is_some());
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn protections(&self) -> Option<Protections> {
        self.bytes.protections()
    }

    /// Reads one line from `input` into protected memory, byte by byte, without the line
    /// ever sitting in an ordinary buffer. The newline (and a `\r` before it) is dropped.
    /// Invalid UTF-8 is an error, and the partial input is wiped.
    ///
    /// ```
    /// let s = strongroom::SecretString::read_line_from(&b"correct horse\nnext"[..])?;
    /// assert_eq!(&*s.expose()?, "correct horse");
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    pub fn read_line_from(mut input: impl Read) -> Result<Self> {
        let mut s = Self::new();
        let mut byte = [0u8; 1];
        let outcome = loop {
            match input.read(&mut byte) {
                Ok(0) => break Ok(()),
                Ok(_) if byte[0] == b'\n' => break Ok(()),
                Ok(_) => {
                    if let Err(e) = s.bytes.push(byte[0]) {
                        break Err(e);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(Error::Io(e)),
            }
        };
        byte.zeroize();
        outcome?;
        if s.bytes.expose()?.last() == Some(&b'\r') {
            s.bytes.pop();
        }
        if std::str::from_utf8(&s.bytes.expose()?).is_err() {
            return Err(Error::InvalidUtf8); // `s` drops here and is wiped
        }
        Ok(s)
    }

    /// Prompts on the terminal and reads a passphrase with echo off, straight into protected
    /// memory.
    ///
    /// A process without a controlling terminal (in CI, under a service manager, started
    /// with `setsid`) gets [`Error::NoTerminal`], whose message points to
    /// [`read_line_from`](Self::read_line_from): read from standard input or any other reader
    /// there. Redirecting standard input does not matter: the terminal is `/dev/tty`.
    ///
    /// ```no_run
    /// use strongroom::{Error, SecretString};
    ///
    /// let pass = match SecretString::read_passphrase("Passphrase: ") {
    ///     Err(Error::NoTerminal(_)) => SecretString::read_line_from(std::io::stdin().lock())?,
    ///     other => other?,
    /// };
    /// # Ok::<(), strongroom::Error>(())
    /// ```
    #[cfg(all(unix, not(miri)))]
    pub fn read_passphrase(prompt: &str) -> Result<Self> {
        use crate::sys::tty::{NoEcho, is_no_terminal};
        let tty =
            NoEcho::open(prompt).map_err(|e| if is_no_terminal(&e) { Error::NoTerminal(e) } else { Error::Io(e) })?;
        let line = Self::read_line_from(tty.reader());
        tty.finish().map_err(Error::Io)?;
        line
    }
}

impl Zeroize for SecretString {
    /// Wipes and empties the string (zeros are not text worth keeping).
    fn zeroize(&mut self) {
        self.bytes.clear();
    }
}

/// Dropping wipes the text.
impl zeroize::ZeroizeOnDrop for SecretString {}

impl ConstantTimeEq for SecretString {
    fn ct_eq(&self, other: &Self) -> Choice {
        self.bytes.ct_eq(&other.bytes)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    /// A child with no controlling terminal (started through util-linux's `setsid`) runs
    /// this test again; it calls `read_passphrase` and prints what it got.
    #[test]
    #[cfg(all(target_os = "linux", not(miri)))]
    fn without_a_terminal_the_error_points_to_read_line_from() {
        const CHILD: &str = "STRONGROOM_NO_TTY_CHILD";
        const TEST: &str = "secret::string::tests::without_a_terminal_the_error_points_to_read_line_from";
        if std::env::var_os(CHILD).is_some() {
            let result = super::SecretString::read_passphrase("Passphrase: ");
            println!("child got: {:?}", result.map(|_| "a passphrase"));
            return;
        }
        let exe = std::env::current_exe().unwrap();
        let spawned = std::process::Command::new("setsid")
            .args(["--wait", "--"])
            .arg(exe)
            .args([TEST, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .stdin(std::process::Stdio::null())
            .output();
        let output = match spawned {
            Ok(output) => output,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                assert!(std::env::var_os("CI").is_none(), "setsid (util-linux) is missing under CI");
                eprintln!("SKIPPED {TEST}: setsid (util-linux) is not installed");
                return;
            }
            Err(e) => panic!("spawning setsid: {e}"),
        };
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "the child failed: {output:?}");
        assert!(
            stdout.contains("child got: Err(NoTerminal: there is no terminal to read a passphrase from"),
            "{stdout}"
        );
        assert!(stdout.contains("SecretString::read_line_from(std::io::stdin().lock())"), "{stdout}");
    }
}
