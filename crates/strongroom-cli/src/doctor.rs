//! Printing `strongroom doctor`'s report as a table or as JSON.

use std::process::ExitCode;

use serde_json::json;
use strongroom::doctor::{self, Budget, Check, Conclusion, Machine, Report, Status};

/// Exit code when a protection failed.
const EXIT_FAILED: u8 = 1;
/// Exit code when nothing failed but the environment kept some checks from running.
const EXIT_SKIPPED: u8 = 3;

/// Runs the doctor and prints its report. Exit code 0 when every check passed,
/// [`EXIT_FAILED`] when one failed, [`EXIT_SKIPPED`] when none failed but some were skipped.
/// With `harden`, the process hardens itself first and the report shows what that applied.
pub(crate) fn run(as_json: bool, harden: bool) -> ExitCode {
    let hardening = harden.then(strongroom::harden);
    let report = doctor::run(super::run_probe_child);
    if as_json {
        println!("{}", serde_json::to_string_pretty(&to_json(&report)).expect("JSON values always serialize"));
    } else {
        print_table(&report);
        if let Some(hardening) = &hardening {
            println!("\nHardening (--harden)");
            println!("  {:<16} {}", "not dumpable", hardening.not_dumpable);
            println!("  {:<16} {}", "no core files", hardening.no_core_files);
        }
    }
    match report.conclusion() {
        Conclusion::AllPassed => ExitCode::SUCCESS,
        Conclusion::SomeFailed => ExitCode::from(EXIT_FAILED),
        Conclusion::SomeSkipped => ExitCode::from(EXIT_SKIPPED),
    }
}

fn bytes(n: Option<u64>) -> String {
    match n {
        None => "unlimited".to_owned(),
        Some(0) => "0".to_owned(),
        Some(n) if n >= 1 << 20 && n % (1 << 20) == 0 => format!("{} MiB", n >> 20),
        Some(n) if n >= 1 << 10 && n % (1 << 10) == 0 => format!("{} KiB", n >> 10),
        Some(n) => format!("{n} bytes"),
    }
}

fn yes_no(b: Option<bool>) -> &'static str {
    match b {
        Some(true) => "yes",
        Some(false) => "no",
        None => "unknown",
    }
}

fn machine_rows(m: &Machine) -> Vec<(&'static str, String)> {
    vec![
        ("kernel", m.kernel.clone().unwrap_or_else(|| "unknown".into())),
        ("page size", format!("{} bytes", m.page_size)),
        ("memfd_secret", if m.secret_memory { "available" } else { "not available" }.into()),
        ("RLIMIT_MEMLOCK", format!("{} ({} locked now)", bytes(m.memlock_limit), bytes(m.locked_now))),
        (
            "CAP_IPC_LOCK",
            format!(
                "{}{}",
                yes_no(m.cap_ipc_lock),
                if m.cap_ipc_lock == Some(true) { " (locking is not limited)" } else { "" }
            ),
        ),
        ("effective uid", m.euid.map_or("unknown".into(), |u| u.to_string())),
        (
            "core dumps",
            format!("RLIMIT_CORE {}, core_pattern {:?}", bytes(m.core_limit), m.core_pattern.as_deref().unwrap_or("?")),
        ),
        ("ptrace scope", m.ptrace_scope.clone().unwrap_or_else(|| "no Yama module (classic ptrace rules)".into())),
        (
            "dumpable",
            match m.dumpable {
                Some(true) => "yes: processes of the same user may attach and read memory (--harden stops that)".into(),
                Some(false) => "no: only root may attach or read memory".into(),
                None => "unknown".into(),
            },
        ),
    ]
}

fn print_table(report: &Report) {
    println!("strongroom doctor: memory protections on this machine\n");
    println!("Machine");
    for (key, value) in machine_rows(&report.machine) {
        println!("  {key:<16} {value}");
    }
    println!("\nChecks");
    let width = report.checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for check in &report.checks {
        println!("  {:<4}  {:<width$}  {}", label(check.status), check.name, check.detail);
        if let Some(remedy) = &check.remedy {
            println!("  {:<4}  {:<width$}  -> {remedy}", "", "");
        }
    }
    println!("\nBudget (locked memory, when the doctor started)");
    for (key, value) in budget_rows(&report.budget) {
        println!("  {key:<16} {value}");
    }
    println!(
        "\n{} passed, {} failed, {} skipped ({} checks)",
        report.count(Status::Pass),
        report.count(Status::Fail),
        report.count(Status::Skip),
        report.checks.len()
    );
}

fn budget_rows(b: &Budget) -> Vec<(&'static str, String)> {
    let fits = |n: Option<u64>, each: &str| match n {
        None => format!("not limited ({each})"),
        Some(n) => format!("{n} more ({each})"),
    };
    let pooled = format!("32 bytes, about {} locked bytes each, a page at least", doctor::POOLED_SECRET_BYTES);
    vec![
        ("RLIMIT_MEMLOCK", bytes(b.memlock_limit)),
        ("locked now", b.locked_now.map_or("unknown".to_owned(), |n| format!("{} (VmLck)", bytes(Some(n))))),
        ("room left", b.room.map_or("not limited (no limit or CAP_IPC_LOCK)".to_owned(), |n| bytes(Some(n)))),
        ("pooled secrets", fits(b.pooled_secrets, &pooled)),
        ("guarded buffers", fits(b.guarded_buffers, "one locked page each")),
    ]
}

fn label(status: Status) -> &'static str {
    match status {
        Status::Pass => "PASS",
        Status::Fail => "FAIL",
        Status::Skip => "SKIP",
    }
}

fn to_json(report: &Report) -> serde_json::Value {
    let m = &report.machine;
    json!({
        "passed": report.passed(),
        "conclusion": match report.conclusion() {
            Conclusion::AllPassed => "all passed",
            Conclusion::SomeFailed => "some failed",
            Conclusion::SomeSkipped => "some skipped",
        },
        "counts": {
            "pass": report.count(Status::Pass),
            "fail": report.count(Status::Fail),
            "skip": report.count(Status::Skip),
            "total": report.checks.len(),
        },
        "machine": {
            "kernel": m.kernel,
            "page_size": m.page_size,
            "memfd_secret": m.secret_memory,
            "memlock_limit_bytes": m.memlock_limit,
            "locked_bytes": m.locked_now,
            "cap_ipc_lock": m.cap_ipc_lock,
            "euid": m.euid,
            "core_pattern": m.core_pattern,
            "core_limit_bytes": m.core_limit,
            "ptrace_scope": m.ptrace_scope,
            "dumpable": m.dumpable,
        },
        "budget": {
            "memlock_limit_bytes": report.budget.memlock_limit,
            "locked_bytes": report.budget.locked_now,
            "room_bytes": report.budget.room,
            "pooled_secrets": report.budget.pooled_secrets,
            "guarded_buffers": report.budget.guarded_buffers,
        },
        "checks": report.checks.iter().map(check_json).collect::<Vec<_>>(),
    })
}

fn check_json(c: &Check) -> serde_json::Value {
    json!({
        "name": c.name,
        "status": label(c.status).to_lowercase(),
        "detail": c.detail,
        "remedy": c.remedy,
    })
}
