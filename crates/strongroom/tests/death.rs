//! Protections that must kill: each test re-runs itself in a child process that commits one
//! violation, and asserts the child died the way the protection demands.
//!
//! Unix only: `strongroom::probe`, which provokes and judges the violations (signals, exit
//! statuses), exists only there.

#![cfg(unix)]

mod common;

use strongroom::probe::{self, Scenario};

fn must_die(scenario: Scenario, test: &str) {
    if common::is_child(scenario.name()) {
        // The child: commit the violation. Getting past it means the protection failed.
        match probe::provoke(scenario) {
            Ok(()) => {
                eprintln!("child survived {scenario}");
                std::process::exit(i32::from(probe::SURVIVED_EXIT_CODE));
            }
            Err(e) => {
                eprintln!("{}{e}", probe::SETUP_FAILED_PREFIX);
                std::process::exit(i32::from(probe::SETUP_FAILED_EXIT_CODE));
            }
        }
    }
    let out = common::run_child(test, scenario.name(), &[]);
    let verdict = probe::judge(scenario, out.status, &out.stderr);
    if let Some(reason) = &verdict.not_run {
        // The environment kept the child from setting up (e.g. no locked memory): the
        // protection was not tested, which CI must not accept and elsewhere must show.
        return common::missing(test, reason);
    }
    assert!(
        verdict.passed,
        "{scenario}: expected {:?}, but the child was {}\nstderr:\n{}",
        scenario.expected(),
        verdict.observed,
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn write_one_byte_past_the_end_dies_of_sigsegv() {
    must_die(Scenario::OverflowPastEnd, "write_one_byte_past_the_end_dies_of_sigsegv");
}

#[test]
fn write_before_the_canary_page_dies_of_sigsegv() {
    must_die(Scenario::UnderflowBeforeStart, "write_before_the_canary_page_dies_of_sigsegv");
}

#[test]
fn corrupted_canary_aborts_with_a_message() {
    must_die(Scenario::CanaryCorruption, "corrupted_canary_aborts_with_a_message");
}

#[test]
fn write_to_a_frozen_buffer_dies_of_sigsegv() {
    must_die(Scenario::WriteToFrozen, "write_to_a_frozen_buffer_dies_of_sigsegv");
}

/// The judge itself must be able to fail: a child that exits normally is not a pass.
#[test]
fn a_surviving_child_fails_the_verdict() {
    use std::os::unix::process::ExitStatusExt;
    let survived = std::process::ExitStatus::from_raw(3 << 8);
    for scenario in Scenario::ALL {
        assert!(!probe::judge(scenario, survived, b"").passed, "{scenario}");
    }
    let abort_without_message = std::process::ExitStatus::from_raw(libc_sigabrt());
    assert!(!probe::judge(Scenario::CanaryCorruption, abort_without_message, b"other").passed);
}

fn libc_sigabrt() -> i32 {
    6
}

#[test]
fn reading_a_strict_secret_at_rest_dies_of_sigsegv() {
    must_die(Scenario::StrictReadAtRest, "reading_a_strict_secret_at_rest_dies_of_sigsegv");
}

#[test]
fn a_one_byte_overflow_of_a_pooled_secret_aborts() {
    must_die(Scenario::PooledOverflow, "a_one_byte_overflow_of_a_pooled_secret_aborts");
}

#[test]
fn a_write_to_a_freed_pooled_slot_aborts() {
    must_die(Scenario::PooledWriteAfterFree, "a_write_to_a_freed_pooled_slot_aborts");
}

#[test]
fn a_pooled_slot_freed_twice_aborts() {
    must_die(Scenario::PooledDoubleFree, "a_pooled_slot_freed_twice_aborts");
}
