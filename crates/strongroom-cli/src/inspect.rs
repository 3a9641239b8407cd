//! `strongroom inspect`: searches a running process's memory, or a core file, for copies of
//! a secret, so that a program's author can show that the program keeps no copy of its key
//! outside protected memory.
//!
//! The secret is read straight into protected memory and exposed only while the search
//! runs, on a secure stack (`strongroom::stack::run`, wiped after); it is never printed.
//! What the target holds is read in 1 MiB windows into an ordinary buffer (the target's
//! memory, not ours), wiped at the end since it may have held a copy. Never here: the secret
//! in ordinary memory, or any output derived from its bytes beyond where copies lie.
//!
//! The process side reads `/proc/PID/smaps` and `/proc/PID/mem`; the core side is in
//! [`core_file`]. Linux only.

mod core_file;
mod process;

use std::fs::File;
use std::io::{self, Read};
use std::ops::Range;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{ArgGroup, Args};
use memchr::memmem::Finder;
use serde_json::{Value, json};
use strongroom::{LockedBuffer, SecretVec};
use zeroize::Zeroizing;

use crate::keyfile::at;
use core_file::CoreFile;
use process::{Mapping, Process};

/// `strongroom inspect`'s exit codes, shown by `--help`.
pub(crate) const EXIT_CODES: &str = "\
Exit status:
  0  no copy of the secret was found, and everything that can hold data was searched
     (memfd_secret mappings are unreadable by design; guard pages hold nothing)
  1  at least one copy of the secret was found (each is listed)
  2  error: usage, a secret shorter than 8 bytes, no such process, no permission to read
     its memory (root or CAP_SYS_PTRACE needed), not an ELF core file, ...
  3  no copy found, but some memory could not be read (listed, with the error): the
     search is incomplete

Examples:
  strongroom inspect 4242 --secret-file key.bin
  printf %s \"$TOKEN\" | strongroom inspect \"$(pidof myserver)\" --secret-stdin --json
  gcore -o core 4242 && strongroom inspect --core core.4242 --secret-file key.bin";

/// At least one copy was found.
const EXIT_FOUND: u8 = 1;
/// The search could not be done at all.
const EXIT_ERROR: u8 = 2;
/// Nothing was found, but some memory could not be read for reasons other than by design.
const EXIT_INCOMPLETE: u8 = 3;

/// Shorter secrets match by chance in a process's megabytes.
const MIN_SECRET: usize = 8;
/// The largest secret searched for (a key, a token, a short document).
const MAX_SECRET: usize = 1 << 20;
/// Bytes read from the target per window, on top of the overlap with the window before.
const WINDOW: usize = 1 << 20;
/// A read that fails is retried one page on: the smallest page Linux uses (with larger
/// pages a hole costs a few more failed reads, nothing more).
const PAGE: u64 = 4096;

#[derive(Args)]
#[command(group(ArgGroup::new("secret").required(true).args(["secret_file", "secret_stdin"])))]
pub(crate) struct InspectArgs {
    /// The running process to search. May be left out with --core: then the core file alone
    /// is searched.
    #[arg(required_unless_present = "core", value_name = "PID")]
    pid: Option<u32>,
    /// Read the secret from this file: its bytes, less one trailing newline (\n or \r\n).
    #[arg(long, value_name = "PATH")]
    secret_file: Option<PathBuf>,
    /// Read the secret from standard input, to its end, less one trailing newline.
    #[arg(long)]
    secret_stdin: bool,
    /// Also search this ELF core file (from gcore, or the kernel's core dump); each copy is
    /// given with its virtual address and, with a PID, the process's mapping there.
    #[arg(long, value_name = "COREFILE")]
    core: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// What the search found.
struct Report {
    secret_len: usize,
    process: Option<Process>,
    core: Option<CoreFile>,
    /// Mappings at least partly read.
    mappings_searched: usize,
    /// Mappings without read permission and with nothing resident: guard pages, reservations.
    no_access: usize,
    /// Anonymous mappings never touched (nothing resident or swapped): they read as zeros.
    untouched: usize,
    bytes_searched: u64,
    core_bytes_searched: u64,
    hits: Vec<Hit>,
    unreadable: Vec<Unreadable>,
}

/// One copy of the secret.
struct Hit {
    /// Its virtual address; `None` for a copy in a core file outside every loaded segment.
    address: Option<u64>,
    /// The process's mapping holding it (index into `Process::mappings`).
    mapping: Option<usize>,
    /// In a core file: the file offset, and the loaded segment (index into `CoreFile::segments`).
    core: Option<(u64, Option<usize>)>,
}

/// A range that could not be searched, and why.
struct Unreadable {
    range: Range<u64>,
    /// The process's mapping it lies in, if it is process memory.
    mapping: Option<usize>,
    /// In a core file: the loaded segment.
    segment: Option<usize>,
    reason: Reason,
}

enum Reason {
    /// memfd_secret pages: out of the kernel's direct map, unreadable by design.
    SecretMemory,
    /// A mapping the kernel provides ([vvar], [vsyscall]): holds no data of the program's.
    Kernel(String),
    /// A core file ends before a segment's data.
    Truncated,
    /// Anything else: the search is incomplete.
    Failed { errno: Option<i32>, error: String },
}

impl Reason {
    fn is_by_design(&self) -> bool {
        matches!(self, Reason::SecretMemory | Reason::Kernel(_))
    }

    fn describe(&self) -> String {
        match self {
            Reason::SecretMemory => "memfd_secret: removed from the kernel's direct map, unreadable by design".into(),
            Reason::Kernel(e) => format!("kernel-provided mapping, holds no program data ({e})"),
            Reason::Truncated => "the core file ends before this segment's data (truncated)".into(),
            Reason::Failed { error, .. } => error.clone(),
        }
    }
}

impl Report {
    fn exit_code(&self) -> u8 {
        if !self.hits.is_empty() {
            EXIT_FOUND
        } else if self.unreadable.iter().any(|u| !u.reason.is_by_design()) {
            EXIT_INCOMPLETE
        } else {
            0
        }
    }
}

pub(crate) fn run(args: InspectArgs) -> ExitCode {
    match inspect(&args) {
        Ok(report) => {
            if args.json {
                println!("{}", serde_json::to_string_pretty(&to_json(&report)).expect("JSON values always serialize"));
            } else {
                print_text(&report);
            }
            ExitCode::from(report.exit_code())
        }
        Err(message) => {
            eprintln!("strongroom inspect: {message}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn inspect(args: &InspectArgs) -> Result<Report, String> {
    let secret = match &args.secret_file {
        Some(path) => read_secret_file(path)?,
        None => read_secret(RawStdin).map_err(|e| format!("standard input: {e}"))?,
    };
    // The mappings are listed after the secret is read (perhaps typed), as late as may be.
    let process = args.pid.map(Process::open).transpose()?;
    let core = args.core.as_deref().map(CoreFile::open).transpose()?;
    let mut report = Report {
        secret_len: secret.len(),
        process,
        core,
        mappings_searched: 0,
        no_access: 0,
        untouched: 0,
        bytes_searched: 0,
        core_bytes_searched: 0,
        hits: Vec::new(),
        unreadable: Vec::new(),
    };
    // The search engine's state (the finder keeps a hash and the rarest bytes of the
    // needle) lives on the secure stack, wiped when the call returns.
    let searched = strongroom::stack::run(|| {
        secret.with(|needle| {
            let finder = Finder::new(needle);
            // It holds the target's memory, and so perhaps the secret: wiped when dropped.
            let mut window = Zeroizing::new(vec![0u8; WINDOW + needle.len() - 1]);
            search(&finder, &mut window, &mut report)
        })
    });
    match searched {
        Ok(Ok(result)) => result?,
        Ok(Err(e)) | Err(e) => return Err(e.to_string()),
    }
    Ok(report)
}

fn search(finder: &Finder<'_>, window: &mut [u8], report: &mut Report) -> Result<(), String> {
    if let Some(process) = &report.process {
        let found = process.search(finder, window)?;
        report.mappings_searched = found.mappings_searched;
        report.no_access = found.no_access;
        report.untouched = found.untouched;
        report.bytes_searched = found.bytes;
        report.hits.extend(found.hits);
        report.unreadable.extend(found.unreadable);
    }
    if let Some(core) = &report.core {
        let mappings = report.process.as_ref().map(|p| p.mappings.as_slice());
        let (bytes, hits, unreadable) = core.search(finder, window, mappings)?;
        report.core_bytes_searched = bytes;
        report.hits.extend(hits);
        report.unreadable.extend(unreadable);
    }
    Ok(())
}

// The secret -------------------------------------------------------------------------------

/// Standard input read with read(2): std's `Stdin` would stage the secret in its heap buffer.
struct RawStdin;

impl Read for RawStdin {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Ok(rustix::io::read(rustix::stdio::stdin(), buf)?)
    }
}

/// A secret file, read straight into protected memory; warns when others may read it.
fn read_secret_file(path: &Path) -> Result<LockedBuffer, String> {
    let file = File::open(path).map_err(at(path, "cannot open the secret file"))?;
    let meta = file.metadata().map_err(at(path, "cannot stat"))?;
    if meta.permissions().mode() & 0o077 != 0 && meta.is_file() {
        eprintln!("strongroom: warning: {} is readable or writable by others; chmod 600 it", path.display());
    }
    read_secret(file).map_err(|e| format!("{}: {e}", path.display()))
}

/// Everything `input` holds, less one trailing `\n` or `\r\n`, read straight into protected
/// memory. Dropping the newline errs on the safe side: a program holds `$TOKEN`, not the
/// newline `echo` added, and searching for one byte less finds every copy of the whole.
fn read_secret(mut input: impl Read) -> Result<LockedBuffer, String> {
    let mut held = SecretVec::<u8>::new();
    let mut piece = LockedBuffer::new(4096).map_err(|e| e.to_string())?;
    loop {
        let n = match piece.with_mut(|buf| input.read(buf)).map_err(|e| e.to_string())? {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.to_string()),
        };
        if held.len() + n > MAX_SECRET {
            return Err(format!("the secret is larger than {MAX_SECRET} bytes"));
        }
        piece.with(|buf| held.extend_from_slice(&buf[..n])).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
    }
    let bytes = held.expose().map_err(|e| e.to_string())?;
    let end = bytes.strip_suffix(b"\r\n").or_else(|| bytes.strip_suffix(b"\n")).unwrap_or(&bytes).len();
    if end < MIN_SECRET {
        return Err(format!(
            "the secret is {end} bytes (after dropping a trailing newline); at least {MIN_SECRET} are needed, \
             since a shorter one would match by chance"
        ));
    }
    let mut out = LockedBuffer::new(end).map_err(|e| e.to_string())?;
    out.copy_from(&bytes[..end]).map_err(|e| e.to_string())?;
    Ok(out)
}

// Searching --------------------------------------------------------------------------------

/// What one pass over a range found.
#[derive(Default)]
struct Scanned {
    hits: Vec<u64>,
    bytes: u64,
    holes: Vec<Hole>,
}

/// A range that could not be read, and the error that said so.
struct Hole {
    range: Range<u64>,
    errno: Option<i32>,
    error: String,
}

/// Searches `range` of a source (`read_at(buf, position)`) for `finder`'s needle, in windows
/// of `window.len()` bytes: every copy is found exactly once, those that straddle two reads
/// included, since each window begins with the last `needle - 1` bytes of the one before
/// (too few to hold a whole copy, so none is found twice). A page that cannot be read
/// becomes a hole, and with `give_up` so does the rest of the range; a copy cannot straddle
/// a hole. `Err(position)` when the source ends early (the process exited, the file shrank).
fn scan(
    finder: &Finder<'_>,
    window: &mut [u8],
    range: Range<u64>,
    give_up: bool,
    read_at: impl Fn(&mut [u8], u64) -> io::Result<usize>,
    out: &mut Scanned,
) -> Result<(), u64> {
    let overlap = finder.needle().len() - 1;
    let fresh = window.len().checked_sub(overlap).filter(|&n| n > 0).expect("the window is longer than the needle");
    let mut kept = 0;
    let mut pos = range.start;
    while pos < range.end {
        let want = fresh.min(usize::try_from(range.end - pos).unwrap_or(usize::MAX));
        match read_at(&mut window[kept..kept + want], pos) {
            Ok(0) => return Err(pos),
            Ok(got) => {
                let filled = kept + got;
                let base = pos - kept as u64;
                out.hits.extend(finder.find_iter(&window[..filled]).map(|i| base + i as u64));
                out.bytes += got as u64;
                pos += got as u64;
                kept = overlap.min(filled);
                window.copy_within(filled - kept..filled, 0);
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let next = if give_up { range.end } else { range.end.min((pos / PAGE + 1).saturating_mul(PAGE)) };
                let errno = e.raw_os_error();
                match out.holes.last_mut() {
                    Some(hole) if hole.range.end == pos && hole.errno == errno => hole.range.end = next,
                    _ => out.holes.push(Hole { range: pos..next, errno, error: e.to_string() }),
                }
                pos = next;
                kept = 0;
            }
        }
    }
    Ok(())
}

// Printing ---------------------------------------------------------------------------------

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} bytes"),
    }
}

/// A mapping in one line: its name, permissions, range and protections.
fn describe_mapping(m: &Mapping) -> String {
    format!("{} ({}, {:#x}-{:#x}): {}", m.name(), m.perms, m.range.start, m.range.end, m.protection_summary())
}

fn print_text(r: &Report) {
    if let Some(p) = &r.process {
        println!(
            "Process {} ({}): {} of {} mappings searched, {}, for a {}-byte secret.",
            p.pid,
            p.command,
            r.mappings_searched,
            p.mappings.len(),
            size(r.bytes_searched),
            r.secret_len
        );
        if r.no_access > 0 {
            println!("  {} no-access mappings skipped (guard pages, reservations: nothing resident)", r.no_access);
        }
        if r.untouched > 0 {
            println!("  {} anonymous mappings skipped: never touched, they read as zeros", r.untouched);
        }
        if !p.flags_known {
            println!("  (no /proc/{}/smaps here: the mappings' protections are unknown)", p.pid);
        }
    }
    if let Some(c) = &r.core {
        let omitted = c.segments.iter().filter(|s| s.omitted()).count();
        let omitted = if omitted > 0 {
            format!(" ({omitted} with no data in the file: left out of the dump)")
        } else {
            String::new()
        };
        println!(
            "Core file {}: {} loaded segments{omitted}, {} searched, for a {}-byte secret.",
            c.path.display(),
            c.segments.len(),
            size(r.core_bytes_searched),
            r.secret_len
        );
    }
    let mappings = r.process.as_ref().map(|p| p.mappings.as_slice()).unwrap_or_default();
    if !r.hits.is_empty() {
        let n = r.hits.len();
        println!("\nFOUND {n} {} of the secret:", if n == 1 { "copy" } else { "copies" });
    }
    for hit in &r.hits {
        let address = hit.address.map_or("(no address)".to_owned(), |a| format!("{a:#018x}"));
        let mapping = hit.mapping.map(|i| describe_mapping(&mappings[i]));
        match (&hit.core, mapping) {
            (None, Some(m)) => println!("  {address}  in {m}"),
            (None, None) => println!("  {address}"),
            (Some((offset, segment)), mapping) => {
                let segment = match (segment, &r.core) {
                    (Some(s), Some(c)) => c.segments[*s].describe(),
                    _ => "outside every loaded segment (headers or notes)".to_owned(),
                };
                println!("  {address}  in the core file at offset {offset}, {segment}");
                if let Some(m) = mapping {
                    println!("  {:18}  in the process: {m}", "");
                }
            }
        }
    }
    if !r.unreadable.is_empty() {
        println!("\nCould not read:");
    }
    for u in &r.unreadable {
        let place = match (u.mapping, u.segment, &r.core) {
            (Some(i), _, _) => mappings[i].name(),
            (None, Some(s), Some(c)) => format!("core segment {}", c.segments[s].describe()),
            _ => "core file".to_owned(),
        };
        let (start, end) = (u.range.start, u.range.end);
        println!("  {start:#x}-{end:#x} ({})  {place}: {}", size(end - start), u.reason.describe());
    }
    println!();
    match r.exit_code() {
        0 => println!("No copy of the secret found."),
        EXIT_INCOMPLETE => println!("No copy of the secret found in what could be read, but the search is incomplete."),
        _ => println!("The secret has copies outside protected memory: see FOUND above."),
    }
}

fn mapping_json(m: &Mapping) -> Value {
    json!({
        "range": [format!("{:#x}", m.range.start), format!("{:#x}", m.range.end)],
        "perms": m.perms,
        "name": m.name(),
        "kind": m.kind().name(),
        "vm_flags": m.vm_flags,
        "dump_excluded": m.has_flag("dd"),
        "locked": m.has_flag("lo"),
        "wipe_on_fork": m.has_flag("wf"),
        "dont_fork": m.has_flag("dc"),
    })
}

fn to_json(r: &Report) -> Value {
    let mappings = r.process.as_ref().map(|p| p.mappings.as_slice()).unwrap_or_default();
    let segment = |s: Option<usize>| r.core.as_ref().zip(s).map(|(c, s)| c.segments[s].to_json());
    let hits: Vec<Value> = r
        .hits
        .iter()
        .map(|h| {
            json!({
                "source": if h.core.is_some() { "core" } else { "memory" },
                "address": h.address.map(|a| format!("{a:#x}")),
                "mapping": h.mapping.map(|i| mapping_json(&mappings[i])),
                "core_offset": h.core.map(|(offset, _)| offset),
                "segment": segment(h.core.and_then(|(_, s)| s)),
            })
        })
        .collect();
    let unreadable: Vec<Value> = r
        .unreadable
        .iter()
        .map(|u| {
            json!({
                "source": if u.mapping.is_some() { "memory" } else { "core" },
                "range": [format!("{:#x}", u.range.start), format!("{:#x}", u.range.end)],
                "bytes": u.range.end - u.range.start,
                "mapping": u.mapping.map(|i| mapping_json(&mappings[i])),
                "segment": segment(u.segment),
                "reason": match u.reason {
                    Reason::SecretMemory => "memfd_secret",
                    Reason::Kernel(_) => "kernel",
                    Reason::Truncated => "truncated",
                    Reason::Failed { .. } => "error",
                },
                "errno": match &u.reason { Reason::Failed { errno, .. } => *errno, _ => None },
                "by_design": u.reason.is_by_design(),
                "detail": u.reason.describe(),
            })
        })
        .collect();
    json!({
        "found": !r.hits.is_empty(),
        "exit_code": r.exit_code(),
        "secret_len": r.secret_len,
        "pid": r.process.as_ref().map(|p| p.pid),
        "command": r.process.as_ref().map(|p| p.command.as_str()),
        "core": r.core.as_ref().map(|c| c.path.display().to_string()),
        "hits": hits,
        "unreadable": unreadable,
        "counts": {
            "hits": r.hits.len(),
            "mappings": mappings.len(),
            "mappings_searched": r.mappings_searched,
            "mappings_no_access": r.no_access,
            "mappings_untouched": r.untouched,
            "mappings_unreadable": r.unreadable.iter().filter_map(|u| u.mapping).collect::<std::collections::BTreeSet<_>>().len(),
            "bytes_searched": r.bytes_searched,
            "core_segments": r.core.as_ref().map(|c| c.segments.len()),
            "core_bytes_searched": r.core.as_ref().map(|_| r.core_bytes_searched),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every copy is found exactly once, wherever it falls against the window edges, and
    /// an unreadable page becomes a hole that no copy straddles.
    #[test]
    fn scan_finds_each_copy_once_across_windows_and_holes() {
        let needle = b"0123456789abcdef";
        for window_len in [needle.len(), needle.len() + 1, 24, 100] {
            for at in [0usize, 1, 7, 15, 16, 17, 23, 40, 100 - needle.len()] {
                let mut source = [b'.'; 100];
                source[at..at + needle.len()].copy_from_slice(needle);
                let read = |buf: &mut [u8], pos: u64| {
                    let pos = pos as usize;
                    let n = buf.len().min(source.len() - pos);
                    buf[..n].copy_from_slice(&source[pos..pos + n]);
                    Ok(n)
                };
                let mut out = Scanned::default();
                let mut window = vec![0u8; window_len + needle.len() - 1];
                scan(&Finder::new(needle), &mut window, 0..100, false, read, &mut out).unwrap();
                assert_eq!(out.hits, [at as u64], "window {window_len}, copy at {at}");
                assert_eq!(out.bytes, 100);
            }
        }
        // Page 1 of 3 fails: the copies in pages 0 and 2 are found, one across the hole is not.
        let mut source = vec![b'.'; 3 * PAGE as usize];
        for at in [10, PAGE as usize - 8, 2 * PAGE as usize + 5] {
            source[at..at + needle.len()].copy_from_slice(needle);
        }
        let read = |buf: &mut [u8], pos: u64| {
            let (start, end) = (pos as usize, pos as usize + buf.len());
            if (PAGE as usize..2 * PAGE as usize).contains(&start) {
                return Err(io::Error::from_raw_os_error(5));
            }
            let end = if start < PAGE as usize { end.min(PAGE as usize) } else { end.min(source.len()) };
            buf[..end - start].copy_from_slice(&source[start..end]);
            Ok(end - start)
        };
        let mut out = Scanned::default();
        let mut window = vec![0u8; 1000 + needle.len() - 1];
        scan(&Finder::new(needle), &mut window, 0..3 * PAGE, false, read, &mut out).unwrap();
        assert_eq!(out.hits, [10, 2 * PAGE + 5]);
        assert_eq!(out.holes.len(), 1);
        assert_eq!(out.holes[0].range, PAGE..2 * PAGE);
        assert_eq!(out.holes[0].errno, Some(5));
    }

    #[test]
    fn the_secret_drops_one_trailing_newline_and_must_be_8_bytes() {
        let secret = read_secret(&b"12345678\n"[..]).unwrap();
        assert_eq!(&*secret.expose().unwrap(), b"12345678");
        let secret = read_secret(&b"12345678\r\n\n"[..]).unwrap();
        assert_eq!(&*secret.expose().unwrap(), b"12345678\r\n");
        assert!(read_secret(&b"1234567\n"[..]).unwrap_err().contains("at least 8"));
    }
}
