//! `strongroom kem`: ML-KEM and X-Wing key generation, encapsulation and decapsulation over
//! files.
//!
//! A secret-key file holds the raw seed (64 bytes for ML-KEM, 32 for X-Wing), created mode
//! 0600 (never overwritten), written from and read straight into protected memory; so is a
//! shared-secret file. Public keys and ciphertexts are raw bytes.

use std::fs::File;
use std::io::Write;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::keyfile;
use clap::{Args, Subcommand, ValueEnum};
use strongroom::LockedBuffer;
use strongroom::kem::{self, MlKem512, MlKem768, MlKem1024, ParameterSet, SharedSecret, x_wing};

/// Exit status of the `kem` commands.
pub(crate) const EXIT_CODES: &str = "\
Exit status:
  0  done (a tampered ciphertext still decapsulates: to a secret that matches nothing)
  2  usage error
  3  any other error (a file unreadable or already there, a key or ciphertext malformed)";

/// Any error other than usage.
const EXIT_ERROR: u8 = 3;

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Alg {
    /// ML-KEM-512 (NIST category 1)
    #[value(name = "ml-kem-512")]
    MlKem512,
    /// ML-KEM-768 (NIST category 3)
    #[value(name = "ml-kem-768")]
    MlKem768,
    /// ML-KEM-1024 (NIST category 5)
    #[value(name = "ml-kem-1024")]
    MlKem1024,
    /// X-Wing: ML-KEM-768 combined with X25519
    #[value(name = "x-wing")]
    XWing,
}

#[derive(Args)]
pub(crate) struct Common {
    /// The algorithm.
    #[arg(long, value_enum, default_value = "ml-kem-768")]
    alg: Alg,
}

#[derive(Subcommand)]
pub(crate) enum KemCommand {
    /// Generate a key pair: the secret key (the seed, file mode 0600) and the public key.
    Keygen {
        #[command(flatten)]
        common: Common,
        /// Where to write the secret key (must not exist).
        #[arg(long)]
        secret_key: PathBuf,
        /// Where to write the public (encapsulation) key.
        #[arg(long)]
        public_key: PathBuf,
    },
    /// Encapsulate a fresh shared secret to a public key.
    Encapsulate {
        #[command(flatten)]
        common: Common,
        /// The public-key file.
        #[arg(long)]
        public_key: PathBuf,
        /// Where to write the ciphertext (for the secret key's owner).
        #[arg(long)]
        ciphertext: PathBuf,
        /// Where to write the 32-byte shared secret (must not exist; mode 0600).
        #[arg(long)]
        shared_secret: PathBuf,
    },
    /// Decapsulate a ciphertext with a secret key.
    Decapsulate {
        #[command(flatten)]
        common: Common,
        /// The secret-key file (the seed).
        #[arg(long)]
        secret_key: PathBuf,
        /// The ciphertext file.
        #[arg(long)]
        ciphertext: PathBuf,
        /// Where to write the 32-byte shared secret (must not exist; mode 0600).
        #[arg(long)]
        shared_secret: PathBuf,
    },
}

impl KemCommand {
    fn alg(&self) -> Alg {
        match self {
            KemCommand::Keygen { common, .. }
            | KemCommand::Encapsulate { common, .. }
            | KemCommand::Decapsulate { common, .. } => common.alg,
        }
    }
}

/// Runs one `kem` command and maps its outcome to the exit status in [`EXIT_CODES`].
pub(crate) fn run(command: KemCommand) -> ExitCode {
    let outcome = match command.alg() {
        Alg::MlKem512 => run_with::<MlKem<MlKem512>>(command),
        Alg::MlKem768 => run_with::<MlKem<MlKem768>>(command),
        Alg::MlKem1024 => run_with::<MlKem<MlKem1024>>(command),
        Alg::XWing => run_with::<XWing>(command),
    };
    match outcome {
        Ok(message) => {
            if let Some(message) = message {
                eprintln!("{message}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("strongroom: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

/// What the commands need of an algorithm: the library's two key families behind one face.
trait Algorithm {
    const NAME: &'static str;
    const SEED_LEN: usize;
    type Key;
    fn generate() -> strongroom::Result<Self::Key>;
    fn from_locked(seed: &LockedBuffer) -> strongroom::Result<Self::Key>;
    /// Writes the key's seed to `out`, straight from protected memory.
    fn write_seed(key: &Self::Key, out: &mut File) -> Result<(), String>;
    fn public_key(key: &Self::Key) -> &[u8];
    fn encapsulate(public_key: &[u8]) -> strongroom::Result<(Vec<u8>, SharedSecret)>;
    fn decapsulate(key: &Self::Key, ciphertext: &[u8]) -> strongroom::Result<SharedSecret>;
}

struct MlKem<P>(PhantomData<P>);

impl<P: ParameterSet> Algorithm for MlKem<P> {
    const NAME: &'static str = P::NAME;
    const SEED_LEN: usize = kem::SEED_LEN;
    type Key = kem::DecapsulationKey<P>;

    fn generate() -> strongroom::Result<Self::Key> {
        kem::DecapsulationKey::generate()
    }
    fn from_locked(seed: &LockedBuffer) -> strongroom::Result<Self::Key> {
        kem::DecapsulationKey::from_locked(seed)
    }
    fn write_seed(key: &Self::Key, out: &mut File) -> Result<(), String> {
        let seed = key.seed().map_err(|e| e.to_string())?;
        out.write_all(&*seed).and_then(|()| out.sync_all()).map_err(|e| e.to_string())
    }
    fn public_key(key: &Self::Key) -> &[u8] {
        key.encapsulation_key().as_bytes()
    }
    fn encapsulate(public_key: &[u8]) -> strongroom::Result<(Vec<u8>, SharedSecret)> {
        kem::EncapsulationKey::<P>::from_bytes(public_key)?.encapsulate()
    }
    fn decapsulate(key: &Self::Key, ciphertext: &[u8]) -> strongroom::Result<SharedSecret> {
        key.decapsulate(ciphertext)
    }
}

struct XWing;

impl Algorithm for XWing {
    const NAME: &'static str = "X-Wing";
    const SEED_LEN: usize = x_wing::SEED_LEN;
    type Key = x_wing::DecapsulationKey;

    fn generate() -> strongroom::Result<Self::Key> {
        x_wing::DecapsulationKey::generate()
    }
    fn from_locked(seed: &LockedBuffer) -> strongroom::Result<Self::Key> {
        x_wing::DecapsulationKey::from_locked(seed)
    }
    fn write_seed(key: &Self::Key, out: &mut File) -> Result<(), String> {
        let seed = key.seed().map_err(|e| e.to_string())?;
        out.write_all(&*seed).and_then(|()| out.sync_all()).map_err(|e| e.to_string())
    }
    fn public_key(key: &Self::Key) -> &[u8] {
        key.encapsulation_key().as_bytes()
    }
    fn encapsulate(public_key: &[u8]) -> strongroom::Result<(Vec<u8>, SharedSecret)> {
        x_wing::EncapsulationKey::from_bytes(public_key)?.encapsulate()
    }
    fn decapsulate(key: &Self::Key, ciphertext: &[u8]) -> strongroom::Result<SharedSecret> {
        key.decapsulate(ciphertext)
    }
}

fn run_with<A: Algorithm>(command: KemCommand) -> Result<Option<String>, String> {
    let lib = |path: &Path| {
        let path = path.display().to_string();
        move |e: strongroom::Error| format!("{path}: {e}")
    };
    match command {
        KemCommand::Keygen { secret_key, public_key, .. } => {
            let key = A::generate().map_err(|e| e.to_string())?;
            let mut file = keyfile::create_secret(&secret_key)?;
            A::write_seed(&key, &mut file).map_err(|e| format!("cannot write {}: {e}", secret_key.display()))?;
            std::fs::write(&public_key, A::public_key(&key)).map_err(keyfile::at(&public_key, "cannot write"))?;
            Ok(Some(format!(
                "{}: secret key (seed) in {} (mode 0600), public key in {}",
                A::NAME,
                secret_key.display(),
                public_key.display()
            )))
        }
        KemCommand::Encapsulate { public_key, ciphertext, shared_secret, .. } => {
            let public = std::fs::read(&public_key).map_err(keyfile::at(&public_key, "cannot read"))?;
            let (sealed, secret) = A::encapsulate(&public).map_err(lib(&public_key))?;
            write_shared_secret(&shared_secret, &secret)?;
            std::fs::write(&ciphertext, sealed).map_err(keyfile::at(&ciphertext, "cannot write"))?;
            Ok(None)
        }
        KemCommand::Decapsulate { secret_key, ciphertext, shared_secret, .. } => {
            let key = read_secret_key::<A>(&secret_key)?;
            let sealed = std::fs::read(&ciphertext).map_err(keyfile::at(&ciphertext, "cannot read"))?;
            let secret = A::decapsulate(&key, &sealed).map_err(lib(&ciphertext))?;
            write_shared_secret(&shared_secret, &secret)?;
            Ok(None)
        }
    }
}

/// Writes the shared secret to a new 0600 file, straight from protected memory.
fn write_shared_secret(path: &Path, secret: &SharedSecret) -> Result<(), String> {
    let mut file = keyfile::create_secret(path)?;
    secret
        .with(|bytes| file.write_all(bytes).and_then(|()| file.sync_all()))
        .map_err(|e| e.to_string())?
        .map_err(keyfile::at(path, "cannot write"))
}

/// Reads a secret-key file (exactly the seed's length) straight into protected memory.
fn read_secret_key<A: Algorithm>(path: &Path) -> Result<A::Key, String> {
    let seed = keyfile::read_seed(path, A::SEED_LEN, &format!("an {} secret key", A::NAME))?;
    A::from_locked(&seed).map_err(|e| format!("{}: {e}", path.display()))
}
