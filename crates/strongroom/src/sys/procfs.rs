//! What Linux says about this process and machine under `/proc`: locked memory, capabilities,
//! core-dump settings, and the flags of the mapping that holds a given address.

use std::fs;

/// `CAP_IPC_LOCK`'s bit in the capability sets: with it, locking is not limited.
pub(crate) const CAP_IPC_LOCK: u32 = 14;

/// A `Key:   1234 kB` field of `/proc/self/status`, in KiB.
pub(crate) fn status_kib(key: &str) -> Option<u64> {
    status_field(key)?.split_whitespace().next()?.parse().ok()
}

/// The text after `Key:` in `/proc/self/status`.
pub(crate) fn status_field(key: &str) -> Option<String> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == key).then(|| v.trim().to_owned())
    })
}

/// The effective capability set (`CapEff`) as a bit mask.
pub(crate) fn effective_capabilities() -> Option<u64> {
    u64::from_str_radix(&status_field("CapEff")?, 16).ok()
}

/// A `Key:   1234 kB` field of `/proc/meminfo`, in KiB (e.g. `MemTotal`).
pub(crate) fn meminfo_kib(key: &str) -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok()?;
    meminfo.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        (k == key).then(|| v.split_whitespace().next()?.parse().ok()).flatten()
    })
}

/// The memory limit of this process's cgroup in bytes (cgroup v2 `memory.max`, or v1
/// `memory.limit_in_bytes`); `None` when unlimited or unknown.
pub(crate) fn cgroup_memory_limit() -> Option<u64> {
    let cgroups = fs::read_to_string("/proc/self/cgroup").ok()?;
    let limits = cgroups.lines().filter_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        let file = match controllers {
            "" => format!("/sys/fs/cgroup{path}/memory.max"),
            c if c.split(',').any(|c| c == "memory") => format!("/sys/fs/cgroup/memory{path}/memory.limit_in_bytes"),
            _ => return None,
        };
        fs::read_to_string(file).ok()?.trim().parse::<u64>().ok()
    });
    // v1 reports "no limit" as a huge number near i64::MAX.
    limits.filter(|&limit| limit < 1 << 62).min()
}

/// A file under `/proc/sys`, trimmed; `None` when absent (e.g. no Yama module).
pub(crate) fn sysctl(path: &str) -> Option<String> {
    fs::read_to_string(format!("/proc/sys/{path}")).ok().map(|s| s.trim().to_owned())
}

/// One entry of `/proc/self/smaps`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SmapsEntry {
    /// First address of the mapping.
    pub(crate) start: usize,
    /// One past its last address.
    pub(crate) end: usize,
    /// The `Locked:` field, in KiB.
    pub(crate) locked_kib: u64,
    /// The `Rss:` field, in KiB.
    pub(crate) rss_kib: u64,
    /// The two-letter `VmFlags:` codes (`lo` locked, `dd` no dump, `wf` wipe on fork, ...).
    pub(crate) flags: Vec<String>,
}

impl SmapsEntry {
    /// Whether `VmFlags` carries `code`.
    pub(crate) fn has_flag(&self, code: &str) -> bool {
        self.flags.iter().any(|f| f == code)
    }
}

/// The smaps entry of the mapping that contains `addr`.
pub(crate) fn smaps_entry(addr: usize) -> Option<SmapsEntry> {
    let smaps = fs::read_to_string("/proc/self/smaps").ok()?;
    let mut current: Option<SmapsEntry> = None;
    for line in smaps.lines() {
        if let Some((range, _)) = line.split_once(' ')
            && let Some((lo, hi)) = range.split_once('-')
            && let (Ok(start), Ok(end)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        {
            if current.is_some() {
                break; // the entry we wanted is complete
            }
            if (start..end).contains(&addr) {
                current = Some(SmapsEntry { start, end, locked_kib: 0, rss_kib: 0, flags: Vec::new() });
            }
            continue;
        }
        let Some(entry) = current.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let kib = || value.split_whitespace().next().and_then(|v| v.parse().ok()).unwrap_or(0);
        match key {
            "Locked" => entry.locked_kib = kib(),
            "Rss" => entry.rss_kib = kib(),
            "VmFlags" => entry.flags = value.split_whitespace().map(str::to_owned).collect(),
            _ => {}
        }
    }
    current
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_mapping_of_a_stack_address() {
        let here = 0u8;
        let entry = smaps_entry(&here as *const u8 as usize).expect("the stack is mapped");
        assert!(entry.start <= &here as *const u8 as usize && (&here as *const u8 as usize) < entry.end);
        assert!(entry.has_flag("rd") && entry.has_flag("wr"), "stack flags: {:?}", entry.flags);
    }

    #[test]
    fn reads_status_fields() {
        assert!(status_kib("VmRSS").unwrap() > 0);
        assert!(effective_capabilities().is_some());
    }
}
