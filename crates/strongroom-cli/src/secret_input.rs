//! Secrets coming in, shared by both binaries: passphrases asked on the terminal and secret
//! files, read straight into protected memory.
//!
//! `strongroom` (files.rs) and `sedit` (sedit/document.rs) both use it.

use std::fmt;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use strongroom::{LockedBuffer, SecretString};

/// The largest identity or passphrase file read (they are a few hundred bytes).
pub const MAX_SECRET_FILE: u64 = 64 * 1024;

/// Asks for one passphrase: the prompt in, the answer (protected memory) out. The terminal
/// in use (`SecretString::read_passphrase`); a script in tests.
pub type Ask<'a> = &'a mut dyn FnMut(&str) -> strongroom::Result<SecretString>;

/// Why a passphrase typed was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Nothing was typed.
    Empty,
    /// The confirmation differs.
    Mismatch,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::Empty => "the passphrase is empty",
            Refusal::Mismatch => "the passphrases do not match",
        })
    }
}

/// Asks for a passphrase with `prompt` (then again with `confirm`, if given) and returns it
/// in protected memory; `Ok(Err(refusal))` when it is empty or the two differ, for the
/// caller to give up or ask again. An error is the terminal's.
pub fn ask_passphrase(
    ask: Ask<'_>,
    prompt: &str,
    confirm: Option<&str>,
) -> Result<Result<LockedBuffer, Refusal>, String> {
    let first = ask(prompt).map_err(|e| e.to_string())?;
    if first.is_empty() {
        return Ok(Err(Refusal::Empty));
    }
    let mut out = LockedBuffer::new(first.len()).map_err(|e| e.to_string())?;
    first.with(|text| out.copy_from(text.as_bytes())).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    if let Some(confirm) = confirm {
        let second = ask(confirm).map_err(|e| e.to_string())?;
        if !second.with(|text| out.ct_eq(text.as_bytes())).map_err(|e| e.to_string())? {
            return Ok(Err(Refusal::Mismatch));
        }
    }
    Ok(Ok(out))
}

/// A small secret file (an identity, a passphrase) read straight into protected memory;
/// warns when others may read it.
pub fn read_secret_file(path: &Path) -> Result<LockedBuffer, String> {
    let file = File::open(path).map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    let meta = file.metadata().map_err(|e| format!("cannot stat {}: {e}", path.display()))?;
    if meta.permissions().mode() & 0o077 != 0 && meta.is_file() {
        eprintln!("warning: {} is readable or writable by others; chmod 600 it", path.display());
    }
    read_protected(file, MAX_SECRET_FILE).map_err(|e| format!("{}: {e}", path.display()))
}

/// Everything `input` holds (at most `limit` bytes), read straight into protected memory.
pub fn read_protected(mut input: impl Read, limit: u64) -> Result<LockedBuffer, String> {
    let mut held = strongroom::SecretVec::<u8>::new();
    let mut piece = LockedBuffer::new(4096).map_err(|e| e.to_string())?;
    loop {
        let n = match piece.with_mut(|buf| input.read(buf)).map_err(|e| e.to_string())? {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        if n == 0 {
            break;
        }
        if held.len() as u64 + n as u64 > limit {
            return Err(format!("larger than {limit} bytes"));
        }
        piece.with(|buf| held.extend_from_slice(&buf[..n])).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    }
    let mut out = LockedBuffer::new(held.len()).map_err(|e| e.to_string())?;
    out.copy_from(&held.expose().map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    Ok(out)
}
