//! Undo and redo: every edit goes through [`History`], which keeps what each edit removed and
//! inserted in protected memory.
//!
//! The bytes of every edit sit in one [`SecretVec`], in edit order: an edit's removed bytes,
//! then its inserted bytes. The edits themselves (positions, lengths, cursors: no text, but the
//! document's shape) are a list in protected memory that refers to ranges of that store; the
//! first `applied` of them are done, the rest undone (the redo list). Undo steps are runs of
//! edits, each run starting with an edit marked `first`.

use std::mem::size_of;
use std::ops::Range;

use strongroom::{Enclave, Error, Result, SecretVec, SecureAlloc};

use super::text::Text;

/// A vector in protected memory.
type SecureVec<T> = strongroom::allocator_api2::vec::Vec<T, SecureAlloc>;

/// Past this many bytes (recorded bytes plus the edit list), the oldest undo steps go.
const LIMIT: usize = 64 << 20;

/// The error for undo, redo or an edit while the history is sealed.
const SEALED: Error = Error::ApiMisuse("the undo history is sealed (locked): unseal it first");

/// The error for a failed protected allocation: the reason `SecureAlloc` recorded, if any.
fn alloc_error() -> Error {
    SecureAlloc::last_error().unwrap_or(Error::TooLarge)
}

/// Whether `bytes` are exactly one UTF-8 char (what typing inserts).
fn is_one_char(bytes: &[u8]) -> bool {
    std::str::from_utf8(bytes).is_ok_and(|s| s.chars().count() == 1)
}

/// One recorded edit: `removed` bytes at `at` were replaced by `inserted` bytes.
#[derive(Clone, Copy, Default)]
struct Edit {
    /// Where in the text.
    at: usize,
    /// Where its bytes start in the store: the removed ones, then the inserted ones.
    bytes: usize,
    /// How many bytes it removed.
    removed: usize,
    /// How many bytes it inserted.
    inserted: usize,
    /// The cursor before the edit (undo of its step puts it back).
    cursor_before: usize,
    /// The cursor after the edit (redo of its step puts it there).
    cursor_after: usize,
    /// Whether it starts an undo step.
    first: bool,
    /// Which edit this is: unique in the history, so it names the text it leaves behind.
    serial: u64,
}

impl Edit {
    /// The removed bytes' range in the store.
    fn removed(&self) -> Range<usize> {
        self.bytes..self.bytes + self.removed
    }
    /// The inserted bytes' range in the store.
    fn inserted(&self) -> Range<usize> {
        self.bytes + self.removed..self.end()
    }
    /// Where its bytes end in the store.
    fn end(&self) -> usize {
        self.bytes + self.removed + self.inserted
    }
}

/// The kinds of edit that join into one undo step.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// One char inserted, nothing removed.
    Typing,
    /// One char removed, nothing inserted (backspace or delete).
    Deleting,
}

/// The undo step still open to more edits of its kind.
#[derive(Clone, Copy)]
struct Open {
    /// What joins it.
    kind: Kind,
    /// Typing joins at this offset; deleting joins when it ends or starts here.
    at: usize,
}

/// The edits made so far, and those undone.
pub struct History {
    /// The removed and inserted bytes of every edit, in edit order.
    store: SecretVec<u8>,
    /// Every edit: the first `applied` are done, the rest undone (to redo).
    edits: SecureVec<Edit>,
    /// How many edits are done.
    applied: usize,
    /// The undo step that the next edit may join.
    open: Option<Open>,
    /// The store, sealed while the editor is locked.
    sealed: Option<Enclave>,
    /// The memory bound ([`LIMIT`]; tests lower it).
    limit: usize,
    /// The serial of the last edit made.
    last_serial: u64,
}

impl Default for History {
    fn default() -> History {
        History::new()
    }
}

impl History {
    /// No edits yet.
    pub fn new() -> History {
        History {
            store: SecretVec::new(),
            edits: SecureVec::new_in(SecureAlloc::new()),
            applied: 0,
            open: None,
            sealed: None,
            limit: LIMIT,
            last_serial: 0,
        }
    }

    /// Which text the history stands at: the serial of the last applied edit, 0 before any.
    /// Equal states are equal texts (an edit joins the one before only while its step is
    /// open, and [`History::break_group`] closes it), so the editor compares states to know
    /// whether the text still matches the saved file after undo and redo.
    pub fn state(&self) -> u64 {
        self.applied.checked_sub(1).map_or(0, |last| self.edits[last].serial)
    }

    /// Replaces `range` of `text` with `inserted` (either may be empty) and records it.
    /// Consecutive typing (single-char inserts at the end of the previous one, or deletes next
    /// to the previous one) joins one undo step until [`History::break_group`]; a typed
    /// newline joins the step and ends it. `cursor` is where the cursor was before the edit;
    /// undo puts it back there, redo puts it after the inserted bytes. Clears the redo list.
    ///
    /// On error (sealed, or out of protected memory) the text is unchanged.
    pub fn replace(&mut self, text: &mut Text, range: Range<usize>, inserted: &[u8], cursor: usize) -> Result<()> {
        if self.sealed.is_some() {
            return Err(SEALED);
        }
        let len = text.len();
        let end = range.end.min(len);
        let start = range.start.min(end);
        if start == end && inserted.is_empty() {
            return Ok(());
        }
        self.drop_redo();

        let kind = if start == end && is_one_char(inserted) {
            Some(Kind::Typing)
        } else if inserted.is_empty() && text.next_boundary(start) == end {
            Some(Kind::Deleting)
        } else {
            None
        };
        let joins = match (self.open, kind) {
            (Some(open), Some(kind)) if open.kind == kind => {
                start == open.at || (kind == Kind::Deleting && end == open.at)
            }
            _ => false,
        };
        // Typing on at the end of the last edit, or deleting forward where it deleted, extends
        // that edit's bytes at the end of the store; a backspace is an edit of its own.
        let merge = joins
            && self.open.is_some_and(|open| open.at == start)
            && self.edits.last().is_some_and(|last| last.end() == self.store.len());

        // Record, then apply: all that can fail comes before the text changes.
        self.edits.try_reserve(1).map_err(|_| alloc_error())?;
        let mark = self.store.len();
        let recorded =
            text.copy_into(start..end, &mut self.store).and_then(|()| self.store.extend_from_slice(inserted));
        // Inserting before deleting: if the insert fails, the text is as it was.
        if let Err(e) = recorded.and_then(|()| text.insert(end, inserted)) {
            self.store.truncate(mark);
            return Err(e);
        }
        text.delete(start..end);

        let cursor_after = start + inserted.len();
        match self.edits.last_mut() {
            Some(last) if merge => {
                last.removed += end - start;
                last.inserted += inserted.len();
                last.cursor_after = cursor_after;
            }
            _ => self.edits.push(Edit {
                serial: {
                    self.last_serial += 1;
                    self.last_serial
                },
                at: start,
                bytes: mark,
                removed: end - start,
                inserted: inserted.len(),
                cursor_before: cursor,
                cursor_after,
                first: !joins,
            }),
        }
        self.applied = self.edits.len();
        self.open = match kind {
            Some(Kind::Typing) if inserted != [b'\n'] => Some(Open { kind: Kind::Typing, at: cursor_after }),
            Some(Kind::Deleting) => Some(Open { kind: Kind::Deleting, at: start }),
            _ => None,
        };
        self.trim();
        Ok(())
    }

    /// Ends the current undo step (the cursor moved, a command ran).
    pub fn break_group(&mut self) {
        self.open = None;
    }

    /// Undoes the last step; the cursor to show, or `None` when there is nothing to undo.
    /// Sealed, it is an error. If the text cannot grow (out of protected memory), the edits
    /// undone so far stay undone and it is an error.
    pub fn undo(&mut self, text: &mut Text) -> Result<Option<usize>> {
        if self.sealed.is_some() {
            return Err(SEALED);
        }
        self.open = None;
        let store = self.store.expose()?;
        while let Some(index) = self.applied.checked_sub(1) {
            let edit = self.edits[index];
            text.insert(edit.at + edit.inserted, &store[edit.removed()])?;
            text.delete(edit.at..edit.at + edit.inserted);
            self.applied = index;
            if edit.first || index == 0 {
                return Ok(Some(edit.cursor_before));
            }
        }
        Ok(None)
    }

    /// Redoes the last undone step; the cursor to show, or `None`. Errors as [`History::undo`].
    pub fn redo(&mut self, text: &mut Text) -> Result<Option<usize>> {
        if self.sealed.is_some() {
            return Err(SEALED);
        }
        self.open = None;
        let store = self.store.expose()?;
        while let Some(&edit) = self.edits.get(self.applied) {
            text.insert(edit.at + edit.removed, &store[edit.inserted()])?;
            text.delete(edit.at..edit.at + edit.removed);
            self.applied += 1;
            if self.edits.get(self.applied).is_none_or(|next| next.first) {
                return Ok(Some(edit.cursor_after));
            }
        }
        Ok(None)
    }

    /// Seals the recorded bytes into an enclave and wipes them here (auto-lock). On error the
    /// whole history is dropped (its bytes were wiped all the same).
    pub fn seal(&mut self) -> Result<()> {
        if self.sealed.is_some() {
            return Ok(());
        }
        self.open = None;
        let sealed = self.store.with_mut(Enclave::new); // wipes them, even on error
        self.store = SecretVec::new(); // frees the block, wiped again as it goes
        match sealed {
            Ok(Ok(enclave)) => {
                self.sealed = Some(enclave);
                Ok(())
            }
            Ok(Err(e)) | Err(e) => {
                self.forget(0);
                Err(e)
            }
        }
    }

    /// Reverses [`History::seal`]. On error it stays sealed.
    pub fn unseal(&mut self) -> Result<()> {
        let Some(sealed) = &self.sealed else {
            return Ok(());
        };
        let plain = sealed.open()?; // a LockedBuffer: wiped as it is dropped
        let mut store = SecretVec::with_capacity(plain.len())?;
        plain.with(|bytes| store.extend_from_slice(bytes))??;
        self.store = store;
        self.sealed = None;
        Ok(())
    }

    /// Drops the undone edits and wipes their bytes: a new edit makes them unreachable.
    fn drop_redo(&mut self) {
        if self.applied < self.edits.len() {
            let keep = self.applied.checked_sub(1).map_or(0, |last| self.edits[last].end());
            self.store.truncate(keep); // wipes the rest
            self.forget(self.applied);
        }
    }

    /// Shortens the edit list to `len`, wiping the entries it drops (truncating alone would
    /// leave them in the block).
    fn forget(&mut self, len: usize) {
        self.edits[len..].fill(Edit::default());
        self.edits.truncate(len);
        self.applied = self.applied.min(len);
    }

    /// Memory the history holds: recorded bytes plus the edit list.
    fn cost(&self) -> usize {
        self.store.len() + self.edits.len() * size_of::<Edit>()
    }

    /// Keeps memory bounded: past the limit, drops the oldest steps until under 3/4 of it
    /// (so that the bytes kept move rarely), always keeping the newest step.
    fn trim(&mut self) {
        if self.cost() <= self.limit {
            return;
        }
        let target = self.limit / 4 * 3;
        let (stored, count) = (self.store.len(), self.edits.len());
        let cost_from = |i: usize, edits: &[Edit]| stored - edits[i].bytes + (count - i) * size_of::<Edit>();
        let newest = self.edits.iter().rposition(|edit| edit.first).unwrap_or(0);
        let mut cut = 0;
        for i in 1..=newest {
            if cost_from(cut, &self.edits) <= target {
                break;
            }
            if self.edits[i].first {
                cut = i;
            }
        }
        if cut == 0 {
            return;
        }
        let dropped = self.edits[cut].bytes;
        if self.store.with_mut(|bytes| bytes.copy_within(dropped.., 0)).is_err() {
            return; // purged: there is nothing left to keep
        }
        self.store.truncate(stored - dropped); // wipes the tail the kept bytes moved out of
        self.edits.copy_within(cut.., 0);
        let applied = self.applied - cut;
        self.forget(count - cut);
        self.applied = applied;
        for edit in self.edits.iter_mut() {
            edit.bytes -= dropped;
        }
    }
}

#[cfg(test)]
mod tests {
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

    /// One random editor action.
    #[derive(Clone, Debug)]
    enum Action {
        /// Type one char at a position (modulo `len + 1`); `None`: right after the last edit.
        Type(Option<usize>, &'static str),
        /// Backspace at a position (`None`: where the last edit left the cursor).
        Backspace(Option<usize>),
        /// Delete forward at a position.
        Delete(Option<usize>),
        /// Replace up to this many bytes at a position with some bytes (paste, cut).
        Replace(usize, usize, Vec<u8>),
        /// End the undo step.
        Break,
        /// Undo a step.
        Undo,
        /// Redo a step.
        Redo,
    }

    /// Actions weighted towards typing runs, so that steps join.
    fn action() -> impl Strategy<Value = Action> {
        let char = prop::sample::select(vec!["a", "b", "ä", "🔑", "\n", " "]);
        let at = prop::option::weighted(0.3, any::<usize>());
        prop_oneof![
            8 => (at.clone(), char).prop_map(|(at, c)| Action::Type(at, c)),
            3 => at.clone().prop_map(Action::Backspace),
            2 => at.prop_map(Action::Delete),
            2 => (any::<usize>(), 0..8usize, prop::collection::vec(prop::sample::select(&b"xy\n"[..]), 0..6))
                .prop_map(|(at, n, b)| Action::Replace(at, n, b)),
            1 => Just(Action::Break),
            2 => Just(Action::Undo),
            1 => Just(Action::Redo),
        ]
    }

    /// Runs one edit action through `history` like the editor would, moving `cursor`;
    /// whether it was an edit that `history` records (not undo, redo, a break or a no-op).
    fn edit(history: &mut History, text: &mut Text, cursor: &mut usize, action: &Action) -> bool {
        let len = text.len();
        let place = |at: Option<usize>, cursor: usize, text: &Text| match at {
            Some(at) => text.prev_boundary(text.next_boundary(at % (len + 1))),
            None => cursor.min(len),
        };
        let (range, inserted): (Range<usize>, &[u8]) = match action {
            Action::Type(at, c) => {
                let at = place(*at, *cursor, text);
                (at..at, c.as_bytes())
            }
            Action::Backspace(at) => {
                let at = place(*at, *cursor, text);
                (text.prev_boundary(at)..at, b"")
            }
            Action::Delete(at) => {
                let at = place(*at, *cursor, text);
                (at..text.next_boundary(at), b"")
            }
            Action::Replace(at, n, bytes) => {
                let at = at % (len + 1);
                (at..(at + n).min(len), bytes)
            }
            Action::Break => {
                history.break_group();
                return false;
            }
            Action::Undo | Action::Redo => return false,
        };
        history.replace(text, range.clone(), inserted, *cursor).unwrap();
        *cursor = range.start + inserted.len();
        !range.is_empty() || !inserted.is_empty()
    }

    proptest! {
        #![proptest_config(config())]

        /// Random edits (steps joining as they may), then undo everything: the original text;
        /// each undo lands on a text seen before, further back each time; then redo everything:
        /// the same texts in reverse, and the final text.
        #[test]
        fn undo_all_then_redo_all(
            initial in prop::collection::vec(prop::sample::select(&b"ab\n"[..]), 0..30),
            actions in prop::collection::vec(action(), 0..60),
        ) {
            let mut text = Text::from_bytes(&initial).unwrap();
            let mut history = History::new();
            let mut cursor = 0;
            let mut seen = vec![initial.clone()];
            for action in &actions {
                if edit(&mut history, &mut text, &mut cursor, action) {
                    seen.push(contents(&text));
                }
            }
            let last = seen.len() - 1;
            let mut visited = vec![last];
            while let Some(cursor) = history.undo(&mut text).unwrap() {
                let now = contents(&text);
                prop_assert!(cursor <= now.len());
                let back = *visited.last().unwrap();
                let index = (0..back).rev().find(|&i| seen[i] == now);
                prop_assert!(index.is_some(), "undo reached a text never seen");
                visited.push(index.unwrap());
            }
            prop_assert_eq!(contents(&text), initial);
            prop_assert_eq!(history.undo(&mut text).unwrap(), None);
            visited.pop();
            while let Some(cursor) = history.redo(&mut text).unwrap() {
                let now = contents(&text);
                prop_assert!(cursor <= now.len());
                let expected = visited.pop();
                prop_assert!(expected.is_some(), "more redo steps than undo steps");
                prop_assert!(seen[expected.unwrap()] == now, "redo reached another text than undo passed");
            }
            prop_assert!(visited.is_empty(), "fewer redo steps than undo steps");
            prop_assert_eq!(contents(&text), seen[last].clone());
        }

        /// Edits, undo and redo interleaved, each edit its own step (a break before each):
        /// the text and cursors follow a stack model exactly, and a new edit clears redo.
        #[test]
        fn interleaved_undo_redo_and_edits(
            initial in prop::collection::vec(prop::sample::select(&b"ab\n"[..]), 0..30),
            actions in prop::collection::vec(action(), 0..60),
        ) {
            let mut text = Text::from_bytes(&initial).unwrap();
            let mut history = History::new();
            let mut cursor = 0;
            // (text before, cursor before, text after, cursor after) per step.
            let mut past: Vec<(Vec<u8>, usize, Vec<u8>, usize)> = Vec::new();
            let mut future: Vec<(Vec<u8>, usize, Vec<u8>, usize)> = Vec::new();
            for action in &actions {
                match action {
                    Action::Undo => {
                        let got = history.undo(&mut text).unwrap();
                        match past.pop() {
                            Some(step) => {
                                prop_assert_eq!(got, Some(step.1));
                                prop_assert_eq!(contents(&text), step.0.clone());
                                cursor = step.1;
                                future.push(step);
                            }
                            None => prop_assert_eq!(got, None),
                        }
                    }
                    Action::Redo => {
                        let got = history.redo(&mut text).unwrap();
                        match future.pop() {
                            Some(step) => {
                                prop_assert_eq!(got, Some(step.3));
                                prop_assert_eq!(contents(&text), step.2.clone());
                                cursor = step.3;
                                past.push(step);
                            }
                            None => prop_assert_eq!(got, None),
                        }
                    }
                    _ => {
                        history.break_group();
                        let (before, cursor_before) = (contents(&text), cursor);
                        if edit(&mut history, &mut text, &mut cursor, action) {
                            past.push((before, cursor_before, contents(&text), cursor));
                            future.clear();
                        }
                    }
                }
            }
        }
    }

    /// Typing joins one step; a typed newline ends it; moving the cursor (a break) or
    /// another kind of edit starts a new one. Undo gives the cursor before the step, redo
    /// the one after it.
    #[test]
    fn typing_groups() {
        let mut text = Text::from_bytes(b"").unwrap();
        let mut history = History::new();
        for (i, c) in "hi\nyou".bytes().enumerate() {
            history.replace(&mut text, i..i, &[c], i).unwrap();
        }
        history.break_group();
        history.replace(&mut text, 0..0, b">", 6).unwrap();
        history.replace(&mut text, 7..7, b"!", 1).unwrap(); // not where typing left off: a new step
        assert_eq!(contents(&text), b">hi\nyou!");
        for (expected, cursor) in [(&b">hi\nyou"[..], 1), (b"hi\nyou", 6), (b"hi\n", 3), (b"", 0)] {
            assert_eq!(history.undo(&mut text).unwrap(), Some(cursor));
            assert_eq!(contents(&text), expected);
        }
        assert_eq!(history.undo(&mut text).unwrap(), None);
        assert_eq!(history.redo(&mut text).unwrap(), Some(3));
        assert_eq!(history.redo(&mut text).unwrap(), Some(6));
        assert_eq!(contents(&text), b"hi\nyou");
        // Joined typing is one edit entry, its bytes extended in place.
        assert_eq!(history.edits.len(), 4);
    }

    /// Backspaces join, and so do forward deletes; typing after them starts a new step, and
    /// so does a multi-char paste.
    #[test]
    fn deletes_group() {
        let mut text = Text::from_bytes("abcdéfgh".as_bytes()).unwrap();
        let mut history = History::new();
        history.replace(&mut text, 4..6, b"", 6).unwrap(); // backspace over 'é'
        history.replace(&mut text, 3..4, b"", 4).unwrap();
        history.replace(&mut text, 3..4, b"", 3).unwrap(); // delete forward 'f'
        history.replace(&mut text, 3..4, b"", 3).unwrap();
        assert_eq!(contents(&text), b"abch");
        history.replace(&mut text, 3..3, b"X", 3).unwrap();
        history.replace(&mut text, 4..4, b"YZ", 4).unwrap();
        assert_eq!(contents(&text), b"abcXYZh");
        assert_eq!(history.undo(&mut text).unwrap(), Some(4));
        assert_eq!(history.undo(&mut text).unwrap(), Some(3));
        assert_eq!(history.undo(&mut text).unwrap(), Some(6));
        assert_eq!(contents(&text), "abcdéfgh".as_bytes());
        assert_eq!(history.redo(&mut text).unwrap(), Some(3));
        assert_eq!(contents(&text), b"abch");
    }

    /// A new edit clears the redo list and wipes its bytes from the store.
    #[test]
    fn a_new_edit_clears_redo() {
        let mut text = Text::from_bytes(b"").unwrap();
        let mut history = History::new();
        history.replace(&mut text, 0..0, b"first ", 0).unwrap();
        history.replace(&mut text, 6..6, b"SECRET", 6).unwrap();
        history.undo(&mut text).unwrap();
        history.replace(&mut text, 6..6, b"x", 6).unwrap();
        assert_eq!(history.redo(&mut text).unwrap(), None);
        assert_eq!(&*history.store.expose().unwrap(), b"first x");
        assert_eq!(contents(&text), b"first x");
    }

    /// Past the limit the oldest steps go (the newest always stays), and what is kept
    /// still undoes correctly.
    #[test]
    fn memory_is_bounded() {
        let mut text = Text::from_bytes(b"").unwrap();
        let mut history = History::new();
        history.limit = 4000;
        let mut seen = vec![contents(&text)];
        for i in 0..100 {
            history.break_group();
            let at = (i * 37) % (text.len() + 1);
            history.replace(&mut text, at..at, &[b'a' + (i % 26) as u8; 50], at).unwrap();
            seen.push(contents(&text));
            assert!(history.cost() <= 4000, "{} bytes held", history.cost());
        }
        let mut undone = 0;
        while history.undo(&mut text).unwrap().is_some() {
            undone += 1;
            assert_eq!(contents(&text), seen[seen.len() - 1 - undone]);
        }
        assert!(undone > 10 && undone < 100, "{undone} steps kept");

        let mut one = History::new();
        one.limit = 100;
        one.replace(&mut text, 0..0, &[b'z'; 500], 0).unwrap();
        assert_eq!(one.undo(&mut text).unwrap(), Some(0), "the newest step must stay");
    }

    /// Sealed, undo, redo and edits are errors and leave the text alone; unsealed, the
    /// history works again. Sealing an empty history works too.
    #[test]
    fn seal_and_unseal() {
        let mut text = Text::from_bytes(b"").unwrap();
        let mut history = History::new();
        history.seal().unwrap();
        history.unseal().unwrap();
        history.replace(&mut text, 0..0, b"one", 0).unwrap();
        history.break_group();
        history.replace(&mut text, 3..3, b" two", 3).unwrap();
        history.undo(&mut text).unwrap();
        history.seal().unwrap();
        history.seal().unwrap(); // idempotent
        assert!(history.store.is_empty(), "the store was not emptied");
        assert!(history.undo(&mut text).is_err());
        assert!(history.redo(&mut text).is_err());
        assert!(history.replace(&mut text, 0..0, b"x", 0).is_err());
        assert_eq!(contents(&text), b"one");
        history.unseal().unwrap();
        history.unseal().unwrap(); // idempotent
        assert_eq!(history.redo(&mut text).unwrap(), Some(7));
        assert_eq!(contents(&text), b"one two");
        assert_eq!(history.undo(&mut text).unwrap(), Some(3));
        assert_eq!(history.undo(&mut text).unwrap(), Some(0));
        assert_eq!(contents(&text), b"");
    }
}
