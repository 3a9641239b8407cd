//! The core-file side of `inspect`: an ELF64 core file (from gcore or the kernel), its
//! loaded segments (`PT_LOAD`: where each lies in memory and in the file), and the whole
//! file searched, so that a copy in a note or a header is found too. Never here: trusting
//! the file's numbers before checking them against its length.

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use memchr::memmem::Finder;
use serde_json::{Value, json};

use super::process::Mapping;
use super::{Hit, Reason, Scanned, Unreadable, scan};
use crate::keyfile::at;

/// `e_type` of a core file.
const ET_CORE: u16 = 4;
/// `p_type` of a loaded segment.
const PT_LOAD: u32 = 1;
/// `e_phnum` saying the real count is in section header 0's `sh_info` (large core files).
const PN_XNUM: u64 = 0xffff;

/// A core file, opened, with its loaded segments.
pub(super) struct CoreFile {
    pub(super) path: PathBuf,
    pub(super) segments: Vec<Segment>,
    file: File,
    len: u64,
}

/// One `PT_LOAD` program header: `memsz` bytes at `vaddr` in memory, of which the first
/// `filesz` are in the file at `offset` (none when the mapping was left out of the dump).
pub(super) struct Segment {
    vaddr: u64,
    memsz: u64,
    offset: u64,
    filesz: u64,
    /// `PF_R` 4, `PF_W` 2, `PF_X` 1.
    flags: u32,
}

impl Segment {
    fn file_range(&self) -> Range<u64> {
        self.offset..self.offset.saturating_add(self.filesz)
    }

    fn perms(&self) -> String {
        [(4, 'r'), (2, 'w'), (1, 'x')].iter().map(|&(bit, c)| if self.flags & bit != 0 { c } else { '-' }).collect()
    }

    /// Whether the dump left the memory out (`VM_DONTDUMP`, or the dump filter).
    pub(super) fn omitted(&self) -> bool {
        self.filesz == 0 && self.memsz > 0
    }

    pub(super) fn describe(&self) -> String {
        format!("segment {:#x}-{:#x} ({})", self.vaddr, self.vaddr.saturating_add(self.memsz), self.perms())
    }

    pub(super) fn to_json(&self) -> Value {
        json!({
            "range": [format!("{:#x}", self.vaddr), format!("{:#x}", self.vaddr.saturating_add(self.memsz))],
            "perms": self.perms(),
            "file_offset": self.offset,
            "file_bytes": self.filesz,
        })
    }
}

/// Reads the file's integers in its byte order.
struct Fields {
    big_endian: bool,
}

impl Fields {
    fn bytes<const N: usize>(&self, b: &[u8], at: usize) -> [u8; N] {
        let mut out: [u8; N] = b[at..at + N].try_into().expect("the caller checked the length");
        if self.big_endian {
            out.reverse();
        }
        out
    }
    fn u16(&self, b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes(self.bytes(b, at))
    }
    fn u32(&self, b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(self.bytes(b, at))
    }
    fn u64(&self, b: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(self.bytes(b, at))
    }
}

impl CoreFile {
    /// Opens `path` and reads its program headers (ELF64, either byte order, `ET_CORE`).
    pub(super) fn open(path: &Path) -> Result<CoreFile, String> {
        let file = File::open(path).map_err(at(path, "cannot open the core file"))?;
        let len = file.metadata().map_err(at(path, "cannot stat"))?.len();
        let not_core = |why: &str| format!("{}: not an ELF64 core file ({why})", path.display());
        let mut header = [0u8; 64];
        file.read_exact_at(&mut header, 0).map_err(|_| not_core("shorter than an ELF header"))?;
        if header[..4] != *b"\x7fELF" {
            return Err(not_core("no ELF magic number"));
        }
        if header[4] != 2 {
            return Err(not_core("not ELF64"));
        }
        let fields = match header[5] {
            1 => Fields { big_endian: false },
            2 => Fields { big_endian: true },
            _ => return Err(not_core("unknown byte order")),
        };
        let e_type = fields.u16(&header, 16);
        if e_type != ET_CORE {
            return Err(not_core(&format!("ELF type {e_type}, where a core file is {ET_CORE}")));
        }
        let phoff = fields.u64(&header, 32);
        let phentsize = u64::from(fields.u16(&header, 54));
        let mut phnum = u64::from(fields.u16(&header, 56));
        if phnum == PN_XNUM {
            let mut section = [0u8; 64];
            file.read_exact_at(&mut section, fields.u64(&header, 40))
                .map_err(|_| not_core("PN_XNUM, but no section header 0"))?;
            phnum = u64::from(fields.u32(&section, 44));
        }
        if phentsize < 56 {
            return Err(not_core("program headers shorter than 56 bytes"));
        }
        let table_len = phnum
            .checked_mul(phentsize)
            .filter(|&n| phoff.checked_add(n).is_some_and(|end| end <= len))
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(|| not_core("its program headers lie past its end"))?;
        let mut table = vec![0u8; table_len];
        file.read_exact_at(&mut table, phoff).map_err(at(path, "cannot read"))?;
        let segments = table
            .chunks_exact(phentsize as usize)
            .filter(|h| fields.u32(h, 0) == PT_LOAD)
            .map(|h| Segment {
                flags: fields.u32(h, 4),
                offset: fields.u64(h, 8),
                vaddr: fields.u64(h, 16),
                filesz: fields.u64(h, 32),
                memsz: fields.u64(h, 40),
            })
            .collect();
        Ok(CoreFile { path: path.to_owned(), segments, file, len })
    }

    /// Searches the whole file: returns the bytes searched, each copy (with its virtual
    /// address when it lies in a loaded segment, and the process's mapping there when
    /// `mappings` are known), and the segments the file is too short to hold.
    pub(super) fn search(
        &self,
        finder: &Finder<'_>,
        window: &mut [u8],
        mappings: Option<&[Mapping]>,
    ) -> Result<(u64, Vec<Hit>, Vec<Unreadable>), String> {
        let mut out = Scanned::default();
        let shrank =
            |at| format!("{}: the file shrank during the search (it ended at offset {at})", self.path.display());
        scan(finder, window, 0..self.len, true, |buf, at| self.file.read_at(buf, at), &mut out).map_err(shrank)?;
        if let Some(hole) = out.holes.first() {
            return Err(format!("{}: cannot read at offset {}: {}", self.path.display(), hole.range.start, hole.error));
        }
        let mapping_at = |address: u64| mappings.and_then(|ms| ms.iter().position(|m| m.range.contains(&address)));
        let hits = out
            .hits
            .iter()
            .map(|&offset| {
                let segment = self.segments.iter().position(|s| s.file_range().contains(&offset));
                let address = segment.map(|s| self.segments[s].vaddr.wrapping_add(offset - self.segments[s].offset));
                Hit { address, mapping: address.and_then(mapping_at), core: Some((offset, segment)) }
            })
            .collect();
        let truncated = self
            .segments
            .iter()
            .enumerate()
            .filter(|(_, s)| s.file_range().end > self.len)
            .map(|(i, s)| {
                let present = self.len.saturating_sub(s.offset).min(s.filesz);
                let range = s.vaddr.saturating_add(present)..s.vaddr.saturating_add(s.filesz);
                Unreadable { range, mapping: None, segment: Some(i), reason: Reason::Truncated }
            })
            .collect();
        Ok((out.bytes, hits, truncated))
    }
}
