//! The `strongroom` command: a thin shell over the strongroom library.
//!
//! It parses arguments and prints; every check and every protection lives in the library.

use std::process::{Command, ExitCode};

use clap::{Parser, Subcommand};

mod doctor;

#[derive(Parser)]
#[command(name = "strongroom", version, about = "Protected memory for secrets: prove it works here, and use it")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show which memory protections this machine offers and prove them live.
    Doctor {
        /// Print the report as JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Harden this process first (non-dumpable, no core files) and show what applied.
        #[arg(long)]
        harden: bool,
    },
    /// Internal: commit one deliberate violation so `doctor` can watch the child die.
    #[command(name = "__probe", hide = true)]
    Probe {
        /// The scenario name (see `strongroom::probe::Scenario`).
        scenario: String,
    },
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Cmd::Doctor { json, harden } => doctor::run(json, harden),
        Cmd::Probe { scenario } => probe(&scenario),
    }
}

/// Runs a probe scenario in this (child) process. Returning at all means the protection
/// did not fire, so the exit code is a failure either way.
fn probe(name: &str) -> ExitCode {
    let Some(scenario) = strongroom::probe::Scenario::from_name(name) else {
        eprintln!("strongroom: unknown probe scenario {name:?}");
        return ExitCode::from(2);
    };
    match strongroom::probe::provoke(scenario) {
        Ok(()) => {
            eprintln!("strongroom: {scenario}: the process survived; the protection did not fire")
        }
        Err(e) => eprintln!("strongroom: {scenario}: could not set up the probe: {e}"),
    }
    ExitCode::from(3)
}

/// Re-executes this binary to run one probe in a child process.
fn run_probe_child(scenario: strongroom::probe::Scenario) -> std::io::Result<std::process::Output> {
    Command::new(std::env::current_exe()?).args(["__probe", scenario.name()]).output()
}
