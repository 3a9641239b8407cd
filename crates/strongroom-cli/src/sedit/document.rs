//! The file behind the editor: which format it is in, opening it (passphrase prompts on the
//! terminal before the editor starts, with retries and a KDF progress line), and saving it
//! atomically in that format.
//!
//! Passphrases, identities and plaintext stay in protected memory here (`LockedBuffer`,
//! `SecretVec`, an `Enclave` while locked); only ciphertext sits in ordinary memory. A save
//! goes through `strongroom::AtomicFile`: the old file stays whole until the new one is
//! complete and on disk. Nothing here prints once the editor runs: `save`, `lock` and
//! `unlock` return their messages.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use strongroom::age::{Decryptor, Encryptor, Identity, Recipient};
use strongroom::kdf::{KdfLimits, KdfParams};
use strongroom::{AtomicFile, Enclave, Error, LockedBuffer, SecretString, SecretVec};

use super::text::Text;
use crate::secret_input::{self, Ask, read_protected, read_secret_file};

/// The largest file opened or imported: it is decrypted whole, into locked memory.
const MAX_FILE: u64 = 1 << 30;
/// Passphrases tried on an existing file before giving up.
const TRIES: u32 = 3;
/// Passphrases refused (empty, or a confirmation that differs) before giving up: a terminal
/// that answers nothing forever (end of file) must not keep `open` asking forever.
const REFUSALS: u32 = 10;
/// The first line of a binary age file.
const AGE_HEADER: &[u8] = b"age-encryption.org/v1\n";
/// The first line of an armored age file.
const AGE_ARMOR: &[u8] = b"-----BEGIN AGE ENCRYPTED FILE-----";
/// The second prompt for a new passphrase.
const CONFIRM: &str = "Confirm passphrase: ";

/// How `sedit` was asked to open a file.
pub struct OpenRequest {
    /// The encrypted file (it need not exist: then a new one is made).
    pub path: PathBuf,
    /// age identity files (`-i`).
    pub identities: Vec<PathBuf>,
    /// `--format`: the format for a new file (`None`: age for `*.age` or with `-i`, else
    /// sedit v3).
    pub format: Option<FormatChoice>,
    /// `--import PLAINTEXT`: encrypt this plaintext file into `path` (which must not exist).
    pub import: Option<PathBuf>,
    /// Whether auto-lock is on: then an identity-opened file asks for an unlock passphrase.
    pub needs_lock_passphrase: bool,
}

/// The formats `sedit` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatChoice {
    /// The original sedit's v3 format (Argon2id + XChaCha20-Poly1305).
    Sedit,
    /// age v1.
    Age,
}

/// An open document's file: where, in which format, and the secret to save and unlock with.
pub struct Document {
    /// The path as given, to show.
    path: PathBuf,
    /// Where saves go: `path` with symbolic links resolved, so that a link is written
    /// through rather than replaced by a file.
    target: PathBuf,
    format: Format,
    keys: Keys,
    /// The file on disk as this document last saw it (`None`: there was none).
    on_disk: Option<FileId>,
    /// The last save found the file changed on disk and said so: the next one overwrites.
    overwrite: bool,
}

/// A file's format, with what a save keeps of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// The original sedit's: read in `version` 1 to 3, saved as v3 with `params` (a v3
    /// file's own, else the default).
    Sedit { version: u8, params: KdfParams },
    /// age v1: binary or armored as it was; a passphrase file keeps its scrypt work factor
    /// where the header shows it (binary files), else age's default.
    Age { armored: bool, work_factor: Option<u8> },
}

/// What encrypts a save and unlocks the editor.
enum Keys {
    /// A passphrase (sedit, or an age passphrase file): it does both.
    Passphrase(Secret),
    /// age identity files: saves go to their recipients (public keys, nothing secret kept),
    /// and to them only: other recipients a file was also encrypted to cannot be read from
    /// it, so they lose access at the first save. The auto-lock has its own passphrase, if
    /// one was asked for.
    Identities { recipients: Vec<String>, unlock: Option<Secret> },
}

/// A passphrase: in locked memory while the editor is open, sealed in an `Enclave` (under
/// the process key) while it is locked.
enum Secret {
    Open(LockedBuffer),
    Sealed(Enclave),
}

/// Who `open` talks to: the terminal, or a script in the tests.
struct Dialogue<'a> {
    /// Asks for a passphrase (echo off).
    ask: Ask<'a>,
    /// Tells the user something (standard error).
    say: &'a mut dyn FnMut(&str),
}

/// What identifies the file on disk: a replaced or rewritten file has another.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
    len: u64,
    mtime: (i64, i64),
}

/// What an age file's header says about its recipients, before any key is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AgeStanzas {
    /// A passphrase (scrypt) file, with its work factor.
    Passphrase(Option<u8>),
    /// Encrypted to public keys.
    Recipients,
    /// Armored: not looked into.
    Unknown,
}

impl Document {
    /// Opens (or creates) the file, asking for passphrases on the terminal; returns the
    /// document and its plaintext in protected memory.
    pub fn open(request: &OpenRequest) -> Result<(Document, Text), String> {
        let mut say = |message: &str| eprintln!("{message}");
        let mut talk = Dialogue { ask: &mut SecretString::read_passphrase, say: &mut say };
        let opened = Document::open_with(request, &mut talk);
        // The KDF keeps its 64 MiB of (locked) work memory for the next derivation; an editor
        // mostly waits for keys, so give it back until the next save.
        strongroom::kdf::release_work_memory();
        opened
    }

    /// The file name to show.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The format to show, e.g. `sedit v3`, `sedit v2 (saves as v3)`, `age`.
    pub fn format_label(&self) -> String {
        self.format.label()
    }

    /// Encrypts `plaintext` and replaces the file atomically. On error the file on disk and
    /// the document are as they were, and the message says what went wrong.
    pub fn save(&mut self, plaintext: &[u8]) -> Result<(), String> {
        let name = self.name();
        let now = FileId::at(&self.target).map_err(|e| format!("cannot save {name}: {e}"))?;
        if now != self.on_disk && !self.overwrite {
            self.overwrite = true;
            return Err(format!("{name} changed on disk since it was opened; save again to overwrite it"));
        }
        let file = self.encrypt_into_new_file(plaintext).map_err(|e| format!("cannot save {name}: {e}"));
        strongroom::kdf::release_work_memory(); // as after opening
        let file = file?;
        let temporary = FileId::at(file.path()).ok().flatten();
        let committed = file.commit();
        let replaced = FileId::at(&self.target).ok().flatten();
        // The rename may have happened even if `commit` failed after it (syncing the
        // directory): then the file on disk is the new one, and the document must know.
        let renamed = replaced.is_some() && replaced.map(FileId::inode) == temporary.map(FileId::inode);
        if renamed {
            self.on_disk = replaced;
            self.overwrite = false;
            if let Format::Sedit { version, .. } = &mut self.format {
                *version = 3;
            }
        }
        committed.map_err(|e| match renamed {
            true => format!("{name} was written, but syncing its directory failed (it may not survive a crash): {e}"),
            false => format!("cannot save {name}: {e}"),
        })
    }

    /// Saves to `path` instead, in the same format with the same keys; from then on the
    /// document is that file. An existing file is not replaced (it is not this document's).
    /// On error nothing changed: the document is still the old file.
    pub fn save_as(&mut self, path: &Path, plaintext: &[u8]) -> Result<(), String> {
        if fs::symlink_metadata(path).is_ok() {
            return Err(format!("{} exists: save as a new name", path.display()));
        }
        can_be_made(path)?;
        let old = (self.path.clone(), self.target.clone(), self.on_disk, self.overwrite);
        (self.path, self.target, self.on_disk, self.overwrite) = (path.to_owned(), path.to_owned(), None, false);
        let saved = self.save(plaintext);
        if saved.is_err() && self.on_disk.is_none() {
            (self.path, self.target, self.on_disk, self.overwrite) = old;
        }
        saved
    }

    /// Seals the passphrase away while the editor is locked.
    pub fn lock(&mut self) -> Result<(), String> {
        let name = self.name();
        self.unlock_secret()?.seal().map_err(|e| format!("cannot lock {name}: {e}"))
    }

    /// Whether `typed` is the passphrase (constant time); if so, unseals it again.
    pub fn unlock(&mut self, typed: &[u8]) -> Result<bool, String> {
        let name = self.name();
        self.unlock_secret()?.unseal_if(typed).map_err(|e| format!("cannot unlock {name}: {e}"))
    }

    /// The passphrase that unlocks the editor.
    fn unlock_secret(&mut self) -> Result<&mut Secret, String> {
        match &mut self.keys {
            Keys::Passphrase(secret) | Keys::Identities { unlock: Some(secret), .. } => Ok(secret),
            Keys::Identities { unlock: None, .. } => Err(format!(
                "{} was opened with identity files and no unlock passphrase was set: it cannot be locked",
                self.path.display()
            )),
        }
    }

    /// The new file's contents, in a temporary file beside the target (not yet committed).
    fn encrypt_into_new_file(&self, plaintext: &[u8]) -> Result<AtomicFile, Box<dyn std::error::Error>> {
        match self.format {
            Format::Sedit { params, .. } => {
                let Keys::Passphrase(passphrase) = &self.keys else {
                    return Err("a sedit file needs a passphrase".into());
                };
                let sealed = passphrase.with(|pass| strongroom::sedit::encrypt(plaintext, pass, &params))??;
                let mut file = AtomicFile::create(&self.target)?;
                file.write_all(&sealed)?;
                Ok(file)
            }
            Format::Age { armored, work_factor } => {
                let recipients = match &self.keys {
                    Keys::Passphrase(passphrase) => vec![Recipient::passphrase(passphrase.copy()?, work_factor)?],
                    Keys::Identities { recipients, .. } => {
                        recipients.iter().map(|r| Recipient::parse(r)).collect::<Result<_, _>>()?
                    }
                };
                let file = AtomicFile::create(&self.target)?;
                let mut encryptor = match armored {
                    true => Encryptor::armored(file, &recipients)?,
                    false => Encryptor::new(file, &recipients)?,
                };
                encryptor.write_all(plaintext)?;
                Ok(encryptor.finish()?)
            }
        }
    }

    /// [`open`](Self::open) with the prompts and messages going through `talk`.
    fn open_with(request: &OpenRequest, talk: &mut Dialogue<'_>) -> Result<(Document, Text), String> {
        if let Some(plaintext) = &request.import {
            return Document::import(request, plaintext, talk);
        }
        let Some((bytes, on_disk)) = read_file(&request.path)? else {
            can_be_made(&request.path)?;
            let format = new_format(request)?;
            let (name, label) = (request.path.display(), format.label());
            (talk.say)(&format!("{name} is a new file ({label}): it is written on the first save"));
            let document = Document::create(request, format, talk)?;
            return Ok((document, Text::from_bytes(b"").map_err(|e| e.to_string())?));
        };
        let name = request.path.display().to_string();
        let found = if strongroom::sedit::is_sedit(&bytes) {
            Some(FormatChoice::Sedit)
        } else {
            age_kind(&bytes).map(|_| FormatChoice::Age)
        };
        if let (Some(asked), Some(found)) = (request.format, found)
            && asked != found
        {
            // Never ignored in silence: the file would be saved in a format other than asked.
            return Err(format!(
                "{name} is already a {} file: --format chooses the format of a new file only",
                if found == FormatChoice::Sedit { "sedit" } else { "age" }
            ));
        }
        let (format, keys, plaintext) = if strongroom::sedit::is_sedit(&bytes) {
            open_sedit(request, &bytes, talk)?
        } else if let Some(armored) = age_kind(&bytes) {
            open_age(request, &bytes, armored, talk)?
        } else {
            return Err(format!(
                "{name} is neither a sedit nor an age file; to encrypt a plaintext file on purpose: \
                 sedit --import PLAINTEXT {name}"
            ));
        };
        let target = fs::canonicalize(&request.path).unwrap_or_else(|_| request.path.clone());
        let document =
            Document { path: request.path.clone(), target, format, keys, on_disk: Some(on_disk), overwrite: false };
        Ok((document, plaintext))
    }

    /// A document for a file that does not exist yet, in `format`: its new passphrase
    /// (asked twice) or its identities' recipients.
    fn create(request: &OpenRequest, format: Format, talk: &mut Dialogue<'_>) -> Result<Document, String> {
        let keys = match format {
            Format::Age { .. } if !request.identities.is_empty() => {
                let (_, recipients) = read_identities(&request.identities)?;
                Keys::Identities { recipients, unlock: unlock_passphrase(request, talk)? }
            }
            _ => {
                let prompt = format!("New passphrase for {}: ", request.path.display());
                Keys::Passphrase(Secret::Open(ask_new_passphrase(talk, &prompt)?))
            }
        };
        let path = request.path.clone();
        Ok(Document { target: path.clone(), path, format, keys, on_disk: None, overwrite: false })
    }

    /// `--import PLAINTEXT`: a new file made from a plaintext file, saved at once.
    fn import(request: &OpenRequest, plaintext: &Path, talk: &mut Dialogue<'_>) -> Result<(Document, Text), String> {
        let name = request.path.display().to_string();
        if fs::symlink_metadata(&request.path).is_ok() {
            return Err(format!("{name} exists: --import writes a new file only (choose another name)"));
        }
        can_be_made(&request.path)?;
        let source = File::open(plaintext).map_err(|e| format!("cannot open {}: {e}", plaintext.display()))?;
        let size = source.metadata().map_err(|e| format!("cannot stat {}: {e}", plaintext.display()))?.len();
        if size > MAX_FILE {
            return Err(format!("{} is larger than 1 GiB: sedit does not import it", plaintext.display()));
        }
        let contents = read_protected(source, MAX_FILE).map_err(|e| format!("{}: {e}", plaintext.display()))?;
        let mut document = Document::create(request, new_format(request)?, talk)?;
        (talk.say)(&format!("encrypting {} into {name} ({})...", plaintext.display(), document.format_label()));
        contents.with(|bytes| document.save(bytes)).map_err(|e| e.to_string())??;
        (talk.say)(&format!(
            "{name} written; the plaintext file {} was not removed (delete it yourself if it should go)",
            plaintext.display()
        ));
        let text = contents.with(Text::from_bytes).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        Ok((document, text))
    }
}

impl Format {
    /// What the status line shows.
    fn label(&self) -> String {
        match self {
            Format::Sedit { version: 3, .. } => "sedit v3".into(),
            Format::Sedit { version, .. } => format!("sedit v{version} (saves as v3)"),
            Format::Age { .. } => "age".into(),
        }
    }
}

impl Secret {
    /// Lends the passphrase to `f` (unsealing it for the moment if it is sealed).
    fn with<R>(&self, f: impl FnOnce(&[u8]) -> R) -> Result<R, String> {
        match self {
            Secret::Open(bytes) => bytes.with(f),
            Secret::Sealed(enclave) => enclave.with(f),
        }
        .map_err(|e| e.to_string())
    }

    /// A copy in a buffer of its own (for an age recipient, which takes one).
    fn copy(&self) -> Result<LockedBuffer, String> {
        match self {
            Secret::Open(bytes) => copy_of(bytes).map_err(|e| e.to_string()),
            Secret::Sealed(enclave) => enclave.open().map_err(|e| e.to_string()),
        }
    }

    /// Seals the passphrase into an `Enclave` and wipes the open copy; nothing changes if
    /// that fails.
    fn seal(&mut self) -> Result<(), String> {
        if let Secret::Open(bytes) = self {
            let mut scratch = copy_of(bytes).map_err(|e| e.to_string())?;
            let enclave = Enclave::new(&mut scratch.expose_mut().map_err(|e| e.to_string())?);
            *self = Secret::Sealed(enclave.map_err(|e| e.to_string())?);
        }
        Ok(())
    }

    /// Whether `typed` is the passphrase, compared in constant time; if so, and it was
    /// sealed, it is open again.
    fn unseal_if(&mut self, typed: &[u8]) -> Result<bool, String> {
        match self {
            Secret::Open(bytes) => Ok(bytes.ct_eq(typed)),
            Secret::Sealed(enclave) => {
                let opened = enclave.open().map_err(|e| e.to_string())?;
                if !opened.ct_eq(typed) {
                    return Ok(false);
                }
                *self = Secret::Open(opened);
                Ok(true)
            }
        }
    }
}

impl FileId {
    fn of(meta: &fs::Metadata) -> FileId {
        FileId { dev: meta.dev(), ino: meta.ino(), len: meta.len(), mtime: (meta.mtime(), meta.mtime_nsec()) }
    }

    /// The file at `path` now; `None` if there is none.
    fn at(path: &Path) -> io::Result<Option<FileId>> {
        match fs::metadata(path) {
            Ok(meta) => Ok(Some(FileId::of(&meta))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Which file it is, whatever its contents.
    fn inode(self) -> (u64, u64) {
        (self.dev, self.ino)
    }
}

/// What opens an existing sedit file: its passphrase (sedit files have no identities).
fn open_sedit(request: &OpenRequest, bytes: &[u8], talk: &mut Dialogue<'_>) -> Result<(Format, Keys, Text), String> {
    let name = request.path.display().to_string();
    let (version, params) = sedit_header(bytes).map_err(|e| damaged(&name, &e))?;
    if !request.identities.is_empty() {
        (talk.say)(&format!("{name} is a sedit file, opened with a passphrase: the -i identities are not used"));
    }
    let progress = format!("deriving the key from the passphrase (Argon2id, {})...", kib(params.memory_kib));
    // The AEAD fails alike for a wrong passphrase and an altered file: both are retried.
    let is_wrong = |e: &Error| matches!(e, Error::Crypto);
    let (passphrase, plaintext) = ask_until_it_opens(&name, talk, &progress, is_wrong, |pass| {
        // Decrypted straight into the editor's text: one protected copy, not two.
        let len = strongroom::sedit::plaintext_len(bytes)?;
        pass.with(|p| Text::filled(len, |out| strongroom::sedit::decrypt_into(bytes, p, &KdfLimits::DEFAULT, out)))
            .and_then(|opened| opened)
    })?;
    Ok((Format::Sedit { version, params }, Keys::Passphrase(Secret::Open(passphrase)), plaintext))
}

/// What opens an existing age file: the `-i` identities, else a passphrase. The header is
/// checked first, with no identity at all: a malformed one is refused before any prompt,
/// and a binary file says whether it wants a passphrase or an identity.
fn open_age(
    request: &OpenRequest,
    bytes: &[u8],
    armored: bool,
    talk: &mut Dialogue<'_>,
) -> Result<(Format, Keys, Text), String> {
    let name = request.path.display().to_string();
    match Decryptor::new(bytes, &[]) {
        Err(Error::NoMatchingIdentity) => {}
        Err(e) => return Err(not_opened(&name, &e)),
        Ok(_) => return Err(damaged(&name, &"its header opens without any identity")),
    }
    let stanzas = if armored { AgeStanzas::Unknown } else { age_stanzas(bytes) };
    let work_factor = match stanzas {
        AgeStanzas::Passphrase(work_factor) => work_factor,
        _ => None,
    };
    let format = Format::Age { armored, work_factor };
    if request.identities.is_empty() {
        if stanzas == AgeStanzas::Recipients {
            return Err(format!(
                "{name} is encrypted to age recipients (public keys), not with a passphrase: open it with -i IDENTITY_FILE"
            ));
        }
        let progress = "deriving the key from the passphrase (scrypt)...";
        // No scrypt stanza opened: the passphrase is wrong. Anything after that (the
        // header's MAC, a chunk that does not authenticate) is damage, not a wrong passphrase.
        let is_wrong = |e: &Error| matches!(e, Error::NoMatchingIdentity);
        let (passphrase, plaintext) = ask_until_it_opens(&name, talk, progress, is_wrong, |pass| {
            decrypt_age(bytes, &[Identity::passphrase(copy_of(pass)?)])
        })?;
        return Ok((format, Keys::Passphrase(Secret::Open(passphrase)), plaintext));
    }
    if matches!(stanzas, AgeStanzas::Passphrase(_)) {
        return Err(format!("{name} is encrypted with a passphrase, not to a recipient: open it without -i"));
    }
    let (identities, recipients) = read_identities(&request.identities)?;
    let plaintext = match decrypt_age(bytes, &identities) {
        Ok(plaintext) => plaintext,
        Err(Error::NoMatchingIdentity) => return Err(format!("none of the -i identities opens {name}")),
        Err(e) => return Err(not_opened(&name, &e)),
    };
    drop(identities);
    let unlock = unlock_passphrase(request, talk)?;
    Ok((format, Keys::Identities { recipients, unlock }, plaintext))
}

/// Why a file did not open, once the passphrase or identity was not the problem: the file
/// (its format, its limits) or this machine (locked memory, I/O), said apart.
fn not_opened(name: &str, e: &Error) -> String {
    match e {
        Error::Format(_) | Error::LimitExceeded { .. } | Error::BelowMinimum { .. } | Error::Crypto => damaged(name, e),
        _ => format!("cannot open {name}: {e}"),
    }
}

/// The error for a file that cannot be read, whatever the passphrase.
fn damaged(name: &str, why: &dyn std::fmt::Display) -> String {
    format!("{name} is damaged or not readable: {why}")
}

/// Refuses a new file whose directory does not exist, before anything is typed into it.
fn can_be_made(path: &Path) -> Result<(), String> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match dir.is_dir() {
        true => Ok(()),
        false => Err(format!("cannot make {}: there is no directory {}", path.display(), dir.display())),
    }
}

/// A new file's format: `--format`, else age for `*.age` or with `-i` identities (a sedit
/// file has only a passphrase), else sedit v3 with the default KDF parameters.
fn new_format(request: &OpenRequest) -> Result<Format, String> {
    let age = match request.format {
        Some(choice) => choice == FormatChoice::Age,
        None => request.path.extension().is_some_and(|e| e == "age") || !request.identities.is_empty(),
    };
    if !age && !request.identities.is_empty() {
        let name = request.path.display();
        return Err(format!("{name}: a sedit file is encrypted with a passphrase only: drop -i, or use --format age"));
    }
    Ok(match age {
        true => Format::Age { armored: false, work_factor: None },
        false => Format::Sedit { version: 3, params: KdfParams::DEFAULT },
    })
}

/// The file's bytes and identity; `None` if it does not exist. Files over 1 GiB, and what
/// is not a regular file, are refused before reading.
fn read_file(path: &Path) -> Result<Option<(Vec<u8>, FileId)>, String> {
    let name = path.display();
    let mut file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            if fs::symlink_metadata(path).is_ok() {
                return Err(format!("{name} is a symbolic link to a file that does not exist"));
            }
            return Ok(None);
        }
        Err(e) => return Err(format!("cannot open {name}: {e}")),
    };
    let meta = file.metadata().map_err(|e| format!("cannot stat {name}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{name} is not a regular file"));
    }
    let too_large = || format!("{name} is larger than 1 GiB: refused (a file is decrypted whole, into locked memory)");
    if meta.len() > MAX_FILE {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    (&mut file).take(MAX_FILE + 1).read_to_end(&mut bytes).map_err(|e| format!("cannot read {name}: {e}"))?;
    if bytes.len() as u64 > MAX_FILE {
        return Err(too_large());
    }
    Ok(Some((bytes, FileId::of(&meta))))
}

/// A sedit file's version and KDF parameters, checked before any passphrase is asked: a
/// version this tool does not read, a file cut shorter than its header, nonce and tag, and
/// v3 parameters beyond `KdfLimits::DEFAULT` are refused here. (v1 and v2 files have fixed
/// parameters, the default ones.)
fn sedit_header(bytes: &[u8]) -> Result<(u8, KdfParams), String> {
    const NONCE_AND_TAG: usize = 24 + 16;
    let version = bytes[6];
    let (params, least) = match version {
        1 => (KdfParams::DEFAULT, 8 + NONCE_AND_TAG),
        2 => (KdfParams::DEFAULT, 8 + 16 + NONCE_AND_TAG),
        3 if bytes.len() >= 40 => {
            let word = |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
            let mut rounds = [0u8; 8];
            rounds.copy_from_slice(&bytes[16..24]);
            let params = KdfParams { memory_kib: word(8), iterations: word(12), rounds: u64::from_be_bytes(rounds) };
            (params, 40 + NONCE_AND_TAG)
        }
        3 => (KdfParams::DEFAULT, 40 + NONCE_AND_TAG),
        other => return Err(format!("it says sedit format version {other}, which this sedit does not read")),
    };
    if bytes.len() < least {
        return Err(format!(
            "a sedit v{version} file is at least {least} bytes, this one has {}: it was cut short",
            bytes.len()
        ));
    }
    KdfLimits::DEFAULT.check(&params).map_err(|e| e.to_string())?;
    Ok((version, params))
}

/// `Some(armored)` if `bytes` start like an age file (an armored one may have whitespace
/// before its first line, as age allows).
fn age_kind(bytes: &[u8]) -> Option<bool> {
    if bytes.starts_with(AGE_HEADER) {
        return Some(false);
    }
    let text = bytes.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(bytes.len());
    bytes[text..].starts_with(AGE_ARMOR).then_some(true)
}

/// Whether a binary age file's header holds a passphrase (scrypt) stanza, and its work
/// factor: the stanza lines (`-> TYPE ARGS`) up to the MAC line (`--- `).
fn age_stanzas(bytes: &[u8]) -> AgeStanzas {
    let header = bytes[AGE_HEADER.len()..].split(|&b| b == b'\n').take_while(|line| !line.starts_with(b"---"));
    let mut found = AgeStanzas::Recipients;
    for line in header.filter_map(|line| line.strip_prefix(b"-> ")) {
        let mut args = line.split(|&b| b == b' ');
        if args.next() == Some(b"scrypt") {
            let work_factor = args.nth(1).and_then(|n| std::str::from_utf8(n).ok()?.parse::<u8>().ok());
            found = AgeStanzas::Passphrase(work_factor.filter(|n| (1..=22).contains(n)));
        }
    }
    found
}

/// Asks for the passphrase of an existing file until `open` takes it: an empty one is asked
/// again, a wrong one (an error that `is_wrong`) up to [`TRIES`] times in all; any other
/// error means the file cannot be read, whatever the passphrase, and is returned at once.
fn ask_until_it_opens(
    name: &str,
    talk: &mut Dialogue<'_>,
    progress: &str,
    is_wrong: fn(&Error) -> bool,
    mut open: impl FnMut(&LockedBuffer) -> strongroom::Result<Text>,
) -> Result<(LockedBuffer, Text), String> {
    let prompt = format!("Passphrase for {name}: ");
    for attempt in 1..=TRIES {
        let passphrase = ask_refusing(talk, &prompt, None)?;
        (talk.say)(progress);
        match open(&passphrase) {
            Ok(plaintext) => return Ok((passphrase, plaintext)),
            Err(e) if !is_wrong(&e) => return Err(not_opened(name, &e)),
            Err(_) if attempt < TRIES => (talk.say)("wrong passphrase (or the file was altered); try again"),
            Err(_) => {}
        }
    }
    Err(format!("{TRIES} wrong passphrases: giving up; {name} is unchanged"))
}

/// A new passphrase, asked twice, until the two match and are not empty.
fn ask_new_passphrase(talk: &mut Dialogue<'_>, prompt: &str) -> Result<LockedBuffer, String> {
    ask_refusing(talk, prompt, Some(CONFIRM))
}

/// The unlock passphrase of a file opened with identities, when auto-lock is on.
fn unlock_passphrase(request: &OpenRequest, talk: &mut Dialogue<'_>) -> Result<Option<Secret>, String> {
    if !request.needs_lock_passphrase {
        return Ok(None);
    }
    Ok(Some(Secret::Open(ask_new_passphrase(talk, "Unlock passphrase (for auto-lock): ")?)))
}

/// Asks (and confirms, if `confirm`) until the answer is taken; each refusal is said.
fn ask_refusing(talk: &mut Dialogue<'_>, prompt: &str, confirm: Option<&str>) -> Result<LockedBuffer, String> {
    for _ in 0..REFUSALS {
        match secret_input::ask_passphrase(&mut *talk.ask, prompt, confirm) {
            Ok(Ok(passphrase)) => return Ok(passphrase),
            Ok(Err(refusal)) => (talk.say)(&format!("{refusal}; try again")),
            Err(e) => return Err(format!("cannot read the passphrase: {e}")),
        }
    }
    Err(format!("{REFUSALS} passphrases refused: giving up"))
}

/// The identities in the `-i` files (protected memory), and their recipients.
fn read_identities(paths: &[PathBuf]) -> Result<(Vec<Identity>, Vec<String>), String> {
    let mut identities = Vec::new();
    for path in paths {
        let contents = read_secret_file(path)?;
        let parsed = contents.with(Identity::parse_file).map_err(|e| e.to_string())?;
        let parsed = parsed.map_err(|e| format!("{}: {e}", path.display()))?;
        if parsed.is_empty() {
            return Err(format!("{}: no identity in this file", path.display()));
        }
        identities.extend(parsed);
    }
    let recipients = identities.iter().map(|i| i.to_recipient().map(|r| r.to_string()));
    let recipients = recipients.collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    Ok((identities, recipients))
}

/// An age file's plaintext, all or nothing, as the editor's text.
fn decrypt_age(bytes: &[u8], identities: &[Identity]) -> strongroom::Result<Text> {
    let mut plaintext = SecretVec::new();
    Decryptor::new(bytes, identities)?.read_to_end_secret(&mut plaintext)?;
    plaintext.with(Text::from_bytes)?
}

/// A copy of `bytes` in a buffer of its own.
fn copy_of(bytes: &LockedBuffer) -> strongroom::Result<LockedBuffer> {
    let mut out = LockedBuffer::new(bytes.len())?;
    bytes.with(|b| out.copy_from(b))??;
    Ok(out)
}

/// A memory size in KiB as people read it: `64 MiB`, `1000 KiB`.
fn kib(size: u32) -> String {
    match size % 1024 {
        0 => format!("{} MiB", size / 1024),
        _ => format!("{size} KiB"),
    }
}

#[cfg(test)]
mod tests;
