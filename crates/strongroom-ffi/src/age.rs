//! age v1 files: encrypt a buffer to a file descriptor, decrypt a file descriptor into a
//! buffer, and generate identities. The plaintext, passphrases and identities stay in
//! protected memory throughout.

use std::ffi::c_char;
use std::fs::File;
use std::io::Write;
use std::os::fd::{BorrowedFd, RawFd};

use strongroom::SecretVec;
use strongroom::age::{Decryptor, Encryptor, Identity, Recipient};

use crate::boundary::{Outcome, bytes_mut, call, optional_out, out, text};
use crate::buffer::{Secret, publish, strongroom_buffer};
use crate::handles;
use crate::kdf::locked_copy;
use crate::kem::copy_out;
use crate::status::{Failure, STRONGROOM_E_INVALID_ARGUMENT, STRONGROOM_E_IO, strongroom_status};

/// Flag: write ASCII armor (`-----BEGIN AGE ENCRYPTED FILE-----`) instead of binary.
pub const STRONGROOM_AGE_ARMOR: u32 = 1;
/// Identity kind for [`strongroom_age_keygen`]: X25519 (`AGE-SECRET-KEY-1…`, `age1…`).
pub const STRONGROOM_AGE_X25519: u32 = 1;
/// Identity kind: the post-quantum hybrid, ML-KEM-768 + X25519 (`age1pq1…`).
pub const STRONGROOM_AGE_HYBRID: u32 = 2;

/// A duplicate of the caller's descriptor, closed when dropped; the caller's stays open.
///
/// # Safety
/// `fd` must be an open descriptor for the duration of the call.
unsafe fn descriptor(fd: RawFd) -> Result<File, Failure> {
    if fd < 0 {
        return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "the file descriptor is negative"));
    }
    // SAFETY: fd is not -1 (checked) and open for the duration of the call (the contract);
    // the borrow ends within it, replaced by our own descriptor from dup(2).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let owned = borrowed
        .try_clone_to_owned()
        .map_err(|e| Failure::new(STRONGROOM_E_IO, format!("dup of the descriptor failed: {e}")))?;
    Ok(File::from(owned))
}

fn encrypt(plaintext: strongroom_buffer, recipients: &[Recipient], flags: u32, output: File) -> Outcome {
    if flags & !STRONGROOM_AGE_ARMOR != 0 {
        return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "unknown age flags"));
    }
    let mut sink = if flags & STRONGROOM_AGE_ARMOR != 0 {
        Encryptor::armored(output, recipients)?
    } else {
        Encryptor::new(output, recipients)?
    };
    handles::with(plaintext.id, |secret: &mut Secret| {
        secret
            .with(|bytes| sink.write_all(bytes))?
            .map_err(|e| Failure::new(STRONGROOM_E_IO, format!("writing failed: {e}")))
    })?;
    // The descriptor is the caller's: whether to fsync it is theirs to decide.
    sink.finish()?;
    Ok(())
}

/// Encrypts the buffer's bytes to the age recipients in `recipients` (one or more `age1…`
/// or `age1pq1…` strings, separated by newlines; `#` comment lines and blank lines are
/// skipped), writing the file to `fd` (which stays open). `flags`: 0 or
/// [`STRONGROOM_AGE_ARMOR`]. Thread-safe.
///
/// # Safety
/// `recipients` must be a NUL-terminated string; `fd` an open descriptor during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_age_encrypt(
    plaintext: strongroom_buffer,
    recipients: *const c_char,
    flags: u32,
    fd: RawFd,
) -> strongroom_status {
    call(|| {
        // SAFETY: `recipients` is NUL-terminated and `fd` open during this call (the contract).
        let (list, output) = unsafe { (text(recipients, "recipients")?, descriptor(fd)?) };
        let parsed: Vec<Recipient> = list
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(Recipient::parse)
            .collect::<Result<_, _>>()?;
        if parsed.is_empty() {
            return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "no recipients"));
        }
        encrypt(plaintext, &parsed, flags, output)
    })
}

/// Encrypts the buffer's bytes under a passphrase (held in a buffer, left as it is) with
/// scrypt work factor `work_factor` (1 to 22; 0 means 18, about a second), writing the file
/// to `fd`. Thread-safe.
///
/// # Safety
/// `fd` must be an open descriptor during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_age_encrypt_passphrase(
    plaintext: strongroom_buffer,
    passphrase: strongroom_buffer,
    work_factor: u32,
    flags: u32,
    fd: RawFd,
) -> strongroom_status {
    call(|| {
        // SAFETY: `fd` is open during this call (the contract).
        let output = unsafe { descriptor(fd) }?;
        let work_factor = match work_factor {
            0 => None,
            1..=22 => Some(work_factor as u8),
            _ => return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "an age work factor is 1 to 22")),
        };
        // The passphrase is copied (protected to protected) and its slot released before the
        // plaintext's is taken: never two buffers locked at once (handles.rs).
        let recipient = Recipient::passphrase(locked_copy(passphrase)?, work_factor)?;
        encrypt(plaintext, &[recipient], flags, output)
    })
}

fn decrypt(input: File, identities: &[Identity], out: crate::boundary::Out<'_, strongroom_buffer>) -> Outcome {
    let mut plain = SecretVec::new();
    Decryptor::new(std::io::BufReader::new(input), identities)?.read_to_end_secret(&mut plain)?;
    publish(Secret::Pooled(plain), out)
}

/// Decrypts the age file read from `fd` (binary or armored) with the identities in a buffer
/// (an identity file's text: `AGE-SECRET-KEY-1…` lines, comments allowed) into a new
/// buffer. A wrong key is `STRONGROOM_E_NO_IDENTITY`; a tampered or truncated file
/// `STRONGROOM_E_DECRYPT` or `STRONGROOM_E_FORMAT`, with no plaintext released. Thread-safe.
///
/// # Safety
/// `fd` must be an open descriptor during the call; `out` NULL or writable for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_age_decrypt(
    fd: RawFd,
    identities: strongroom_buffer,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `fd` is open and `out` NULL or writable during this call (the contract).
        let (input, out) = unsafe { (descriptor(fd)?, self::out(out, "out")?) };
        let parsed = handles::with(identities.id, |secret: &mut Secret| Ok(secret.with(Identity::parse_file)??))?;
        decrypt(input, &parsed, out)
    })
}

/// Decrypts the passphrase-encrypted age file read from `fd` into a new buffer; the
/// passphrase is held in a buffer (left as it is). A wrong passphrase is
/// `STRONGROOM_E_NO_IDENTITY`; a work factor above 22 is refused before any work
/// (`STRONGROOM_E_LIMIT`). Thread-safe.
///
/// # Safety
/// `fd` must be an open descriptor during the call; `out` NULL or writable for one handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_age_decrypt_passphrase(
    fd: RawFd,
    passphrase: strongroom_buffer,
    out: *mut strongroom_buffer,
) -> strongroom_status {
    call(|| {
        // SAFETY: `fd` is open and `out` NULL or writable during this call (the contract).
        let (input, out) = unsafe { (descriptor(fd)?, self::out(out, "out")?) };
        decrypt(input, &[Identity::passphrase(locked_copy(passphrase)?)], out)
    })
}

/// Generates an age identity of `kind` ([`STRONGROOM_AGE_X25519`] or
/// [`STRONGROOM_AGE_HYBRID`]): its secret text (`AGE-SECRET-KEY-…`) goes to a new buffer, its
/// public recipient (`age1…`), NUL-terminated, to `recipient` (`*written` = its length
/// without the NUL). Thread-safe.
///
/// # Safety
/// `identity` must be NULL or writable for one handle; `recipient` writable for
/// `recipient_len` bytes; `written` NULL or a writable `size_t`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn strongroom_age_keygen(
    kind: u32,
    identity: *mut strongroom_buffer,
    recipient: *mut c_char,
    recipient_len: usize,
    written: *mut usize,
) -> strongroom_status {
    call(|| {
        // SAFETY: each pointer is valid for its length (or NULL) during this call (the contract).
        let (identity, recipient, written) = unsafe {
            (
                out(identity, "identity")?,
                bytes_mut(recipient.cast(), recipient_len, "recipient")?,
                optional_out(written, "written")?,
            )
        };
        let generated = match kind {
            STRONGROOM_AGE_X25519 => Identity::generate_x25519()?,
            STRONGROOM_AGE_HYBRID => Identity::generate_hybrid()?,
            _ => return Err(Failure::new(STRONGROOM_E_INVALID_ARGUMENT, "unknown age identity kind")),
        };
        let public = generated.to_recipient()?.to_string();
        let mut terminated = public.clone().into_bytes();
        terminated.push(0);
        copy_out(&terminated, recipient, None)?;
        if let Some(written) = written {
            written.set(public.len());
        }
        publish(Secret::Guarded(generated.to_text()?), identity)
    })
}
