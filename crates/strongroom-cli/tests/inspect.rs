//! `strongroom inspect` end to end, as a user runs it: a child process (this test binary
//! re-run as one test) holds a random marker in ordinary or in protected memory, and the
//! command must find the ordinary copy, find none of the protected one, and say why.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};

use serde_json::Value;
use strongroom::{LockedBuffer, SecretBox};

/// Tells a re-run test binary to act as the holder, and in what (`vec`, `locked`, `box`).
const HOLDER_ENV: &str = "STRONGROOM_INSPECT_HOLDER";
const MARKER_LEN: usize = 32;

// The holder (child side) ------------------------------------------------------------------

/// The holder's role when this process is one.
fn holder_role() -> Option<String> {
    std::env::var(HOLDER_ENV).ok()
}

/// In the child: reads the marker from standard input straight into `role`'s container
/// (read(2), not std's buffered `Stdin`, so no other copy is made), prints `ready` with its
/// address and whether it is in memfd_secret pages, and holds it until standard input closes.
fn hold(role: &str) {
    // Under Yama's ptrace_scope 1, a sibling (the `strongroom inspect` under test) may read us.
    let _ = rustix::process::set_ptracer(rustix::process::PTracer::Any);
    let ready = |address: usize, secret_memory: bool| {
        println!("ready {address:#x} {secret_memory}");
        wait_for_eof();
    };
    match role {
        "vec" => {
            let mut marker = vec![0u8; MARKER_LEN];
            read_marker(&mut marker);
            ready(marker.as_ptr() as usize, false);
            std::hint::black_box(&marker);
        }
        "locked" => {
            let mut marker = LockedBuffer::new(MARKER_LEN).unwrap();
            marker.with_mut(read_marker).unwrap();
            ready(marker.address_range().start, marker.protections().secret_memory);
        }
        "box" => {
            let marker = SecretBox::new(|m: &mut [u8; MARKER_LEN]| read_marker(m)).unwrap();
            let address = marker.expose().unwrap().as_ptr() as usize;
            ready(address, marker.protections().secret_memory);
        }
        other => panic!("unknown holder role {other}"),
    }
}

fn read_marker(buf: &mut [u8]) {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(rustix::stdio::stdin(), &mut buf[got..]) {
            Ok(0) => panic!("standard input closed before the marker was whole"),
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("reading the marker: {e}"),
        }
    }
}

fn wait_for_eof() {
    let mut byte = [0u8; 1];
    while let Ok(1) | Err(rustix::io::Errno::INTR) = rustix::io::read(rustix::stdio::stdin(), &mut byte) {}
}

// The holder (parent side) -----------------------------------------------------------------

/// A holder child, running until dropped.
struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
    /// Kept open to the end, for libtest's last words in the child.
    stdout: BufReader<ChildStdout>,
    pid: String,
    /// Where the marker lies in the holder.
    address: usize,
    /// Whether the holder's protected container is in memfd_secret pages.
    secret_memory: bool,
}

impl Holder {
    /// Runs `test` again as a holder of `marker` in `role`, and waits until it holds it.
    fn start(test: &str, role: &str, marker: &[u8]) -> Holder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", test, "--nocapture", "--test-threads=1"])
            .env(HOLDER_ENV, role)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the holder starts");
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(marker).unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // libtest's "test NAME ... " comes first on the same line.
        let line = (&mut stdout)
            .lines()
            .find_map(|l| l.unwrap().split_once("ready ").map(|(_, said)| said.to_owned()))
            .expect("the holder says it is ready");
        let (address, secret_memory) = line.split_once(' ').unwrap();
        Holder {
            pid: child.id().to_string(),
            child,
            stdin: Some(stdin),
            stdout,
            address: usize::from_str_radix(address.trim_start_matches("0x"), 16).unwrap(),
            secret_memory: secret_memory == "true",
        }
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = std::io::copy(&mut self.stdout, &mut std::io::sink());
        let _ = self.child.wait();
    }
}

// Helpers ----------------------------------------------------------------------------------

/// 32 random bytes, new for each run; the last never a newline (which the command drops).
fn random_marker() -> Vec<u8> {
    let mut marker = vec![0u8; MARKER_LEN];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut marker).unwrap();
    marker[MARKER_LEN - 1] |= 0x80;
    marker
}

/// `strongroom inspect args --secret-stdin --json` with the marker, and its report.
fn inspect_json(dir: &Path, args: &[&str], marker: &[u8]) -> (Output, Value) {
    let mut all = vec!["inspect", "--secret-stdin", "--json"];
    all.extend(args);
    let out = common::strongroom(dir, &all, marker);
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    assert_never_printed(&out, marker);
    (out, report)
}

/// The command never prints the secret, raw or in hex.
fn assert_never_printed(out: &Output, marker: &[u8]) {
    let hex: String = marker.iter().map(|b| format!("{b:02x}")).collect();
    for stream in [&out.stdout, &out.stderr] {
        assert!(!stream.windows(marker.len()).any(|w| w == marker), "the secret was printed");
        assert!(!String::from_utf8_lossy(stream).to_lowercase().contains(&hex), "the secret was printed in hex");
    }
}

fn hex(address: usize) -> String {
    format!("{address:#x}")
}

/// Whether a JSON `[start, end]` pair of hex strings holds `address`.
fn range_holds(range: &Value, address: usize) -> bool {
    let bound = |i: usize| u64::from_str_radix(range[i].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    (bound(0)..bound(1)).contains(&(address as u64))
}

fn code_and_stderr(out: &Output) -> (Option<i32>, String) {
    (out.status.code(), String::from_utf8_lossy(&out.stderr).into_owned())
}

// Tests ------------------------------------------------------------------------------------

#[test]
fn a_copy_in_ordinary_memory_is_found() {
    const TEST: &str = "a_copy_in_ordinary_memory_is_found";
    if let Some(role) = holder_role() {
        return hold(&role);
    }
    let marker = random_marker();
    let holder = Holder::start(TEST, "vec", &marker);
    let dir = common::tempdir("inspect-vec");

    let (out, report) = inspect_json(&dir, &[&holder.pid], &marker);
    assert_eq!(out.status.code(), Some(1), "a copy was there: {report:#}");
    assert_eq!((&report["found"], &report["exit_code"]), (&Value::Bool(true), &Value::from(1)));
    let hits = report["hits"].as_array().unwrap();
    let hit = hits.iter().find(|h| h["address"] == hex(holder.address));
    let hit = hit.unwrap_or_else(|| panic!("no hit at the Vec's {:#x}: {report:#}", holder.address));
    assert_eq!(hit["source"], "memory");
    let kind = hit["mapping"]["kind"].as_str().unwrap();
    assert!(kind == "heap" || kind == "anonymous", "the Vec lies in {kind}");
    assert!(range_holds(&hit["mapping"]["range"], holder.address));
    assert_eq!(hit["mapping"]["dump_excluded"], false, "ordinary memory is dumped");
    assert!(hit["mapping"]["vm_flags"].as_array().is_some_and(|f| f.contains(&Value::from("rd"))));
    let counts = &report["counts"];
    assert_eq!(counts["hits"], hits.len());
    assert!(counts["mappings_searched"].as_u64().unwrap() > 0 && counts["bytes_searched"].as_u64().unwrap() > 0);
    assert!(counts["mappings"].as_u64() >= counts["mappings_searched"].as_u64());

    // The table, with the secret in a file.
    let path = dir.join("marker");
    std::fs::write(&path, &marker).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = common::strongroom(&dir, &["inspect", &holder.pid, "--secret-file", "marker"], b"");
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert_never_printed(&out, &marker);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("FOUND") && table.contains(&format!("{:#018x}", holder.address)), "{table}");
    assert!(table.contains("unprotected"), "{table}");
}

#[test]
fn a_locked_buffer_is_not_found() {
    protected_marker_is_not_found("a_locked_buffer_is_not_found", "locked");
}

#[test]
fn a_secret_box_is_not_found() {
    protected_marker_is_not_found("a_secret_box_is_not_found", "box");
}

/// A marker in `role`'s protected container (default policy) has no copy anywhere the
/// command can read; in memfd_secret pages, the command says it could not read them.
fn protected_marker_is_not_found(test: &str, role: &str) {
    if let Some(role) = holder_role() {
        return hold(&role);
    }
    let marker = random_marker();
    let holder = Holder::start(test, role, &marker);
    let (out, report) = inspect_json(&common::tempdir(test), &[&holder.pid], &marker);
    assert_eq!(out.status.code(), Some(0), "no copy, and all searched: {report:#}\n{}", code_and_stderr(&out).1);
    assert_eq!(report["found"], false);
    assert_eq!(report["hits"].as_array().unwrap().len(), 0);
    if !holder.secret_memory {
        common::missing(test, "the holder's secret is not in memfd_secret pages (is memfd_secret in this kernel?)");
        return;
    }
    let unreadable = report["unreadable"].as_array().unwrap();
    let secretmem = unreadable.iter().find(|u| range_holds(&u["range"], holder.address));
    let secretmem = secretmem.unwrap_or_else(|| panic!("{:#x} is not listed unreadable: {report:#}", holder.address));
    assert_eq!((&secretmem["reason"], &secretmem["by_design"]), (&Value::from("memfd_secret"), &Value::Bool(true)));
    assert!(secretmem["detail"].as_str().unwrap().contains("unreadable by design"));
    assert!(secretmem["mapping"]["name"].as_str().unwrap().starts_with("/secretmem"));
}

#[test]
fn a_secret_shorter_than_8_bytes_is_refused() {
    let dir = common::tempdir("inspect-short");
    let pid = std::process::id().to_string();
    let out = common::strongroom(&dir, &["inspect", &pid, "--secret-stdin"], b"1234567\n");
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("7 bytes") && stderr.contains("at least 8"), "{stderr}");
}

#[test]
fn a_process_that_does_not_exist_is_an_error() {
    let dir = common::tempdir("inspect-nopid");
    // Above PID_MAX_LIMIT (2^22): no process ever has it.
    let out = common::strongroom(&dir, &["inspect", "4194304", "--secret-stdin"], b"0123456789");
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("no process with PID 4194304"), "{stderr}");
    // Neither a PID nor --core: a usage error.
    let out = common::strongroom(&dir, &["inspect", "--secret-stdin"], b"0123456789");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn without_permission_it_says_what_is_needed() {
    const TEST: &str = "without_permission_it_says_what_is_needed";
    if !common::is_root() {
        common::missing(TEST, "needs root, to run the command as nobody against a root process");
        return;
    }
    if !common::have("setpriv") {
        common::missing(TEST, "setpriv (util-linux) is not installed");
        return;
    }
    // nobody, without capabilities, against this (root's) test process.
    let pid = std::process::id().to_string();
    let mut child = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all"])
        .args([env!("CARGO_BIN_EXE_strongroom"), "inspect", &pid, "--secret-stdin"])
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"0123456789").unwrap();
    let out = child.wait_with_output().unwrap();
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no permission to read the memory of process") && stderr.contains("CAP_SYS_PTRACE"),
        "{stderr}"
    );
}

#[test]
fn a_core_file_is_searched() {
    const TEST: &str = "a_core_file_is_searched";
    if let Some(role) = holder_role() {
        return hold(&role);
    }
    if !common::have("gcore") {
        common::missing(TEST, "gcore (gdb) is not installed");
        return;
    }
    let dir = common::tempdir("inspect-core");
    let gcore = |holder: &Holder, name: &str| {
        let prefix = dir.join(name);
        let out = Command::new("gcore").arg("-o").arg(&prefix).arg(&holder.pid).output().unwrap();
        let core = format!("{}.{}", prefix.display(), holder.pid);
        assert!(Path::new(&core).exists(), "gcore wrote nothing: {}", String::from_utf8_lossy(&out.stderr));
        core
    };

    let marker = random_marker();
    let holder = Holder::start(TEST, "vec", &marker);
    let core = gcore(&holder, "vec");
    // The core file alone: the copy, at the Vec's virtual address.
    let (out, report) = inspect_json(&dir, &["--core", &core], &marker);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let hit = report["hits"].as_array().unwrap().iter().find(|h| h["address"] == hex(holder.address)).cloned();
    let hit = hit.unwrap_or_else(|| panic!("no hit at {:#x} in the core: {report:#}", holder.address));
    assert_eq!((&hit["source"], &hit["mapping"]), (&Value::from("core"), &Value::Null));
    assert!(hit["core_offset"].is_u64() && range_holds(&hit["segment"]["range"], holder.address));
    assert_eq!(report["pid"], Value::Null);
    // With the PID too: both memory and core, and the core's copy placed in its mapping.
    let (out, report) = inspect_json(&dir, &[&holder.pid, "--core", &core], &marker);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    let at_vec = |h: &&Value| h["address"] == hex(holder.address);
    let hits = report["hits"].as_array().unwrap();
    assert!(hits.iter().filter(at_vec).any(|h| h["source"] == "memory"), "{report:#}");
    let in_core = hits.iter().filter(at_vec).find(|h| h["source"] == "core").expect("the core's copy");
    assert!(range_holds(&in_core["mapping"]["range"], holder.address));
    drop(holder);

    // The control: a locked buffer's secret is not in its core file.
    let marker = random_marker();
    let holder = Holder::start(TEST, "locked", &marker);
    let core = gcore(&holder, "locked");
    let (out, report) = inspect_json(&dir, &["--core", &core], &marker);
    assert_eq!(out.status.code(), Some(0), "{report:#}");

    // Not a core file: an error.
    let out =
        common::strongroom(&dir, &["inspect", "--core", env!("CARGO_BIN_EXE_strongroom"), "--secret-stdin"], &marker);
    let (code, stderr) = code_and_stderr(&out);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("not an ELF64 core file"), "{stderr}");
}
