//! Secret-key files for `kem` and `sig`: the raw seed, created 0600 and never over an
//! existing file, read back straight into protected memory. One place for both commands.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use strongroom::LockedBuffer;

/// Adds what was being done, and to which path, to an I/O error.
pub(crate) fn at(path: &Path, what: &str) -> impl FnOnce(io::Error) -> String {
    let prefix = format!("{what} {}", path.display());
    move |e| format!("{prefix}: {e}")
}

/// Creates a file for a secret: mode 0600, and never over an existing file.
pub(crate) fn create_secret(path: &Path) -> Result<File, String> {
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(at(path, "cannot create"))
}

/// Reads a seed file of exactly `len` bytes straight into protected memory (`kind` names
/// the key in errors, e.g. "an ML-DSA secret key"). Warns when others may read the file.
pub(crate) fn read_seed(path: &Path, len: usize, kind: &str) -> Result<LockedBuffer, String> {
    let mut file = File::open(path).map_err(at(path, "cannot open the secret-key file"))?;
    let meta = file.metadata().map_err(at(path, "cannot stat"))?;
    if meta.len() != len as u64 {
        return Err(format!("{}: {kind} (seed) is {len} bytes, this file has {}", path.display(), meta.len()));
    }
    let mode = meta.permissions().mode();
    if mode & 0o077 != 0 {
        eprintln!(
            "strongroom: warning: {} is readable or writable by others (mode {:o}); chmod 600 it",
            path.display(),
            mode & 0o777
        );
    }
    let mut seed = LockedBuffer::new(len).map_err(|e| e.to_string())?;
    file.read_exact(&mut seed.expose_mut().map_err(|e| e.to_string())?).map_err(at(path, "cannot read"))?;
    Ok(seed)
}
