//! `strongroom encrypt | decrypt | keygen | cat`: age files, through `strongroom::age`.
//!
//! Plaintext, passphrases and identities pass only through protected memory here: input is
//! read straight into a locked buffer, decrypted output is written from one with write(2)
//! (never through std's buffered stdout), and `-o` files are written whole or not at all
//! (a temporary file beside the target, synced and renamed over it once complete, then the
//! directory synced), and never over an existing file without `-f`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;
use strongroom::age::{Decryptor, Encryptor, Identity, Recipient};
use strongroom::{AtomicFile, LockedBuffer, SecretString};

use crate::keyfile::{at, create_secret};
use strongroom_cli::secret_input::{self, MAX_SECRET_FILE, read_protected, read_secret_file};

/// Plaintext moves in pieces of this size, each in protected memory.
const PIECE: usize = 16 * 1024;

#[derive(Args)]
pub(crate) struct EncryptArgs {
    /// Encrypt to this recipient (age1… or age1pq1…); repeatable.
    #[arg(short = 'r', long = "recipient")]
    recipients: Vec<String>,
    /// Encrypt to the recipients listed in this file (one per line, # comments); repeatable.
    #[arg(short = 'R', long = "recipients-file")]
    recipients_files: Vec<PathBuf>,
    /// Encrypt with a passphrase, asked twice on the terminal with echo off.
    #[arg(short = 'p', long)]
    passphrase: bool,
    /// Encrypt with the passphrase in this file: its bytes, less one trailing newline.
    #[arg(long, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,
    /// scrypt's work factor for a passphrase (log2 N, 1 to 22).
    #[arg(long, default_value_t = 18, value_name = "N")]
    work_factor: u8,
    /// Write ASCII armor instead of binary.
    #[arg(short = 'a', long)]
    armor: bool,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Overwrite the -o file if it exists.
    #[arg(short = 'f', long)]
    force: bool,
    /// The file to encrypt (standard input if none).
    input: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct DecryptArgs {
    /// An identity file (as `keygen` or `age-keygen` write them); repeatable.
    #[arg(short = 'i', long = "identity")]
    identities: Vec<PathBuf>,
    /// Decrypt with a passphrase asked on the terminal (also when no identity is given).
    #[arg(short = 'p', long)]
    passphrase: bool,
    /// Decrypt with the passphrase in this file: its bytes, less one trailing newline.
    #[arg(long, value_name = "PATH")]
    passphrase_file: Option<PathBuf>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Overwrite the -o file if it exists.
    #[arg(short = 'f', long)]
    force: bool,
    /// The file to decrypt (standard input if none).
    input: Option<PathBuf>,
}

#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// A post-quantum hybrid identity (ML-KEM-768 + X25519) instead of X25519.
    #[arg(long)]
    pq: bool,
    /// Write the identity to this new file (mode 0600) instead of standard output.
    #[arg(short = 'o', long)]
    output: Option<PathBuf>,
    /// Print the recipients of an identity file (or standard input) instead.
    #[arg(short = 'y')]
    to_recipients: bool,
    /// With -y: the identity file.
    input: Option<PathBuf>,
}

/// Says `message` on standard error if the work it names (a key derivation from a
/// passphrase) is still running after half a second; dropping it ends the wait.
struct Progress(Option<std::sync::mpsc::Sender<()>>);

impl Progress {
    fn after_half_a_second(message: &'static str) -> Progress {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        std::thread::spawn(move || {
            if wait.recv_timeout(std::time::Duration::from_millis(500))
                == Err(std::sync::mpsc::RecvTimeoutError::Timeout)
            {
                eprintln!("strongroom: {message}");
            }
        });
        Progress(Some(done))
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(done) = self.0.take() {
            let _ = done.send(());
        }
    }
}

fn fail(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("strongroom: {message}");
    ExitCode::FAILURE
}

macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(e) => return fail(e),
        }
    };
}

pub(crate) fn encrypt(args: EncryptArgs) -> ExitCode {
    let mut recipients = Vec::new();
    for text in &args.recipients {
        recipients.push(tri!(Recipient::parse(text).map_err(|e| format!("recipient {text}: {e}"))));
    }
    for path in &args.recipients_files {
        let list = tri!(fs::read_to_string(path).map_err(at(path, "cannot read")));
        for line in list.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            recipients.push(tri!(Recipient::parse(line).map_err(|e| format!("{}: {line}: {e}", path.display()))));
        }
    }
    if args.passphrase || args.passphrase_file.is_some() {
        if !recipients.is_empty() {
            return fail("a passphrase-encrypted file has no other recipients: drop -r/-R or the passphrase");
        }
        let passphrase = match &args.passphrase_file {
            Some(path) => tri!(read_passphrase_file(path)),
            None => tri!(ask_passphrase(true)),
        };
        recipients.push(tri!(Recipient::passphrase(passphrase, Some(args.work_factor))));
    }
    if recipients.is_empty() {
        return fail("nothing to encrypt to: give -r, -R, -p or --passphrase-file");
    }
    if args.output.is_none() && !args.armor && io::stdout().is_terminal() {
        return fail("refusing to write binary ciphertext to a terminal: use -a (armor) or -o FILE");
    }
    let input = tri!(open_input(args.input.as_deref()));
    let sink = tri!(Output::create(args.output.as_deref(), args.force));
    let progress = Progress::after_half_a_second("deriving the key from the passphrase (scrypt)...");
    let encryptor = if args.armor { Encryptor::armored(sink, &recipients) } else { Encryptor::new(sink, &recipients) };
    drop(progress);
    let mut encryptor = tri!(encryptor);
    tri!(copy_through_protected_memory(input, &mut encryptor));
    let sink = tri!(encryptor.finish());
    tri!(sink.commit());
    ExitCode::SUCCESS
}

/// The largest sedit file read: it is one AEAD message, decrypted whole into protected memory.
const MAX_SEDIT_FILE: u64 = 1 << 30;

pub(crate) fn decrypt(args: DecryptArgs) -> ExitCode {
    let mut input = tri!(open_input(args.input.as_deref()));
    let mut magic = Vec::with_capacity(8);
    tri!((&mut input).take(8).read_to_end(&mut magic).map_err(|e| format!("reading the input: {e}")));
    let input = io::Cursor::new(magic).chain(input);
    if strongroom::sedit::is_sedit(input.get_ref().0.get_ref()) {
        return decrypt_sedit(input, &args);
    }
    let mut identities = Vec::new();
    for path in &args.identities {
        let contents = tri!(read_secret_file(path));
        let parsed =
            tri!(Identity::parse_file(&tri!(contents.expose())).map_err(|e| format!("{}: {e}", path.display())));
        identities.extend(parsed);
    }
    if let Some(path) = &args.passphrase_file {
        identities.push(Identity::passphrase(tri!(read_passphrase_file(path))));
    } else if args.passphrase || identities.is_empty() {
        identities.push(Identity::passphrase(tri!(ask_passphrase(false))));
    }
    let progress = Progress::after_half_a_second("deriving the key from the passphrase (scrypt)...");
    let decryptor = Decryptor::new(input, &identities);
    drop(progress);
    let mut decryptor = tri!(decryptor);
    let mut sink = tri!(Output::create(args.output.as_deref(), args.force));
    let mut piece = tri!(LockedBuffer::new(PIECE));
    loop {
        let read = tri!(piece.with_mut(|buf| decryptor.read(buf)));
        match read {
            Ok(0) => break,
            Ok(n) => tri!(tri!(piece.with(|buf| sink.write_all(&buf[..n])))),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // Whatever was written goes: an -o file is never committed, and for standard
            // output the error says not to trust it.
            Err(e) => return fail(format!("{e}; the output is incomplete and must be discarded")),
        }
    }
    tri!(sink.commit());
    ExitCode::SUCCESS
}

/// A file of the original sedit tool (v1, v2 or v3): one AEAD message, decrypted whole with
/// a passphrase (never an identity).
fn decrypt_sedit(mut input: impl Read, args: &DecryptArgs) -> ExitCode {
    let mut file = Vec::new();
    tri!((&mut input).take(MAX_SEDIT_FILE + 1).read_to_end(&mut file).map_err(|e| format!("reading the input: {e}")));
    if file.len() as u64 > MAX_SEDIT_FILE {
        return fail("a sedit file larger than 1 GiB is refused (it is decrypted whole, into locked memory)");
    }
    let passphrase = match &args.passphrase_file {
        Some(path) => tri!(read_passphrase_file(path)),
        None => tri!(ask_passphrase(false)),
    };
    let progress = Progress::after_half_a_second("deriving the key from the passphrase (Argon2id)...");
    let plain = passphrase.with(|pass| strongroom::sedit::decrypt(&file, pass));
    drop(progress);
    let plain = tri!(tri!(plain));
    let mut sink = tri!(Output::create(args.output.as_deref(), args.force));
    tri!(tri!(plain.with(|bytes| sink.write_all(bytes))));
    tri!(sink.commit());
    ExitCode::SUCCESS
}

pub(crate) fn keygen(args: KeygenArgs) -> ExitCode {
    if args.to_recipients {
        let contents = match &args.input {
            Some(path) => tri!(read_secret_file(path)),
            None => tri!(read_protected(io::stdin().lock(), MAX_SECRET_FILE)),
        };
        for identity in tri!(Identity::parse_file(&tri!(contents.expose()))) {
            println!("{}", tri!(identity.to_recipient()));
        }
        return ExitCode::SUCCESS;
    }
    let identity = tri!(if args.pq { Identity::generate_hybrid() } else { Identity::generate_x25519() });
    let recipient = tri!(identity.to_recipient());
    let text = tri!(identity.to_text());
    let comment = format!("# created by strongroom keygen\n# public key: {recipient}\n");
    match &args.output {
        Some(path) => {
            let mut file = tri!(create_secret(path));
            tri!(file.write_all(comment.as_bytes()).map_err(at(path, "cannot write")));
            tri!(tri!(text.with(|t| file.write_all(t))).map_err(at(path, "cannot write")));
            tri!(file.write_all(b"\n").and_then(|()| file.sync_all()).map_err(at(path, "cannot write")));
            eprintln!("Public key: {recipient}");
        }
        None => {
            tri!(write_stdout(comment.as_bytes()));
            tri!(tri!(text.with(write_stdout)));
            tri!(write_stdout(b"\n"));
        }
    }
    ExitCode::SUCCESS
}

/// A passphrase from the terminal, with echo off; asked twice when encrypting.
fn ask_passphrase(confirm: bool) -> Result<LockedBuffer, String> {
    let confirm = confirm.then_some("Confirm passphrase: ");
    secret_input::ask_passphrase(&mut SecretString::read_passphrase, "Enter passphrase: ", confirm)?
        .map_err(|refusal| refusal.to_string())
}

/// A passphrase file: its bytes less one trailing `\n` or `\r\n`, nothing else trimmed.
fn read_passphrase_file(path: &Path) -> Result<LockedBuffer, String> {
    let contents = read_secret_file(path)?;
    let bytes = contents.expose().map_err(|e| e.to_string())?;
    let end = bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).unwrap_or(&bytes).len();
    if end == 0 {
        return Err(format!("{}: the passphrase is empty", path.display()));
    }
    let mut out = LockedBuffer::new(end).map_err(|e| e.to_string())?;
    out.copy_from(&bytes[..end]).map_err(|e| e.to_string())?;
    Ok(out)
}

fn open_input(path: Option<&Path>) -> Result<Box<dyn Read>, String> {
    match path {
        Some(path) => Ok(Box::new(File::open(path).map_err(at(path, "cannot open"))?)),
        None => Ok(Box::new(io::stdin())),
    }
}

/// Moves everything from `input` into `out` through one protected buffer.
fn copy_through_protected_memory(mut input: impl Read, out: &mut impl Write) -> Result<(), String> {
    let mut piece = LockedBuffer::new(PIECE).map_err(|e| e.to_string())?;
    loop {
        match piece.with_mut(|buf| input.read(buf)).map_err(|e| e.to_string())? {
            Ok(0) => return Ok(()),
            Ok(n) => {
                piece.with(|buf| out.write_all(&buf[..n])).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("reading the input: {e}")),
        }
    }
}

/// Writes to standard output with write(2), unbuffered: no copy in std's stdout buffer.
fn write_stdout(mut bytes: &[u8]) -> io::Result<()> {
    while !bytes.is_empty() {
        match rustix::io::write(rustix::stdio::stdout(), bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// Where output goes: standard output, a device or pipe named with `-o` (written directly:
/// `-o /dev/null` must not replace the device), or a file written whole or not at all.
enum Output {
    Stdout,
    Device(File),
    /// A temporary file beside the target: renamed over it by `commit`, removed if dropped.
    File(AtomicFile),
}

impl Output {
    /// Standard output, or a temporary file beside `target`; an existing `target` is an error
    /// unless `force`.
    fn create(target: Option<&Path>, force: bool) -> Result<Output, String> {
        let Some(target) = target else { return Ok(Output::Stdout) };
        match fs::metadata(target) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                let device = OpenOptions::new().write(true).open(target).map_err(at(target, "cannot open"))?;
                return Ok(Output::Device(device));
            }
            Ok(_) if !force => return Err(format!("{} exists: use -f to overwrite it", target.display())),
            _ => {}
        }
        Ok(Output::File(AtomicFile::create(target).map_err(at(target, "cannot create a temporary file beside"))?))
    }

    /// Makes the output final: for a file, flushed to disk and renamed over the target.
    fn commit(self) -> Result<(), String> {
        match self {
            Output::File(file) => {
                let target = file.target().to_owned();
                file.commit().map_err(at(&target, "cannot write"))
            }
            Output::Stdout | Output::Device(_) => Ok(()),
        }
    }
}

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match self {
            Output::Stdout => write_stdout(bytes).map(|()| bytes.len()),
            Output::Device(device) => device.write(bytes),
            Output::File(file) => file.write(bytes),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::Stdout => Ok(()),
            Output::Device(device) => device.flush(),
            Output::File(file) => file.flush(),
        }
    }
}
