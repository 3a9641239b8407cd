//! The document's text: a gap buffer over `SecureAlloc`, with a line index that lives in
//! protected memory too.
//!
//! No text-editor crate keeps its text in a custom allocator (tui-textarea holds
//! `Vec<String>`, ropey `Arc` nodes on the global heap, edtui `Vec<Vec<char>>`), so this one is
//! ours. Offsets are byte offsets into the UTF-8 text; the editor keeps them on char
//! boundaries with [`Text::next_boundary`] and [`Text::prev_boundary`].
//!
//! The buffer is one protected block: the text before the gap, the gap, the text after it.
//! The gap is always zeros (deleted bytes are wiped as they join it, and bytes the gap moves
//! over are wiped behind it), and the block is replaced, never grown in place, so no stale
//! copy of the text survives anywhere: `SecureAlloc` wipes every block it frees.

use std::ops::Range;

use memchr::memmem;
use strongroom::{Enclave, Error, Result, SecretVec, SecureAlloc};

/// A vector in protected memory.
type SecureVec<T> = strongroom::allocator_api2::vec::Vec<T, SecureAlloc>;

/// The least gap a block gets, so that typing rarely reallocates.
const MIN_GAP: usize = 4096;

/// The gap of a freshly loaded text: `1/LOAD_GAP` of it (at least [`MIN_GAP`]). Room to type
/// a lot before the first reallocation, at a small part of the load's cost: every page of a
/// new protected block costs a fault when first touched (a `memfd_secret` page, ~19 ms per MiB
/// on the machine this was measured on), and it is all locked memory.
const LOAD_GAP: usize = 16;

/// The error for a failed protected allocation: the reason `SecureAlloc` recorded, if any.
fn alloc_error() -> Error {
    SecureAlloc::last_error().unwrap_or(Error::TooLarge)
}

/// A zero-filled block of `len` bytes in protected memory.
fn zeroed(len: usize) -> Result<SecureVec<u8>> {
    let mut buf = SecureVec::new_in(SecureAlloc::new());
    buf.try_reserve_exact(len).map_err(|_| alloc_error())?;
    buf.resize(len, 0);
    Ok(buf)
}

/// Whether `byte` continues a UTF-8 sequence (`10xxxxxx`).
fn is_continuation(byte: u8) -> bool {
    byte & 0xC0 == 0x80
}

/// How many bytes a char led by `byte` has; 1 for a byte that cannot lead one (so an invalid
/// byte is a char of its own).
fn char_width(byte: u8) -> usize {
    match byte {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

/// Whether `byte` belongs to a word: ASCII alphanumerics, `_`, and every non-ASCII byte (so a
/// multi-byte char is never split by a word motion).
fn is_word(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// The text of the document: a gap buffer in protected memory.
pub struct Text {
    /// The text before the gap, the gap (always zeros), the text after it. Every byte is
    /// initialised: `buf.len()` is the whole block.
    buf: SecureVec<u8>,
    /// Where the gap starts in `buf` (also the text offset of the first byte after it).
    gap_start: usize,
    /// Where the gap ends in `buf` (exclusive).
    gap_end: usize,
    /// The text offsets of every `\n`, ascending: the line structure is document information
    /// too, so it lives in protected memory.
    newlines: SecureVec<usize>,
}

impl Text {
    /// An empty text that holds no block yet.
    fn empty() -> Text {
        Text {
            buf: SecureVec::new_in(SecureAlloc::new()),
            gap_start: 0,
            gap_end: 0,
            newlines: SecureVec::new_in(SecureAlloc::new()),
        }
    }

    /// Whether the document is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A document holding `bytes` (copied into protected memory; the caller wipes its copy).
    pub fn from_bytes(bytes: &[u8]) -> Result<Text> {
        Text::filled(bytes.len(), |out| {
            out.copy_from_slice(bytes);
            Ok(())
        })
    }

    /// A document of `len` bytes that `fill` writes straight into the text's own block
    /// (decrypting into it, say): the text is written once, where it stays, with no second
    /// protected copy. An error from `fill` is returned, and the block is wiped as it goes.
    pub fn filled(len: usize, fill: impl FnOnce(&mut [u8]) -> Result<()>) -> Result<Text> {
        let gap = MIN_GAP.max(len / LOAD_GAP);
        let mut buf = zeroed(len.checked_add(gap).ok_or(Error::TooLarge)?)?;
        fill(&mut buf[..len])?;
        let newlines = on_secure_stack(|| newline_index(&buf[..len]))??;
        Ok(Text { buf, gap_start: len, gap_end: len + gap, newlines })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.buf.len() - (self.gap_end - self.gap_start)
    }

    /// Number of lines: always at least 1; a trailing `\n` starts an empty last line.
    pub fn line_count(&self) -> usize {
        self.newlines.len() + 1
    }

    /// Offset of the first byte of `line` (0-based); `line` < `line_count()` (a larger one
    /// is taken as the last line).
    pub fn line_start(&self, line: usize) -> usize {
        match line.min(self.newlines.len()) {
            0 => 0,
            line => self.newlines[line - 1] + 1,
        }
    }

    /// Offset just past the last byte of `line`, not counting its `\n`.
    pub fn line_end(&self, line: usize) -> usize {
        self.newlines.get(line).copied().unwrap_or_else(|| self.len())
    }

    /// The line holding `offset` (`offset` ≤ `len()`); a `\n` belongs to the line it ends.
    pub fn line_of(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&newline| newline < offset)
    }

    /// `range` clamped to the text (and to an empty range if it runs backwards).
    fn clamp(&self, range: Range<usize>) -> (usize, usize) {
        let end = range.end.min(self.len());
        (range.start.min(end), end)
    }

    /// The byte at text offset `at` (< `len()`).
    fn byte_at(&self, at: usize) -> u8 {
        if at < self.gap_start { self.buf[at] } else { self.buf[at - self.gap_start + self.gap_end] }
    }

    /// The bytes of `range` as the two sides of the gap (either may be empty).
    pub fn slices(&self, range: Range<usize>) -> (&[u8], &[u8]) {
        let (start, end) = self.clamp(range);
        let gap = self.gap_start;
        let after = |at: usize| at.max(gap) - gap + self.gap_end;
        (&self.buf[start.min(gap)..end.min(gap)], &self.buf[after(start)..after(end)])
    }

    /// The bytes of `range` in one slice (moves the gap out of `range` if it lies inside).
    pub fn contiguous(&mut self, range: Range<usize>) -> &[u8] {
        let (start, end) = self.clamp(range);
        if start < self.gap_start && self.gap_start < end {
            // Move the gap past the shorter side of the range: fewer bytes move.
            if self.gap_start - start < end - self.gap_start { self.move_gap(start) } else { self.move_gap(end) }
        }
        let (before, after) = self.slices(start..end);
        if before.is_empty() { after } else { before }
    }

    /// Moves the gap to text offset `to`, wiping the bytes it moves over so it stays zeros.
    fn move_gap(&mut self, to: usize) {
        let to = to.min(self.len());
        let (start, end) = (self.gap_start, self.gap_end);
        let gap = end - start;
        if to < start {
            // Text [to, start) moves to the end of the gap; the new gap covers its old place.
            self.buf.copy_within(to..start, end - (start - to));
            self.buf[to..start.min(to + gap)].fill(0);
        } else if to > start {
            // The text after the gap up to offset `to` moves to its start.
            let moved = to - start;
            self.buf.copy_within(end..end + moved, start);
            self.buf[end.max(to)..end + moved].fill(0);
        }
        self.gap_start = to;
        self.gap_end = to + gap;
    }

    /// Moves the text into a new block of `size` bytes with the gap at `at`; the old block is
    /// wiped as it is freed.
    fn reallocate(&mut self, at: usize, size: usize) -> Result<()> {
        let len = self.len();
        let mut buf = zeroed(size)?;
        let (a, b) = self.slices(0..at);
        buf[..a.len()].copy_from_slice(a);
        buf[a.len()..at].copy_from_slice(b);
        let tail = size - (len - at);
        let (c, d) = self.slices(at..len);
        buf[tail..tail + c.len()].copy_from_slice(c);
        buf[tail + c.len()..].copy_from_slice(d);
        self.buf = buf;
        self.gap_start = at;
        self.gap_end = tail;
        Ok(())
    }

    /// The block size for a text of `len` bytes: half as much again (geometric growth keeps
    /// typing amortised O(1); 1.5 rather than 2 because new protected pages are slow to touch
    /// and locked, see [`LOAD_GAP`]), with a gap of at least [`MIN_GAP`].
    fn block_size(len: usize) -> Result<usize> {
        len.checked_add(MIN_GAP.max(len / 2)).ok_or(Error::TooLarge)
    }

    /// Inserts `bytes` at `at` (clamped to `len()`). On error the text is unchanged.
    pub fn insert(&mut self, at: usize, bytes: &[u8]) -> Result<()> {
        match bytes.len() {
            // A typed char: too short for the vectorised scan, and on the stack already
            // (the terminal event that brought it).
            0 | 1 => self.insert_scanning(at, bytes),
            _ => on_secure_stack(|| self.insert_scanning(at, bytes))?,
        }
    }

    /// [`Text::insert`], scanning `bytes` for newlines where it runs.
    fn insert_scanning(&mut self, at: usize, bytes: &[u8]) -> Result<()> {
        let len = self.len();
        let (at, n) = (at.min(len), bytes.len());
        if n == 0 {
            return Ok(());
        }
        // Everything that can fail comes before the first change.
        let added = memchr::memchr_iter(b'\n', bytes).count();
        self.newlines.try_reserve(added).map_err(|_| alloc_error())?;
        if self.gap_end - self.gap_start < n {
            self.reallocate(at, Self::block_size(len.checked_add(n).ok_or(Error::TooLarge)?)?)?;
        } else {
            self.move_gap(at);
        }
        self.buf[at..at + n].copy_from_slice(bytes);
        self.gap_start += n;

        let first = self.newlines.partition_point(|&newline| newline < at);
        for newline in &mut self.newlines[first..] {
            *newline += n;
        }
        if added > 0 {
            let old = self.newlines.len();
            self.newlines.resize(old + added, 0); // within the capacity reserved above
            self.newlines.copy_within(first..old, first + added);
            let new = memchr::memchr_iter(b'\n', bytes).map(|i| at + i);
            for (slot, newline) in self.newlines[first..first + added].iter_mut().zip(new) {
                *slot = newline;
            }
        }
        Ok(())
    }

    /// Removes `range`; the removed bytes are wiped (they stay nowhere).
    pub fn delete(&mut self, range: Range<usize>) {
        let (start, end) = self.clamp(range);
        if start == end {
            return;
        }
        // Bring the gap to the range (it may already touch or split it), then widen it over
        // the range, wiping what it takes in.
        if self.gap_start < start {
            self.move_gap(start);
        } else if self.gap_start > end {
            self.move_gap(end);
        }
        let after = end - self.gap_start;
        self.buf[start..self.gap_start].fill(0);
        self.buf[self.gap_end..self.gap_end + after].fill(0);
        self.gap_start = start;
        self.gap_end += after;

        let n = end - start;
        let first = self.newlines.partition_point(|&newline| newline < start);
        let last = self.newlines.partition_point(|&newline| newline < end);
        let old = self.newlines.len();
        let kept = old - (last - first);
        self.newlines.copy_within(last..old, first);
        for newline in &mut self.newlines[first..kept] {
            *newline -= n;
        }
        // Truncating leaves the vacated slots in the block: wipe them first.
        self.newlines[kept..].fill(0);
        self.newlines.truncate(kept);

        // Give back most of a block that is now mostly gap (best effort: on failure the
        // larger block stays, and is still all protected).
        let len = self.len();
        if self.buf.len() > 4 * len.max(MIN_GAP)
            && let Ok(size) = Self::block_size(len)
        {
            let _ = self.reallocate(self.gap_start, size);
        }
    }

    /// Appends the bytes of `range` to `out`. On error `out` is unchanged.
    pub fn copy_into(&self, range: Range<usize>, out: &mut SecretVec<u8>) -> Result<()> {
        let (before, after) = self.slices(range);
        out.reserve(before.len() + after.len())?; // so that the second append cannot fail
        out.extend_from_slice(before)?;
        out.extend_from_slice(after)
    }

    /// The next match of `pattern` starting after (`forward`) or before `from`, wrapping
    /// around the end; `None` when there is none (or `pattern` is empty).
    ///
    /// Forward, the match starts are tried in the order `from + 1, …, len, 0, …, from`;
    /// backward, `from - 1, …, 0, len, …, from`: so a match at `from` itself is found only
    /// when it is the only one, and "find next" from a match's start finds the next one.
    /// It runs on the secure stack, which is wiped after: the search code keeps chunks of
    /// the text it reads, and the pattern, in stack slots. An error only if that stack cannot
    /// be had.
    pub fn find(&self, pattern: &[u8], from: usize, forward: bool) -> Result<Option<usize>> {
        on_secure_stack(|| self.find_here(pattern, from, forward))
    }

    /// [`Text::find`], on whatever stack it is called.
    fn find_here(&self, pattern: &[u8], from: usize, forward: bool) -> Option<usize> {
        let len = self.len();
        if pattern.is_empty() || pattern.len() > len {
            return None;
        }
        let from = from.min(len);
        if forward {
            let finder = memmem::Finder::new(pattern);
            self.first_in(&finder, from + 1, len + 1).or_else(|| self.first_in(&finder, 0, from + 1))
        } else {
            let finder = memmem::FinderRev::new(pattern);
            self.last_in(&finder, 0, from).or_else(|| self.last_in(&finder, from, len + 1))
        }
    }

    /// The first match starting in `lo..hi` (it may end past `hi`): in the text before the
    /// gap, across the gap, then after it, each searched in place (no copy).
    fn first_in(&self, finder: &memmem::Finder<'_>, lo: usize, hi: usize) -> Option<usize> {
        let m = finder.needle().len();
        let (gap, after) = (self.gap_start, &self.buf[self.gap_end..]);
        let reach = hi.saturating_add(m - 1); // a match starting before `hi` ends by here
        let end = reach.min(gap);
        if lo < end
            && let Some(i) = finder.find(&self.buf[lo..end])
        {
            return Some(lo + i);
        }
        let across = lo.max(gap.saturating_sub(m - 1))..hi.min(gap);
        if let Some(at) = across.into_iter().find(|&at| self.matches_across(finder.needle(), at)) {
            return Some(at);
        }
        let (start, end) = (lo.max(gap) - gap, reach.saturating_sub(gap).min(after.len()));
        if start < end { finder.find(&after[start..end]).map(|i| gap + start + i) } else { None }
    }

    /// The last match starting in `lo..hi` (it may end past `hi`), mirroring
    /// [`Text::first_in`].
    fn last_in(&self, finder: &memmem::FinderRev<'_>, lo: usize, hi: usize) -> Option<usize> {
        let m = finder.needle().len();
        let (gap, after) = (self.gap_start, &self.buf[self.gap_end..]);
        let reach = hi.saturating_add(m - 1);
        let (start, end) = (lo.max(gap) - gap, reach.saturating_sub(gap).min(after.len()));
        if start < end
            && let Some(i) = finder.rfind(&after[start..end])
        {
            return Some(gap + start + i);
        }
        let across = lo.max(gap.saturating_sub(m - 1))..hi.min(gap);
        if let Some(at) = across.into_iter().rev().find(|&at| self.matches_across(finder.needle(), at)) {
            return Some(at);
        }
        let end = reach.min(gap);
        if lo < end { finder.rfind(&self.buf[lo..end]).map(|i| lo + i) } else { None }
    }

    /// Whether `pattern` occurs at `at`, which lies less than `pattern.len()` before the gap
    /// (so the match would straddle it): each side compared where it lies.
    fn matches_across(&self, pattern: &[u8], at: usize) -> bool {
        let split = self.gap_start - at; // pattern bytes before the gap
        let rest = self.gap_end..self.gap_end + (pattern.len() - split);
        rest.end <= self.buf.len()
            && self.buf[at..self.gap_start] == pattern[..split]
            && self.buf[rest] == pattern[split..]
    }

    /// The char boundary after `offset` (or `len()`).
    pub fn next_boundary(&self, offset: usize) -> usize {
        let len = self.len();
        if offset >= len {
            return len;
        }
        let end = (offset + char_width(self.byte_at(offset))).min(len);
        let mut next = offset + 1;
        while next < end && is_continuation(self.byte_at(next)) {
            next += 1;
        }
        next
    }

    /// The char boundary before `offset` (or 0).
    pub fn prev_boundary(&self, offset: usize) -> usize {
        let offset = offset.min(self.len());
        if offset == 0 {
            return 0;
        }
        // The char ending at `offset` starts at most 3 continuation bytes further back; if
        // no lead byte there reaches `offset`, the byte before it is a char of its own.
        let mut lead = offset - 1;
        while lead > 0 && offset - lead < 4 && is_continuation(self.byte_at(lead)) {
            lead -= 1;
        }
        if self.next_boundary(lead) == offset { lead } else { offset - 1 }
    }

    /// The start of the next word after `offset` (Ctrl-Right): past the rest of the word at
    /// `offset`, then past everything that is not a word (across lines); `len()` at the end.
    pub fn word_right(&self, offset: usize) -> usize {
        let len = self.len();
        let mut at = offset.min(len);
        while at < len && is_word(self.byte_at(at)) {
            at += 1;
        }
        while at < len && !is_word(self.byte_at(at)) {
            at += 1;
        }
        at
    }

    /// The start of the word before `offset` (Ctrl-Left): back over what is not a word
    /// (across lines), then to the start of the word; 0 at the start.
    pub fn word_left(&self, offset: usize) -> usize {
        let mut at = offset.min(self.len());
        while at > 0 && !is_word(self.byte_at(at - 1)) {
            at -= 1;
        }
        while at > 0 && is_word(self.byte_at(at - 1)) {
            at -= 1;
        }
        at
    }

    /// Seals the whole text into an [`Enclave`] and empties (and wipes) this one, which stays
    /// usable as an empty text. On error the text is wiped and emptied all the same (a lock
    /// that fails must not leave the plaintext behind).
    pub fn seal(&mut self) -> Result<Enclave> {
        let len = self.len();
        self.move_gap(len);
        let sealed = Enclave::new(&mut self.buf[..len]); // wipes the text, even on error
        *self = Text::empty(); // the blocks are wiped again as they are freed
        sealed
    }

    /// The text sealed by [`Text::seal`] (an empty one too: an enclave of no bytes opens to
    /// an empty buffer, and still authenticates).
    pub fn unseal(sealed: &Enclave) -> Result<Text> {
        let plain = sealed.open()?; // a LockedBuffer: wiped as it is dropped
        plain.with(Text::from_bytes)?
    }
}

/// Runs `scan` on strongroom's secure stack, which is locked and wiped after. Scanning the
/// text (memchr, memmem) reads it in 16- and 32-byte vectors that the code may keep in
/// stack slots (unoptimised, it always does), and the ordinary stack is never wiped: there,
/// off-screen lines would stay readable.
fn on_secure_stack<R>(scan: impl FnOnce() -> R) -> Result<R> {
    strongroom::stack::run(scan)
}

/// The offsets of every `\n` in `bytes`, with room for new lines too, so that typing does
/// not soon reallocate the index.
fn newline_index(bytes: &[u8]) -> Result<SecureVec<usize>> {
    let lines = memchr::memchr_iter(b'\n', bytes).count();
    let mut newlines = SecureVec::new_in(SecureAlloc::new());
    newlines.try_reserve_exact(lines + lines / LOAD_GAP + 64).map_err(|_| alloc_error())?;
    newlines.extend(memchr::memchr_iter(b'\n', bytes));
    Ok(newlines)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use proptest::prelude::*;

    use super::*;

    /// Proptest settings: failures are reported with their minimal case, and no regression
    /// files are written into the source tree.
    fn config() -> ProptestConfig {
        ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
    }

    /// The whole text, copied out (tests may use ordinary memory).
    fn contents(text: &Text) -> Vec<u8> {
        let (a, b) = text.slices(0..text.len());
        [a, b].concat()
    }

    /// Checks `text` against `model`: contents, the zeroed gap, the line index and every
    /// line query.
    fn check(text: &Text, model: &[u8]) {
        assert_eq!(text.len(), model.len());
        assert_eq!(contents(text), model);
        assert!(text.buf[text.gap_start..text.gap_end].iter().all(|&b| b == 0), "stale bytes in the gap");
        let newlines: Vec<usize> = (0..model.len()).filter(|&i| model[i] == b'\n').collect();
        assert_eq!(&text.newlines[..], &newlines[..]);
        assert_eq!(text.line_count(), newlines.len() + 1);
        for line in 0..text.line_count() {
            let start = if line == 0 { 0 } else { newlines[line - 1] + 1 };
            let end = newlines.get(line).copied().unwrap_or(model.len());
            assert_eq!((text.line_start(line), text.line_end(line)), (start, end), "line {line}");
            assert_eq!((text.line_of(start), text.line_of(end)), (line, line), "line {line}");
        }
        let mut line = 0;
        for offset in 0..=model.len() {
            assert_eq!(text.line_of(offset), line, "offset {offset}");
            line += usize::from(model.get(offset) == Some(&b'\n'));
        }
    }

    /// Checks `find` both ways from every offset (and one past the end) against a brute
    /// force reading of its contract: the first match starting after `from` (else the first
    /// of all), or the last starting before it (else the last of all).
    fn check_find(text: &Text, model: &[u8], pattern: &[u8]) {
        let starts: Vec<usize> =
            (0..model.len()).filter(|&i| !pattern.is_empty() && model[i..].starts_with(pattern)).collect();
        for from in 0..=model.len() + 1 {
            let at = from.min(model.len());
            let forward = starts.iter().copied().find(|&s| s > at).or_else(|| starts.first().copied());
            let backward = starts.iter().copied().rev().find(|&s| s < at).or_else(|| starts.last().copied());
            assert_eq!(text.find_here(pattern, from, true), forward, "{pattern:?} forward from {from}");
            assert_eq!(text.find_here(pattern, from, false), backward, "{pattern:?} backward from {from}");
        }
    }

    /// One random operation on a text and its model.
    #[derive(Clone, Debug)]
    enum Op {
        /// Insert bytes at a position (modulo `len + 1`).
        Insert(usize, Vec<u8>),
        /// Delete up to this many bytes from a position.
        Delete(usize, usize),
        /// Move the gap to a position.
        MoveGap(usize),
        /// Make a range contiguous (moves the gap out of it).
        Contiguous(usize, usize),
    }

    /// Bytes from a small alphabet (many matches and lines), with a multi-byte char.
    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(prop::sample::select(&b"ab\n\xc3\xa4"[..]), 0..max)
    }

    /// Mostly small edits, some large enough to grow the block past its gap.
    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            6 => (any::<usize>(), bytes(12)).prop_map(|(at, b)| Op::Insert(at, b)),
            1 => (any::<usize>(), bytes(6000)).prop_map(|(at, b)| Op::Insert(at, b)),
            5 => (any::<usize>(), 0..20usize).prop_map(|(at, n)| Op::Delete(at, n)),
            1 => (any::<usize>(), 0..5000usize).prop_map(|(at, n)| Op::Delete(at, n)),
            3 => any::<usize>().prop_map(Op::MoveGap),
            1 => (any::<usize>(), 0..50usize).prop_map(|(at, n)| Op::Contiguous(at, n)),
        ]
    }

    /// Applies `op` to both.
    fn apply(text: &mut Text, model: &mut Vec<u8>, op: &Op) {
        let len = model.len();
        match *op {
            Op::Insert(at, ref bytes) => {
                let at = at % (len + 1);
                text.insert(at, bytes).unwrap();
                model.splice(at..at, bytes.iter().copied());
            }
            Op::Delete(at, n) => {
                let at = at % (len + 1);
                let end = (at + n).min(len);
                text.delete(at..end);
                model.drain(at..end);
            }
            Op::MoveGap(at) => text.move_gap(at % (len + 1)),
            Op::Contiguous(at, n) => {
                let at = at % (len + 1);
                let end = (at + n).min(len);
                assert_eq!(text.contiguous(at..end), &model[at..end]);
            }
        }
    }

    proptest! {
        #![proptest_config(config())]

        /// Random edits and gap moves agree with a plain `Vec<u8>`: contents, length, the gap
        /// all zeros, every line query, and `find` both ways from every offset.
        #[test]
        fn edits_agree_with_a_vec(
            initial in bytes(200),
            ops in prop::collection::vec(op(), 0..40),
            patterns in prop::collection::vec(prop::collection::vec(prop::sample::select(&b"ab\n"[..]), 1..4), 1..4),
        ) {
            let mut text = Text::from_bytes(&initial).unwrap();
            let mut model = initial.clone();
            for op in &ops {
                apply(&mut text, &mut model, op);
                check(&text, &model);
            }
            if model.len() <= 2000 {
                for pattern in &patterns {
                    check_find(&text, &model, pattern);
                }
            }
        }

        /// Boundaries on valid UTF-8 are the chars' boundaries, wherever the gap is; from
        /// inside a char they still move by at least one byte.
        #[test]
        fn boundaries_follow_the_chars(
            pieces in prop::collection::vec(prop::sample::select(vec!["a", "ä", "🔑", "€", "\n", " ", "_"]), 0..40),
            gap in any::<usize>(),
        ) {
            let s: String = pieces.concat();
            let mut text = Text::from_bytes(s.as_bytes()).unwrap();
            text.move_gap(gap % (s.len() + 1));
            let mut bounds: Vec<usize> = s.char_indices().map(|(i, _)| i).collect();
            bounds.push(s.len());
            for pair in bounds.windows(2) {
                prop_assert_eq!(text.next_boundary(pair[0]), pair[1]);
                prop_assert_eq!(text.prev_boundary(pair[1]), pair[0]);
            }
            for offset in 0..=s.len() + 1 {
                let next = bounds.iter().copied().find(|&b| b > offset).unwrap_or(s.len());
                let prev = bounds.iter().copied().rev().find(|&b| b < offset).unwrap_or(0);
                if s.is_char_boundary(offset) {
                    prop_assert_eq!(text.next_boundary(offset), next);
                    prop_assert_eq!(text.prev_boundary(offset), prev);
                } else if offset < s.len() {
                    prop_assert!(text.next_boundary(offset) > offset);
                    prop_assert!(text.prev_boundary(offset) < offset);
                }
            }
        }

        /// Invalid UTF-8 never panics: from 0, `next_boundary` walks a chain that
        /// `prev_boundary` walks back exactly, every step one byte to four.
        #[test]
        fn boundaries_survive_invalid_bytes(bytes in prop::collection::vec(any::<u8>(), 0..60), gap in any::<usize>()) {
            let mut text = Text::from_bytes(&bytes).unwrap();
            text.move_gap(gap % (bytes.len() + 1));
            let mut at = 0;
            while at < bytes.len() {
                let next = text.next_boundary(at);
                prop_assert!(next > at && next - at <= 4);
                prop_assert_eq!(text.prev_boundary(next), at);
                at = next;
            }
            for offset in 0..=bytes.len() + 2 {
                let _ = (text.next_boundary(offset), text.prev_boundary(offset));
            }
        }

        /// Word motions agree with a direct reading of the definition on the model.
        #[test]
        fn word_motions_agree_with_the_model(
            pieces in prop::collection::vec(prop::sample::select(vec!["ab", "_", "9", "ä", " ", "  ", "\n", ".", "-"]), 0..30),
            gap in any::<usize>(),
        ) {
            let s: String = pieces.concat();
            let model = s.as_bytes();
            let mut text = Text::from_bytes(model).unwrap();
            text.move_gap(gap % (model.len() + 1));
            for offset in 0..=model.len() {
                let mut right = offset;
                while right < model.len() && is_word(model[right]) { right += 1; }
                while right < model.len() && !is_word(model[right]) { right += 1; }
                let mut left = offset;
                while left > 0 && !is_word(model[left - 1]) { left -= 1; }
                while left > 0 && is_word(model[left - 1]) { left -= 1; }
                prop_assert_eq!(text.word_right(offset), right);
                prop_assert_eq!(text.word_left(offset), left);
                prop_assert!(s.is_char_boundary(right) && s.is_char_boundary(left));
            }
        }
    }

    /// `find` sees matches that straddle the gap, wherever the gap splits them.
    #[test]
    fn find_across_the_gap_at_every_split() {
        let model = b"abcab\ncabcaab";
        let mut text = Text::from_bytes(model).unwrap();
        for gap in 0..=model.len() {
            text.move_gap(gap);
            for start in 0..model.len() {
                for end in start + 1..=model.len().min(start + 5) {
                    check_find(&text, model, &model[start..end]);
                }
            }
            check_find(&text, model, b"x");
            check_find(&text, model, model);
        }
        assert_eq!(text.find(b"", 0, true).unwrap(), None);
        assert_eq!(Text::from_bytes(b"").unwrap().find(b"a", 0, true).unwrap(), None);
    }

    /// Deleted bytes are wiped: the raw block holds no trace of them.
    #[test]
    fn deleted_bytes_are_wiped() {
        let mut text = Text::from_bytes(b"keep SECRET\nSECRET\nkeep").unwrap();
        text.move_gap(0);
        text.delete(5..19); // across lines, from the far side of the gap
        check(&text, b"keep keep");
        assert!(!text.buf.windows(6).any(|w| w == b"SECRET"), "the deleted text is still in the block");
        assert!(text.buf.iter().all(|&b| b == 0 || b"keep ".contains(&b)));
        text.insert(2, b"\n\n").unwrap();
        check(&text, b"ke\n\nep keep");
    }

    /// Moving the gap leaves no copy of the text it moves over.
    #[test]
    fn moving_the_gap_leaves_zeros() {
        let mut text = Text::from_bytes(b"0123456789").unwrap();
        for to in [3, 9, 0, 10, 5, 5, 1] {
            text.move_gap(to);
            let gap = &text.buf[text.gap_start..text.gap_end];
            assert!(gap.iter().all(|&b| b == 0), "gap at {to}");
            assert_eq!(text.buf.iter().filter(|&&b| b != 0).count(), 10);
        }
    }

    /// Growth reallocates into a bigger block and the text survives; a mostly empty block
    /// shrinks again.
    #[test]
    fn growth_and_shrinking() {
        let mut text = Text::from_bytes(b"").unwrap();
        let mut model = Vec::new();
        let chunk = b"xy\n".repeat(10);
        for i in 0..3000 {
            let at = (i * 7) % (model.len() + 1);
            text.insert(at, &chunk).unwrap();
            model.splice(at..at, chunk.iter().copied());
        }
        check(&text, &model);
        let big = text.buf.len();
        text.delete(10..model.len());
        model.truncate(10);
        check(&text, &model);
        assert!(text.buf.len() < big, "the block did not shrink");
    }

    /// `contiguous` moves the gap out of the range; `copy_into` appends both sides.
    #[test]
    fn contiguous_and_copy_into() {
        let mut text = Text::from_bytes(b"hello world").unwrap();
        text.move_gap(5);
        assert_eq!(text.slices(3..8), (&b"lo"[..], &b" wo"[..]));
        assert_eq!(text.contiguous(3..8), b"lo wo");
        assert_eq!(text.contiguous(0..99), b"hello world");
        assert_eq!(text.contiguous(Range { start: 8, end: 3 }), b"", "a backwards range is empty");
        text.move_gap(4);
        let mut out = SecretVec::new();
        out.extend_from_slice(b">").unwrap();
        text.copy_into(2..9, &mut out).unwrap();
        assert_eq!(&*out.expose().unwrap(), b">llo wor");
    }

    /// Examples of the word motions: words cross lines, punctuation is skipped.
    #[test]
    fn word_motion_examples() {
        let text = Text::from_bytes("foo.bar  baz_1\n  qüx".as_bytes()).unwrap();
        let right: Vec<usize> =
            std::iter::successors(Some(0), |&at| (at < text.len()).then(|| text.word_right(at))).collect();
        assert_eq!(right, [0, 4, 9, 17, 21]);
        assert_eq!(text.word_left(21), 17);
        assert_eq!(text.word_left(17), 9);
        assert_eq!(text.word_left(11), 9);
        assert_eq!(text.word_left(4), 0);
        assert_eq!(text.word_left(0), 0);
    }

    /// Boundaries over "ä🔑": two chars of 2 and 4 bytes.
    #[test]
    fn boundaries_over_multibyte_chars() {
        let mut text = Text::from_bytes("ä🔑".as_bytes()).unwrap();
        for gap in 0..=6 {
            text.move_gap(gap);
            assert_eq!([text.next_boundary(0), text.next_boundary(2), text.next_boundary(6)], [2, 6, 6]);
            assert_eq!([text.prev_boundary(6), text.prev_boundary(2), text.prev_boundary(0)], [2, 0, 0]);
        }
    }

    /// seal/unseal round trip, with the gap inside the text, and for the empty text; the
    /// sealed-from text is left empty and usable.
    #[test]
    fn seal_and_unseal() {
        let mut text = Text::from_bytes(b"line one\nline two\n").unwrap();
        text.insert(4, b"s").unwrap();
        text.move_gap(7);
        let sealed = text.seal().unwrap();
        check(&text, b"");
        assert!(text.buf.is_empty(), "the block was not freed");
        text.insert(0, b"new").unwrap();
        check(&text, b"new");
        let back = Text::unseal(&sealed).unwrap();
        check(&back, b"lines one\nline two\n");

        let mut empty = Text::from_bytes(b"").unwrap();
        let sealed = empty.seal().unwrap();
        assert_eq!(sealed.size(), 0);
        check(&Text::unseal(&sealed).unwrap(), b"");
        let mut emptied = Text::from_bytes(b"gone").unwrap();
        emptied.delete(0..4);
        check(&Text::unseal(&emptied.seal().unwrap()).unwrap(), b"");
    }

    /// Out-of-range offsets clamp instead of panicking.
    #[test]
    fn out_of_range_offsets_clamp() {
        let mut text = Text::from_bytes(b"ab\ncd").unwrap();
        text.insert(99, b"!").unwrap();
        text.delete(4..99);
        check(&text, b"ab\nc");
        assert_eq!((text.line_start(9), text.line_end(9), text.line_of(99)), (3, 4, 1));
        assert_eq!(text.slices(9..99), (&b""[..], &b""[..]));
        assert_eq!((text.next_boundary(99), text.prev_boundary(99)), (4, 3));
        assert_eq!((text.word_right(99), text.word_left(99)), (4, 3));
    }

    /// A tiny deterministic generator for the timing test (xorshift).
    fn next_random(state: &mut u64) -> u64 {
        *state ^= *state << 13;
        *state ^= *state >> 7;
        *state ^= *state << 17;
        *state
    }

    /// Runs `op` `n` times and prints the mean, median, 99th percentile and worst time.
    fn measure(label: &str, n: usize, mut op: impl FnMut(usize)) {
        let mut times: Vec<Duration> = (0..n)
            .map(|i| {
                let t = Instant::now();
                op(i);
                t.elapsed()
            })
            .collect();
        let mean = times.iter().sum::<Duration>() / n as u32;
        times.sort();
        println!(
            "{label}: mean {mean:?}, median {:?}, p99 {:?}, worst {:?}",
            times[n / 2],
            times[n * 99 / 100],
            times[n - 1]
        );
    }

    /// Timings for a 10 MB document of 200k lines (printed, not asserted): run with
    /// `cargo test --release -p strongroom-cli --bin sedit -- --ignored --nocapture timing`.
    #[test]
    #[ignore = "timing, run by hand"]
    fn timing_on_a_10_mb_document() {
        let line = b"The quick brown fox jumps over the lazy dog, twice\n"; // 51 bytes
        let doc: Vec<u8> = line.iter().copied().cycle().take(10_000_000).collect();
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;

        let t = Instant::now();
        let mut text = Text::from_bytes(&doc).unwrap();
        println!("from_bytes, {} bytes, {} lines: {:?}", text.len(), text.line_count(), t.elapsed());

        measure("single-char insert at a random position (moves the gap)", 1000, |_| {
            let at = (next_random(&mut seed) % (text.len() as u64 + 1)) as usize;
            text.insert(at, b"x").unwrap();
        });
        let mut at = text.len() / 2;
        text.insert(at, b"y").unwrap(); // the gap moves here once
        measure("typing at one place, one char in 50 a newline", 1000, |i| {
            at += 1;
            text.insert(at, if i % 50 == 49 { b"\n" } else { b"y" }).unwrap();
        });
        measure("backspace at one place", 1000, |_| {
            text.delete(at..at + 1);
            at -= 1;
        });
        let gap = text.gap_end - text.gap_start;
        let t = Instant::now();
        text.insert(at, &vec![b'z'; gap + 1]).unwrap();
        println!("inserting {} bytes, one more than the gap (reallocates): {:?}", gap + 1, t.elapsed());
        let mut sum = 0usize;
        measure("line_of + line_start + line_end at a random offset", 100_000, |_| {
            let offset = (next_random(&mut seed) % (text.len() as u64 + 1)) as usize;
            let line = text.line_of(offset);
            sum = sum.wrapping_add(line + text.line_start(line) + text.line_end(line));
        });
        let t = Instant::now();
        let found = text.find(b"lazy cat", text.len() / 2, true).unwrap();
        println!("find with no match, over the whole text: {:?} ({found:?}, {sum})", t.elapsed());
    }
}
