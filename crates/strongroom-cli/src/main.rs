//! The `strongroom` command: a thin shell over the strongroom library.
//!
//! It parses arguments and prints; every check and every protection lives in the library.

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod doctor;
mod files;
#[cfg(target_os = "linux")]
mod inspect;
mod kem;
mod keyfile;
/// Passphrases and secret files read into protected memory (shared with `sedit`).
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
    /// Search a running process's memory, or a core file, for copies of a secret: show
    /// that a program keeps no copy of its key outside protected memory.
    ///
    /// Each readable mapping of process PID (/proc/PID/maps) is read through /proc/PID/mem
    /// and searched for the secret's exact bytes. Each copy is listed with its address, the
    /// mapping it lies in ([heap], [stack], [anon], a library or file, /memfd:NAME...), and
    /// that mapping's protections from /proc/PID/smaps VmFlags: dd excluded from core dumps,
    /// lo locked, wf wiped in forked children, dc not in forked children. What could not be
    /// read is listed with why: memfd_secret mappings (/secretmem) are out of the kernel's
    /// direct map, unreadable by design; other failures give the error. Guard pages and
    /// reservations (no access, nothing resident) and anonymous mappings never touched are
    /// skipped and counted; a no-access mapping that holds pages is searched.
    ///
    /// Reading another process's memory needs root or CAP_SYS_PTRACE, or the same user with
    /// a dumpable target that Yama's ptrace_scope lets you trace (0, or 1 from an ancestor).
    ///
    /// With --core, an ELF64 core file (gcore's or the kernel's) is searched too, and each
    /// copy is given with its virtual address and, with a PID, the mapping there; without a
    /// PID, the core file alone. A mapping excluded from dumps is absent from the file.
    ///
    /// The secret (8 bytes at least: shorter ones match by chance; one trailing newline
    /// is dropped) is read straight into protected memory, exposed only during the search,
    /// and never printed. --json prints the hits, the unreadable ranges and the counts.
    #[cfg(target_os = "linux")]
    #[command(after_help = inspect::EXIT_CODES)]
    Inspect(inspect::InspectArgs),
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
        // Hardening (non-dumpable) keeps the secret from a debugger of the same user, and
        // does not stop this process from reading another's memory.
        #[cfg(target_os = "linux")]
        Cmd::Inspect(args) => {
            harden_self();
            inspect::run(args)
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
