//! The process side of `inspect`: the mappings of a running process, from `/proc/PID/smaps`
//! (or `maps` where the kernel has no smaps), each read through `/proc/PID/mem` and searched.
//! Never here: anything that writes to the process or stops it; reading is all it does.

use std::fs::{self, File};
use std::io;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use memchr::memmem::Finder;
use rustix::io::Errno;

use super::{Hit, Reason, Scanned, Unreadable, scan};

/// A running process, opened for reading.
pub(super) struct Process {
    pub(super) pid: u32,
    /// Its name (`/proc/PID/comm`).
    pub(super) command: String,
    pub(super) mappings: Vec<Mapping>,
    /// Whether `smaps` gave the mappings' `VmFlags` and resident sizes.
    pub(super) flags_known: bool,
    mem: File,
}

/// One line of `/proc/PID/maps`, with what `smaps` adds.
pub(super) struct Mapping {
    pub(super) range: Range<u64>,
    /// `rwxp` / `rw-s` and so on.
    pub(super) perms: String,
    /// The path, `[heap]`, `[stack]`, `[vdso]`…, or empty for anonymous memory.
    pub(super) path: String,
    /// `VmFlags` from smaps (`dd` out of dumps, `lo` locked, `wf` wiped on fork, `dc` not
    /// copied on fork…); `None` without smaps.
    pub(super) vm_flags: Option<Vec<String>>,
    /// `Rss` + `Swap` in kB: whether the mapping holds any data at all; `None` without smaps.
    resident_kb: Option<u64>,
}

/// What a mapping is, from its name in `maps`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Heap,
    Stack,
    /// Private anonymous memory, named (`[anon:NAME]`) or not.
    Anonymous,
    File,
    /// `memfd_secret(2)` pages: `/secretmem (deleted)`.
    SecretMemory,
    /// `memfd_create(2)` pages: `/memfd:NAME (deleted)`.
    Memfd,
    /// Shared anonymous or System V memory (`/dev/zero`, `/SYSV…`, `[anon_shmem:…]`).
    SharedMemory,
    /// Provided by the kernel: `[vdso]`, `[vvar]`, `[vsyscall]`…
    Kernel,
}

impl Kind {
    pub(super) fn name(self) -> &'static str {
        match self {
            Kind::Heap => "heap",
            Kind::Stack => "stack",
            Kind::Anonymous => "anonymous",
            Kind::File => "file",
            Kind::SecretMemory => "memfd_secret",
            Kind::Memfd => "memfd",
            Kind::SharedMemory => "shared_memory",
            Kind::Kernel => "kernel",
        }
    }
}

impl Mapping {
    /// The name to show: the path, or `[anon]`.
    pub(super) fn name(&self) -> String {
        if self.path.is_empty() { "[anon]".to_owned() } else { self.path.clone() }
    }

    pub(super) fn kind(&self) -> Kind {
        let p = self.path.as_str();
        match p {
            "" => Kind::Anonymous,
            "[heap]" => Kind::Heap,
            _ if p.starts_with("[stack") => Kind::Stack,
            _ if p.starts_with("[anon:") => Kind::Anonymous,
            _ if p.starts_with("[anon_shmem:") => Kind::SharedMemory,
            _ if p.starts_with('[') => Kind::Kernel,
            _ if p.starts_with("/secretmem") => Kind::SecretMemory,
            _ if p.starts_with("/memfd:") => Kind::Memfd,
            _ if p.starts_with("/dev/zero") || p.starts_with("/SYSV") => Kind::SharedMemory,
            _ => Kind::File,
        }
    }

    pub(super) fn has_flag(&self, flag: &str) -> bool {
        self.vm_flags.as_ref().is_some_and(|flags| flags.iter().any(|f| f == flag))
    }

    /// The protections `VmFlags` shows, in words, then the flags themselves.
    pub(super) fn protection_summary(&self) -> String {
        let Some(flags) = &self.vm_flags else { return "protections unknown (no smaps)".to_owned() };
        let words = [
            ("dd", "excluded from core dumps"),
            ("lo", "locked"),
            ("wf", "wiped in forked children"),
            ("dc", "not in forked children"),
        ];
        let got: Vec<&str> = words.iter().filter(|(f, _)| self.has_flag(f)).map(|(_, w)| *w).collect();
        let verdict = if got.is_empty() { "unprotected".to_owned() } else { got.join(", ") };
        format!("{verdict} [VmFlags: {}]", flags.join(" "))
    }
}

/// What searching a process found.
#[derive(Default)]
pub(super) struct Found {
    pub(super) mappings_searched: usize,
    pub(super) no_access: usize,
    pub(super) untouched: usize,
    pub(super) bytes: u64,
    pub(super) hits: Vec<Hit>,
    pub(super) unreadable: Vec<Unreadable>,
}

impl Process {
    /// Opens `/proc/PID/mem` and lists the mappings; errors say what is missing (the
    /// process, or the permission to read it).
    pub(super) fn open(pid: u32) -> Result<Process, String> {
        if pid == std::process::id() {
            return Err("strongroom inspect cannot search its own memory: give another process's PID".to_owned());
        }
        let failed = |what: &str, e: io::Error| match e.kind() {
            io::ErrorKind::NotFound => format!("no process with PID {pid}"),
            io::ErrorKind::PermissionDenied => permission_denied(pid, &e),
            _ => format!("cannot read /proc/{pid}/{what}: {e}"),
        };
        let mem = File::open(format!("/proc/{pid}/mem")).map_err(|e| failed("mem", e))?;
        let (text, flags_known) = match fs::read(format!("/proc/{pid}/smaps")) {
            Ok(text) => (text, true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                (fs::read(format!("/proc/{pid}/maps")).map_err(|e| failed("maps", e))?, false)
            }
            Err(e) => return Err(failed("smaps", e)),
        };
        let mappings = parse_smaps(&String::from_utf8_lossy(&text));
        if mappings.is_empty() {
            return Err(format!("process {pid} has no user memory to search (a kernel thread, or exiting)"));
        }
        let command =
            fs::read_to_string(format!("/proc/{pid}/comm")).map_or("?".to_owned(), |c| c.trim_end().to_owned());
        Ok(Process { pid, command, mappings, flags_known, mem })
    }

    /// Searches every mapping that can hold data. Skipped: mappings without read permission
    /// and with nothing resident (guard pages, reservations), and anonymous ones never
    /// touched (they read as zeros). A no-access mapping that does hold pages (an
    /// `mprotect`ed secret at rest) is searched: `/proc/PID/mem` reads it all the same.
    pub(super) fn search(&self, finder: &Finder<'_>, window: &mut [u8]) -> Result<Found, String> {
        let mut found = Found::default();
        for (i, m) in self.mappings.iter().enumerate() {
            let holds_nothing = m.resident_kb.is_none_or(|kb| kb == 0);
            if !m.perms.starts_with('r') && holds_nothing {
                found.no_access += 1;
                continue;
            }
            if m.kind() == Kind::Anonymous && m.resident_kb == Some(0) {
                found.untouched += 1;
                continue;
            }
            let mut out = Scanned::default();
            // memfd_secret pages all fail alike: one failed read says it for the mapping.
            let give_up = m.kind() == Kind::SecretMemory;
            scan(finder, window, m.range.clone(), give_up, |buf, at| self.mem.read_at(buf, at), &mut out).map_err(
                |at| format!("process {} exited during the search (its memory was gone at {at:#x})", self.pid),
            )?;
            found.mappings_searched += usize::from(out.bytes > 0);
            found.bytes += out.bytes;
            found.hits.extend(out.hits.into_iter().map(|a| Hit { address: Some(a), mapping: Some(i), core: None }));
            found.unreadable.extend(out.holes.into_iter().map(|hole| {
                let errno = hole.errno.map(Errno::from_raw_os_error);
                let reason = match m.kind() {
                    Kind::SecretMemory if errno == Some(Errno::IO) || errno == Some(Errno::FAULT) => {
                        Reason::SecretMemory
                    }
                    Kind::Kernel => Reason::Kernel(hole.error),
                    _ => Reason::Failed { errno: hole.errno, error: hole.error },
                };
                Unreadable { range: hole.range, mapping: Some(i), segment: None, reason }
            }));
        }
        Ok(found)
    }
}

/// Why `/proc/PID/mem` was refused, and what would allow it here.
fn permission_denied(pid: u32, e: &io::Error) -> String {
    let scope = fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").map(|s| s.trim().to_owned());
    let scope = match scope.as_deref() {
        Ok("0") => "Yama's ptrace_scope is 0 here",
        Ok("1") => {
            "Yama's ptrace_scope is 1 here: only from an ancestor, unless the target allows it with \
             prctl(PR_SET_PTRACER)"
        }
        Ok("2") => "Yama's ptrace_scope is 2 here: only with CAP_SYS_PTRACE",
        Ok("3") => "Yama's ptrace_scope is 3 here: no process may, root included, until reboot",
        _ => "this kernel has no Yama ptrace_scope",
    };
    format!(
        "no permission to read the memory of process {pid} ({e}): run as root or with CAP_SYS_PTRACE. \
         A process of the same user may read it only if the target is dumpable (strongroom::harden() and \
         setuid programs make it not) and ptrace rules allow it; {scope}"
    )
}

/// The mappings in `smaps` (or `maps`) text: each header line opens one, the fields after
/// it fill in `Rss`, `Swap` and `VmFlags`.
fn parse_smaps(text: &str) -> Vec<Mapping> {
    let mut mappings: Vec<Mapping> = Vec::new();
    for line in text.lines() {
        if let Some(mapping) = parse_maps_line(line) {
            mappings.push(mapping);
            continue;
        }
        let Some(m) = mappings.last_mut() else { continue };
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("Rss:" | "Swap:") => {
                let kb: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
                *m.resident_kb.get_or_insert(0) += kb;
            }
            Some("VmFlags:") => m.vm_flags = Some(fields.map(str::to_owned).collect()),
            _ => {}
        }
    }
    mappings
}

/// `start-end perms offset dev inode    path`: the path is the rest of the line after the
/// padding, spaces and ` (deleted)` included.
fn parse_maps_line(line: &str) -> Option<Mapping> {
    let mut parts = line.splitn(6, ' ');
    let (start, end) = parts.next()?.split_once('-')?;
    let range = u64::from_str_radix(start, 16).ok()?..u64::from_str_radix(end, 16).ok()?;
    let perms = parts.next().filter(|p| p.len() == 4)?;
    let (_offset, _device, _inode) = (parts.next()?, parts.next()?, parts.next()?);
    let path = parts.next().unwrap_or("").trim_start().to_owned();
    Some(Mapping { range, perms: perms.to_owned(), path, vm_flags: None, resident_kb: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smaps_gives_each_mapping_its_kind_flags_and_residence() {
        let smaps = "\
55d0c1a2b000-55d0c1a4c000 rw-p 00000000 00:00 0                          [heap]
Rss:                   8 kB
Swap:                  4 kB
VmFlags: rd wr mr mw me ac
7fd404be8000-7fd404be9000 rw-s 00000000 00:0e 2056485                    /secretmem (deleted)
Rss:                   4 kB
VmFlags: rd wr sh mr mw ms lo dd
7fd403f91000-7fd403f93000 ---p 00000000 00:00 0 
Rss:                   0 kB
VmFlags: mr mw me ac
7fd403f93000-7fd403f94000 r--p 00001000 08:01 1234                       /usr/lib/lib with space.so
";
        let m = parse_smaps(smaps);
        assert_eq!(m.len(), 4);
        assert_eq!((m[0].kind(), m[0].resident_kb, m[0].range.start), (Kind::Heap, Some(12), 0x55d0c1a2b000));
        assert_eq!(m[1].kind(), Kind::SecretMemory);
        assert!(m[1].has_flag("dd") && m[1].has_flag("lo") && !m[1].has_flag("wf"));
        assert!(m[1].protection_summary().starts_with("excluded from core dumps, locked ["));
        assert_eq!((m[2].name().as_str(), m[2].kind(), m[2].resident_kb), ("[anon]", Kind::Anonymous, Some(0)));
        assert_eq!(m[2].protection_summary(), "unprotected [VmFlags: mr mw me ac]");
        assert_eq!((m[3].path.as_str(), m[3].kind()), ("/usr/lib/lib with space.so", Kind::File));
        assert_eq!(m[3].vm_flags, None);
    }
}
