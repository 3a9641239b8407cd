//! The `strongroom` command: a thin shell over the strongroom library.
//!
//! It parses arguments and prints; every check and every protection lives in the library.

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod doctor;
mod files;
mod kem;
mod keyfile;
mod sig;

/// `strongroom doctor`'s exit codes, shown by `--help`.
const EXIT_CODES: &str = "\
Exit status:
  0  every check ran and passed: the protections are live here
  1  a protection failed (a FAIL line says what to do)
  2  usage error
  3  nothing failed, but the environment prevented some checks (SKIP lines say why:
     too little RLIMIT_MEMLOCK, no memfd_secret in this kernel, --harden, ...)";

#[derive(Parser)]
#[command(name = "strongroom", version, about = "Protected memory for secrets: prove it works here, and use it")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show which memory protections this machine offers and prove them live.
    ///
    /// Every check is listed once, as PASS, FAIL, or SKIP (the environment kept it from
    /// running or applying, e.g. too little room under RLIMIT_MEMLOCK, or no memfd_secret),
    /// followed by the locked-memory budget.
    ///
    /// Exit status: 0 every check passed; 1 a protection failed; 2 usage error; 3 nothing
    /// failed but some checks were skipped (the environment prevented them).
    #[command(after_help = EXIT_CODES)]
    Doctor {
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Harden this process first (non-dumpable, no core files) and show what applied.
        #[arg(long)]
        harden: bool,
    },
    /// Sign and verify with ML-DSA (FIPS 204): keygen, sign, verify.
    ///
    /// Secret keys are 32-byte seed files (mode 0600), held in protected memory while used.
    #[command(after_help = sig::EXIT_CODES)]
    Sig {
        #[command(subcommand)]
        command: sig::SigCommand,
    },
    /// Encapsulate shared secrets with ML-KEM (FIPS 203) or X-Wing: keygen, encapsulate,
    /// decapsulate.
    ///
    /// Secret keys are seed files (64 bytes for ML-KEM, 32 for X-Wing; mode 0600), held in
    /// protected memory while used; shared secrets are written to new 0600 files.
    #[command(after_help = kem::EXIT_CODES)]
    Kem {
        #[command(subcommand)]
        command: kem::KemCommand,
    },
    /// Encrypt a file as age v1: to recipients (age1…, post-quantum age1pq1…) or with a
    /// passphrase.
    Encrypt(files::EncryptArgs),
    /// Decrypt an age file (binary or armored) with identity files or a passphrase, or a
    /// file of the original sedit tool (v1 to v3) with its passphrase.
    Decrypt(files::DecryptArgs),
    /// Make an age identity (X25519, or post-quantum with --pq), or print the recipients of
    /// one (-y).
    Keygen(files::KeygenArgs),
    /// Print the plaintext of an age or sedit file (as `decrypt` to standard output).
    Cat(files::DecryptArgs),
    /// Internal: commit one deliberate violation so `doctor` can watch the child die.
    #[command(name = "__probe", hide = true)]
    Probe {
        /// The scenario name (see `strongroom::probe::Scenario`).
        scenario: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        // The doctor inspects its own process (`/proc/self/mem`, which a non-dumpable,
        // non-root process may not open), so it hardens only when asked (`--harden`).
        Cmd::Doctor { json, harden } => doctor::run(json, harden),
        Cmd::Probe { scenario } => probe(&scenario),
        Cmd::Sig { command } => {
            harden_self();
            sig::run(command)
        }
        Cmd::Kem { command } => {
            harden_self();
            kem::run(command)
        }
        Cmd::Encrypt(args) => {
            harden_self();
            files::encrypt(args)
        }
        Cmd::Decrypt(args) | Cmd::Cat(args) => {
            harden_self();
            files::decrypt(args)
        }
        Cmd::Keygen(args) => {
            harden_self();
            files::keygen(args)
        }
    }
}

/// Commands that hold secret keys harden the process first (non-dumpable, no core files):
/// a debugger of the same user can then neither attach nor read the keys. A step that could
/// not be applied is said on stderr, never silently skipped.
fn harden_self() {
    let got = strongroom::harden();
    if !got.fully_applied() {
        eprintln!("strongroom: warning: process hardening incomplete: {got:?}");
    }
}

/// Runs a probe scenario in this (child) process. Returning at all means the protection
/// did not fire ([`probe::SURVIVED_EXIT_CODE`]), unless the scenario could not even be set
/// up ([`probe::SETUP_FAILED_EXIT_CODE`]: nothing was tested, and `doctor` shows a skip).
///
/// [`probe::SURVIVED_EXIT_CODE`]: strongroom::probe::SURVIVED_EXIT_CODE
/// [`probe::SETUP_FAILED_EXIT_CODE`]: strongroom::probe::SETUP_FAILED_EXIT_CODE
fn probe(name: &str) -> ExitCode {
    use strongroom::probe;
    let Some(scenario) = probe::Scenario::from_name(name) else {
        eprintln!("strongroom: unknown probe scenario {name:?}");
        return ExitCode::from(2);
    };
    match probe::provoke(scenario) {
        Ok(()) => {
            eprintln!("strongroom: {scenario}: the process survived; the protection did not fire");
            ExitCode::from(probe::SURVIVED_EXIT_CODE)
        }
        Err(e) => {
            eprintln!("strongroom: {scenario}: {}{e}", probe::SETUP_FAILED_PREFIX);
            ExitCode::from(probe::SETUP_FAILED_EXIT_CODE)
        }
    }
}

/// Re-executes this binary to run one probe in a child process.
fn run_probe_child(scenario: strongroom::probe::Scenario) -> std::io::Result<std::process::Output> {
    Command::new(std::env::current_exe()?).args(["__probe", scenario.name()]).output()
}
