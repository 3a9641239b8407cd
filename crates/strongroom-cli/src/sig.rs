//! `strongroom sig`: ML-DSA key generation, signing and verification over files.
//!
//! A secret-key file holds the raw 32-byte seed ξ, created mode 0600 (never overwritten),
//! written from and read straight into protected memory. Public keys and signatures are
//! raw bytes. The message is a file, or standard input when `--message` is absent.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::keyfile;
use clap::{Args, Subcommand, ValueEnum};
use strongroom::sign::{MlDsa44, MlDsa65, MlDsa87, ParameterSet, SEED_LEN, Signature, SigningKey, VerifyingKey};

/// Exit status of `sig verify` (and of the other `sig` commands, without 1).
pub(crate) const EXIT_CODES: &str = "\
Exit status:
  0  done (verify: the signature is valid)
  1  verify: the signature is not valid for this public key, message and context
  2  usage error
  3  any other error (a file unreadable, a key or signature of the wrong length)";

/// The signature does not verify.
const EXIT_INVALID: u8 = 1;
/// Any error other than usage or an invalid signature.
const EXIT_ERROR: u8 = 3;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Alg {
    /// ML-DSA-44 (NIST category 2)
    #[value(name = "ml-dsa-44")]
    MlDsa44,
    /// ML-DSA-65 (NIST category 3)
    #[value(name = "ml-dsa-65")]
    MlDsa65,
    /// ML-DSA-87 (NIST category 5)
    #[value(name = "ml-dsa-87")]
    MlDsa87,
}

#[derive(Args)]
pub(crate) struct Common {
    /// The parameter set.
    #[arg(long, value_enum, default_value = "ml-dsa-65")]
    alg: Alg,
}

#[derive(Subcommand)]
pub(crate) enum SigCommand {
    /// Generate a key pair: the secret key (the 32-byte seed, file mode 0600) and the public key.
    Keygen {
        #[command(flatten)]
        common: Common,
        /// Where to write the secret key (must not exist).
        #[arg(long)]
        secret_key: PathBuf,
        /// Where to write the public key.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Sign a message (hedged unless --deterministic) and write the raw signature.
    Sign {
        #[command(flatten)]
        common: Common,
        /// The secret-key file (the 32-byte seed).
        #[arg(long)]
        secret_key: PathBuf,
        /// The message file (default: standard input).
        #[arg(long)]
        message: Option<PathBuf>,
        /// The context string (up to 255 bytes), as given.
        #[arg(long, default_value = "")]
        context: String,
        /// Sign deterministically (same input, same signature) instead of hedged.
        #[arg(long)]
        deterministic: bool,
        /// Where to write the signature.
        #[arg(long)]
        signature: PathBuf,
    },
    /// Verify a signature: exit 0 if valid, 1 if not, 2 or 3 on other errors.
    #[command(after_help = EXIT_CODES)]
    Verify {
        #[command(flatten)]
        common: Common,
        /// The public-key file.
        #[arg(long)]
        public_key: PathBuf,
        /// The message file (default: standard input).
        #[arg(long)]
        message: Option<PathBuf>,
        /// The context string the signature was made under.
        #[arg(long, default_value = "")]
        context: String,
        /// The signature file.
        #[arg(long)]
        signature: PathBuf,
    },
}

impl SigCommand {
    fn alg(&self) -> Alg {
        match self {
            SigCommand::Keygen { common, .. } | SigCommand::Sign { common, .. } | SigCommand::Verify { common, .. } => {
                common.alg
            }
        }
    }
}

/// Runs one `sig` command and maps its outcome to the exit status in [`EXIT_CODES`].
pub(crate) fn run(command: SigCommand) -> ExitCode {
    let outcome = match command.alg() {
        Alg::MlDsa44 => run_with::<MlDsa44>(command),
        Alg::MlDsa65 => run_with::<MlDsa65>(command),
        Alg::MlDsa87 => run_with::<MlDsa87>(command),
    };
    match outcome {
        Ok(message) => {
            if let Some(message) = message {
                eprintln!("{message}");
            }
            ExitCode::SUCCESS
        }
        Err(Failure::Invalid) => {
            eprintln!("strongroom: INVALID: the signature does not verify for this public key, message and context");
            ExitCode::from(EXIT_INVALID)
        }
        Err(Failure::Error(message)) => {
            eprintln!("strongroom: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

enum Failure {
    Invalid,
    Error(String),
}

impl From<strongroom::Error> for Failure {
    fn from(e: strongroom::Error) -> Self {
        match e {
            strongroom::Error::InvalidSignature => Failure::Invalid,
            e => Failure::Error(e.to_string()),
        }
    }
}

/// Adds the path to an I/O error.
fn io_error(path: &Path, what: &str) -> impl FnOnce(io::Error) -> Failure {
    let path = path.display().to_string();
    let what = what.to_owned();
    move |e| Failure::Error(format!("{what} {path}: {e}"))
}

fn run_with<P: ParameterSet>(command: SigCommand) -> Result<Option<String>, Failure> {
    match command {
        SigCommand::Keygen { secret_key, public_key, .. } => {
            let key = SigningKey::<P>::generate()?;
            let mut file = keyfile::create_secret(&secret_key).map_err(Failure::Error)?;
            // Straight from protected memory to the file: no copy of the seed in between.
            key.with_seed(|seed| file.write_all(seed).and_then(|()| file.sync_all()))?
                .map_err(io_error(&secret_key, "cannot write"))?;
            std::fs::write(&public_key, key.verifying_key().as_bytes())
                .map_err(io_error(&public_key, "cannot write"))?;
            Ok(Some(format!(
                "{}: secret key (seed) in {} (mode 0600), public key in {}",
                P::NAME,
                secret_key.display(),
                public_key.display()
            )))
        }
        SigCommand::Sign { secret_key, message, context, deterministic, signature, .. } => {
            let key = read_signing_key::<P>(&secret_key)?;
            let message = read_message(message.as_deref())?;
            let signed = if deterministic {
                key.sign_deterministic(&message, context.as_bytes())?
            } else {
                key.sign(&message, context.as_bytes())?
            };
            std::fs::write(&signature, signed.as_bytes()).map_err(io_error(&signature, "cannot write"))?;
            Ok(None)
        }
        SigCommand::Verify { public_key, message, context, signature, .. } => {
            let public = std::fs::read(&public_key).map_err(io_error(&public_key, "cannot read"))?;
            let public = VerifyingKey::<P>::from_bytes(&public)
                .map_err(|e| Failure::Error(format!("{}: {e}", public_key.display())))?;
            let sig = std::fs::read(&signature).map_err(io_error(&signature, "cannot read"))?;
            let sig = Signature::<P>::from_bytes(&sig)
                .map_err(|e| Failure::Error(format!("{}: {e}", signature.display())))?;
            let message = read_message(message.as_deref())?;
            public.verify(&message, context.as_bytes(), &sig)?;
            Ok(Some("strongroom: valid signature".to_owned()))
        }
    }
}

/// Reads a secret-key file (exactly [`SEED_LEN`] bytes) straight into protected memory.
fn read_signing_key<P: ParameterSet>(path: &Path) -> Result<SigningKey<P>, Failure> {
    let seed = keyfile::read_seed(path, SEED_LEN, "an ML-DSA secret key").map_err(Failure::Error)?;
    Ok(SigningKey::<P>::from_locked_seed(&seed)?)
}

fn read_message(path: Option<&Path>) -> Result<Vec<u8>, Failure> {
    match path {
        Some(path) => std::fs::read(path).map_err(io_error(path, "cannot read the message")),
        None => {
            let mut message = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut message)
                .map_err(io_error(Path::new("-"), "cannot read the message from"))?;
            Ok(message)
        }
    }
}
