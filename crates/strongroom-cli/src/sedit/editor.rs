//! The editor's state and what each key does: the cursor, the selection, the cut register,
//! search, go-to-line, the quit prompt, help and the locked screen.
//!
//! It knows nothing of terminals or files: keys come in as crossterm events, and what needs
//! the file (save, quit, unlock) goes back to the caller as a [`Command`]. Everything that
//! holds text (the document, the undo log, the register, the search pattern, whatever is
//! typed into a prompt, the unlock passphrase) is protected memory.

use std::ops::Range;

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use strongroom::{Enclave, Result, SecretVec};
use zeroize::Zeroize;

use super::glyphs;
use super::history::History;
use super::text::Text;

/// What the keys are doing right now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Editing the text.
    Edit,
    /// Typing a search pattern (Ctrl-F).
    Find,
    /// Typing a line number (Ctrl-G).
    GoToLine,
    /// Typing a file name to save as (Ctrl-O or F12).
    SaveAs,
    /// Asked whether to save before quitting.
    QuitPrompt,
    /// The help screen (F1).
    Help,
    /// Auto-locked: the text is sealed away until the passphrase is typed.
    Locked,
}

/// What a key asks of the caller, who holds the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Nothing: the editor handled it.
    None,
    /// Save the document (Ctrl-S).
    Save,
    /// Save, then quit if that worked.
    SaveAndQuit,
    /// Save to the file named by [`Editor::typed`] (then cleared with
    /// [`Editor::clear_typed`]).
    SaveAs,
    /// Quit without saving.
    Quit,
    /// Check [`Editor::typed`] as the unlock passphrase.
    Unlock,
}

/// The editor: the text and everything about it that is not the file.
pub struct Editor {
    /// The document.
    pub text: Text,
    history: History,
    /// Where the cursor is: a byte offset on a char boundary.
    pub cursor: usize,
    /// The other end of the selection, when there is one.
    anchor: Option<usize>,
    /// The column up/down moves aim for, kept across short lines.
    goal: Option<usize>,
    /// Cut and copied text (Ctrl-X, Ctrl-C; Ctrl-V pastes it). Never the system clipboard.
    register: SecretVec<u8>,
    /// The last search pattern (F3 finds it again).
    pattern: SecretVec<u8>,
    /// What is being typed into the prompt of [`Mode::Find`], [`Mode::GoToLine`] or
    /// [`Mode::Locked`] (there, the passphrase).
    typed: SecretVec<u8>,
    /// The register and the pattern while locked (the text seals itself).
    sealed: Option<Sealed>,
    /// What the keys are doing.
    pub mode: Mode,
    /// A message for the status line. Never holds document text.
    pub message: Option<String>,
    /// Whether the text differs from the file.
    pub modified: bool,
    /// The history's state when the text last matched the file (undoing back to it is
    /// unmodified again).
    saved_state: u64,
    /// First line on screen.
    pub top: usize,
    /// First column on screen.
    pub left: usize,
    /// Text rows on screen (the view sets it; page up/down move by it).
    pub page: usize,
}

/// What locking seals besides the text and the undo log.
struct Sealed {
    text: Option<Enclave>,
    register: Option<Enclave>,
    pattern: Option<Enclave>,
}

impl Editor {
    /// An editor over `text`, cursor at the start.
    pub fn new(text: Text) -> Editor {
        Editor {
            text,
            history: History::new(),
            cursor: 0,
            anchor: None,
            goal: None,
            register: SecretVec::new(),
            pattern: SecretVec::new(),
            typed: SecretVec::new(),
            sealed: None,
            mode: Mode::Edit,
            message: None,
            modified: false,
            saved_state: 0,
            top: 0,
            left: 0,
            page: 20,
        }
    }

    /// The selected range, if any (empty selections are none).
    pub fn selection(&self) -> Option<Range<usize>> {
        let anchor = self.anchor?;
        (anchor != self.cursor).then(|| anchor.min(self.cursor)..anchor.max(self.cursor))
    }

    /// What is typed into the current prompt, for the view to draw (and [`Command::Unlock`]
    /// to check).
    pub fn typed(&self) -> &SecretVec<u8> {
        &self.typed
    }

    /// Wipes what was typed into the prompt, once the caller has used it.
    pub fn clear_typed(&mut self) {
        self.typed.clear();
    }

    /// Handles one key; what the caller must do about it.
    pub fn key(&mut self, key: KeyEvent) -> Result<Command> {
        if key.kind == KeyEventKind::Release {
            return Ok(Command::None);
        }
        if self.mode != Mode::Locked {
            self.message = None;
        }
        match self.mode {
            Mode::Edit => self.edit_key(key),
            Mode::Find | Mode::GoToLine | Mode::SaveAs => self.prompt_key(key),
            Mode::QuitPrompt => Ok(self.quit_prompt_key(key)),
            Mode::Help => {
                self.mode = Mode::Edit;
                Ok(Command::None)
            }
            Mode::Locked => self.locked_key(key),
        }
    }

    fn edit_key(&mut self, key: KeyEvent) -> Result<Command> {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let shift = key.modifiers.contains(KeyModifiers::SHIFT);
        match key.code {
            KeyCode::Char(c) if ctrl => return self.control_key(c.to_ascii_lowercase()),
            KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::ALT) => self.type_char(c)?,
            KeyCode::Enter => self.type_char('\n')?,
            KeyCode::Tab => self.type_char('\t')?,
            KeyCode::Backspace => self.erase(false)?,
            KeyCode::Delete => self.erase(true)?,
            KeyCode::F(1) => self.mode = Mode::Help,
            KeyCode::F(12) => self.prompt(Mode::SaveAs),
            KeyCode::F(3) => self.find_again(!shift),
            KeyCode::Left | KeyCode::Right | KeyCode::Up | KeyCode::Down => self.arrow(key.code, ctrl, shift),
            KeyCode::Home | KeyCode::End | KeyCode::PageUp | KeyCode::PageDown => self.jump(key.code, ctrl, shift),
            _ => {}
        }
        Ok(Command::None)
    }

    fn control_key(&mut self, c: char) -> Result<Command> {
        match c {
            's' => return Ok(Command::Save),
            'q' if self.modified => {
                self.mode = Mode::QuitPrompt;
            }
            'q' => return Ok(Command::Quit),
            'f' => self.prompt(Mode::Find),
            'g' => self.prompt(Mode::GoToLine),
            'o' => self.prompt(Mode::SaveAs),
            'z' => self.undo(true)?,
            'y' => self.undo(false)?,
            // Find previous, for terminals that send Shift-F3 as a cursor position report
            // (xterm, VTE, tmux), which crossterm never hands on.
            'r' => self.find_again(false),
            'x' => self.cut(true)?,
            'c' => self.cut(false)?,
            'v' => self.paste_register()?,
            'a' => {
                self.anchor = Some(0);
                self.cursor = self.text.len();
            }
            _ => {}
        }
        Ok(Command::None)
    }

    fn prompt(&mut self, mode: Mode) {
        self.typed.clear();
        self.mode = mode;
    }

    fn prompt_key(&mut self, key: KeyEvent) -> Result<Command> {
        let prompt = self.mode;
        match key.code {
            KeyCode::Esc => self.mode = Mode::Edit,
            KeyCode::Enter if prompt == Mode::Find => {
                self.mode = Mode::Edit;
                if !self.typed.is_empty() {
                    std::mem::swap(&mut self.pattern, &mut self.typed);
                }
                self.typed.clear();
                self.find_again(true);
            }
            KeyCode::Enter if prompt == Mode::SaveAs => {
                self.mode = Mode::Edit;
                if !self.typed.is_empty() {
                    return Ok(Command::SaveAs);
                }
            }
            KeyCode::Enter => {
                self.mode = Mode::Edit;
                self.go_to_typed_line();
            }
            _ => self.edit_typed(key)?,
        }
        Ok(Command::None)
    }

    fn quit_prompt_key(&mut self, key: KeyEvent) -> Command {
        self.mode = Mode::Edit;
        match key.code {
            KeyCode::Char('y' | 'Y') => Command::SaveAndQuit,
            KeyCode::Char('n' | 'N') => Command::Quit,
            _ => Command::None,
        }
    }

    fn locked_key(&mut self, key: KeyEvent) -> Result<Command> {
        match key.code {
            KeyCode::Enter => return Ok(Command::Unlock),
            KeyCode::Esc => self.typed.clear(),
            _ => self.edit_typed(key)?,
        }
        Ok(Command::None)
    }

    /// Typing into a prompt: chars are appended, Backspace takes the last one off.
    fn edit_typed(&mut self, key: KeyEvent) -> Result<()> {
        match key.code {
            KeyCode::Char(c) if !key.modifiers.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) => {
                let mut utf8 = [0u8; 4];
                let pushed = self.typed.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                utf8.zeroize();
                pushed?;
            }
            KeyCode::Backspace => {
                let end = self.typed.len();
                let start = self.typed.with(last_char_start)?;
                for _ in start..end {
                    self.typed.pop();
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn go_to_typed_line(&mut self) {
        let line = self.typed.with(|t| std::str::from_utf8(t).ok().and_then(|s| s.trim().parse::<usize>().ok()));
        self.typed.clear();
        match line.ok().flatten() {
            Some(n) if n >= 1 => {
                let line = (n - 1).min(self.text.line_count() - 1);
                self.move_to(self.text.line_start(line), false);
            }
            _ => self.message = Some("not a line number".into()),
        }
    }

    /// Finds the pattern again after (or before) the cursor, wrapping around, and selects it.
    fn find_again(&mut self, forward: bool) {
        if self.pattern.is_empty() {
            self.message = Some("nothing to find: Ctrl-F first".into());
            return;
        }
        // `Text::find` looks strictly after (before) `from`; forward from a bare cursor, a match
        // right at the cursor counts, so start one byte earlier (or, at 0, "after the end",
        // which wraps to 0 first).
        let selected = self.selection();
        let start = selected.as_ref().map_or(self.cursor, |sel| sel.start);
        let from = match (forward, &selected) {
            (true, None) => self.cursor.checked_sub(1).unwrap_or(self.text.len()),
            _ => start,
        };
        let found = self.pattern.with(|p| self.text.find(p, from, forward).map(|at| (at, p.len())));
        match found.and_then(|found| found) {
            Err(e) => self.message = Some(format!("cannot search: {e}")),
            Ok((Some(at), len)) => {
                self.history.break_group();
                self.anchor = Some(at);
                self.cursor = at + len;
                self.goal = None;
                let wrapped = match (forward, selected) {
                    (true, Some(_)) => at <= start,
                    (true, None) => at < start,
                    (false, _) => at >= start,
                };
                if wrapped {
                    self.message = Some("search wrapped around".into());
                }
            }
            Ok((None, _)) => self.message = Some("not found".into()),
        }
    }

    fn type_char(&mut self, c: char) -> Result<()> {
        let mut utf8 = [0u8; 4];
        let done = self.replace_selection(c.encode_utf8(&mut utf8).as_bytes());
        utf8.zeroize();
        done
    }

    /// Replaces the selection (or inserts at the cursor) with `bytes`.
    fn replace_selection(&mut self, bytes: &[u8]) -> Result<()> {
        let range = self.selection().unwrap_or(self.cursor..self.cursor);
        if !range.is_empty() {
            self.history.break_group();
        }
        self.history.replace(&mut self.text, range.clone(), bytes, self.cursor)?;
        self.edited(range.start + bytes.len());
        Ok(())
    }

    fn edited(&mut self, cursor: usize) {
        self.cursor = cursor;
        self.anchor = None;
        self.goal = None;
        self.modified = self.history.state() != self.saved_state;
    }

    /// Backspace (`forward` false) or Delete: the selection, or one char.
    fn erase(&mut self, forward: bool) -> Result<()> {
        let range = match self.selection() {
            Some(sel) => {
                self.history.break_group();
                sel
            }
            None if forward => self.cursor..self.text.next_boundary(self.cursor),
            None => self.text.prev_boundary(self.cursor)..self.cursor,
        };
        if range.is_empty() {
            return Ok(());
        }
        self.history.replace(&mut self.text, range.clone(), b"", self.cursor)?;
        self.edited(range.start);
        Ok(())
    }

    /// Ctrl-X (`remove`) or Ctrl-C: the selection, or else the cursor's whole line, into the
    /// register.
    fn cut(&mut self, remove: bool) -> Result<()> {
        let range = self.selection().unwrap_or_else(|| {
            let line = self.text.line_of(self.cursor);
            let end = if line + 1 < self.text.line_count() {
                self.text.line_start(line + 1)
            } else {
                self.text.line_end(line)
            };
            self.text.line_start(line)..end
        });
        if range.is_empty() {
            return Ok(());
        }
        self.register.clear();
        self.text.copy_into(range.clone(), &mut self.register)?;
        if remove {
            self.history.break_group();
            self.history.replace(&mut self.text, range.clone(), b"", self.cursor)?;
            self.edited(range.start);
            self.history.break_group();
        } else {
            self.message = Some("copied".into());
        }
        Ok(())
    }

    fn paste_register(&mut self) -> Result<()> {
        if self.register.is_empty() {
            return Ok(());
        }
        let Editor { register, history, text, cursor, .. } = self;
        let range = match self.anchor {
            Some(anchor) if anchor != *cursor => anchor.min(*cursor)..anchor.max(*cursor),
            _ => *cursor..*cursor,
        };
        history.break_group();
        let len = register.len();
        register.with(|bytes| history.replace(text, range.clone(), bytes, *cursor))??;
        history.break_group();
        self.edited(range.start + len);
        Ok(())
    }

    /// Inserts text pasted into the terminal (bracketed paste), then wipes it: it came from
    /// crossterm as an ordinary `String`. Terminals send line breaks as `\r`.
    pub fn paste(&mut self, pasted: String) -> Result<()> {
        let mut bytes = pasted.into_bytes(); // the same allocation: no copy
        let mut len = 0;
        for i in 0..bytes.len() {
            match bytes[i] {
                b'\r' if bytes.get(i + 1) == Some(&b'\n') => {}
                b'\r' => {
                    bytes[len] = b'\n';
                    len += 1;
                }
                b => {
                    bytes[len] = b;
                    len += 1;
                }
            }
        }
        self.history.break_group();
        let done = self.replace_selection(&bytes[..len]);
        self.history.break_group();
        bytes.zeroize();
        done
    }

    fn undo(&mut self, undo: bool) -> Result<()> {
        let cursor = if undo { self.history.undo(&mut self.text)? } else { self.history.redo(&mut self.text)? };
        match cursor {
            Some(cursor) => self.edited(cursor.min(self.text.len())),
            None => self.message = Some(if undo { "nothing to undo" } else { "nothing to redo" }.into()),
        }
        Ok(())
    }

    fn arrow(&mut self, code: KeyCode, ctrl: bool, shift: bool) {
        if !shift && let Some(sel) = self.selection() {
            // An arrow without Shift collapses the selection to its side, as editors do.
            match code {
                KeyCode::Left => return self.move_to(sel.start, false),
                KeyCode::Right => return self.move_to(sel.end, false),
                _ => {}
            }
        }
        match code {
            KeyCode::Left if ctrl => self.move_to(self.text.word_left(self.cursor), shift),
            KeyCode::Right if ctrl => self.move_to(self.text.word_right(self.cursor), shift),
            KeyCode::Left => self.move_to(self.text.prev_boundary(self.cursor), shift),
            KeyCode::Right => self.move_to(self.text.next_boundary(self.cursor), shift),
            KeyCode::Up => self.move_lines(-1, shift),
            _ => self.move_lines(1, shift),
        }
    }

    fn jump(&mut self, code: KeyCode, ctrl: bool, shift: bool) {
        let line = self.text.line_of(self.cursor);
        match code {
            KeyCode::Home if ctrl => self.move_to(0, shift),
            KeyCode::End if ctrl => self.move_to(self.text.len(), shift),
            KeyCode::Home => self.move_to(self.text.line_start(line), shift),
            KeyCode::End => self.move_to(self.text.line_end(line), shift),
            KeyCode::PageUp => self.move_lines(-(self.page.max(1) as isize), shift),
            _ => self.move_lines(self.page.max(1) as isize, shift),
        }
    }

    /// Moves the cursor to `offset`, extending the selection when `select`.
    fn move_to(&mut self, offset: usize, select: bool) {
        self.move_keeping_goal(offset, select);
        self.goal = None;
    }

    fn move_keeping_goal(&mut self, offset: usize, select: bool) {
        self.history.break_group();
        if select {
            self.anchor.get_or_insert(self.cursor);
        } else {
            self.anchor = None;
        }
        self.cursor = offset.min(self.text.len());
    }

    /// Up or down `delta` lines, keeping to the goal column.
    fn move_lines(&mut self, delta: isize, select: bool) {
        let line = self.text.line_of(self.cursor);
        let goal = self.goal.unwrap_or_else(|| self.column(self.cursor));
        let last = self.text.line_count() - 1;
        let target = line.saturating_add_signed(delta).min(last);
        let offset = if delta < 0 && line == 0 {
            0
        } else if delta > 0 && line == last {
            self.text.len()
        } else {
            self.offset_at_column(target, goal)
        };
        self.move_keeping_goal(offset, select);
        self.goal = Some(goal);
    }

    /// The screen column of `offset` within its line.
    pub fn column(&self, offset: usize) -> usize {
        let start = self.text.line_start(self.text.line_of(offset));
        let (a, b) = self.text.slices(start..offset);
        let mut col = 0;
        for (part, base) in [(a, start), (b, start + a.len())] {
            glyphs::each_char(part, base, |_, c, _| {
                col += glyphs::width(c, col);
                true
            });
        }
        col
    }

    /// The offset in `line` at screen column `goal` (or the line's end, if it is shorter).
    fn offset_at_column(&self, line: usize, goal: usize) -> usize {
        let (start, end) = (self.text.line_start(line), self.text.line_end(line));
        let (a, b) = self.text.slices(start..end);
        let mut col = 0;
        let mut found = end;
        for (part, base) in [(a, start), (b, start + a.len())] {
            let more = glyphs::each_char(part, base, |at, c, _| {
                let w = glyphs::width(c, col);
                if col + w > goal {
                    found = at;
                    return false;
                }
                col += w;
                true
            });
            if !more {
                break;
            }
        }
        found
    }

    /// Scrolls so the cursor is on screen, given `rows` text rows and `cols` text columns.
    pub fn scroll(&mut self, rows: usize, cols: usize) {
        self.page = rows.max(1);
        let line = self.text.line_of(self.cursor);
        if line < self.top {
            self.top = line;
        } else if line >= self.top + self.page {
            self.top = line + 1 - self.page;
        }
        let col = self.column(self.cursor);
        let cols = cols.max(1);
        if col < self.left {
            self.left = col;
        } else if col >= self.left + cols {
            self.left = col + 1 - cols;
        }
    }

    /// The text was saved: it matches the file now.
    pub fn saved(&mut self) {
        self.history.break_group();
        self.saved_state = self.history.state();
        self.modified = false;
    }

    /// Seals the text, the undo log, the register and the search pattern into enclaves and
    /// wipes them here (auto-lock). Typed-but-unfinished prompts are dropped.
    pub fn lock(&mut self) -> Result<()> {
        self.typed.clear();
        let text = Some(self.text.seal()?);
        self.history.seal()?;
        let register = seal(&mut self.register)?;
        let pattern = seal(&mut self.pattern)?;
        self.sealed = Some(Sealed { text, register, pattern });
        self.mode = Mode::Locked;
        self.message = None;
        Ok(())
    }

    /// Reverses [`Editor::lock`] once the passphrase was right. On error (out of protected
    /// memory) the editor stays locked with everything still sealed: try again.
    pub fn unlock(&mut self) -> Result<()> {
        self.typed.clear();
        if let Some(sealed) = &self.sealed {
            let text = sealed.text.as_ref().map(Text::unseal).transpose()?;
            let (mut register, mut pattern) = (SecretVec::new(), SecretVec::new());
            unseal(sealed.register.as_ref(), &mut register)?;
            unseal(sealed.pattern.as_ref(), &mut pattern)?;
            self.history.unseal()?;
            // Everything opened: only now let the sealed copies go.
            if let Some(text) = text {
                self.text = text;
            }
            (self.register, self.pattern, self.sealed) = (register, pattern, None);
        }
        self.mode = Mode::Edit;
        self.message = None;
        Ok(())
    }

    /// A wrong unlock passphrase: wipe it and say so.
    pub fn wrong_passphrase(&mut self, message: String) {
        self.typed.clear();
        self.message = Some(message);
    }
}

/// Seals `bytes` into an enclave (none when empty) and wipes them.
fn seal(bytes: &mut SecretVec<u8>) -> Result<Option<Enclave>> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let sealed = bytes.with_mut(Enclave::new)??;
    bytes.clear();
    Ok(Some(sealed))
}

fn unseal(sealed: Option<&Enclave>, into: &mut SecretVec<u8>) -> Result<()> {
    into.clear();
    match sealed {
        Some(sealed) => sealed.with(|b| into.extend_from_slice(b))?,
        None => Ok(()),
    }
}

/// Where the last char of `bytes` starts.
fn last_char_start(bytes: &[u8]) -> usize {
    let mut at = bytes.len().saturating_sub(1);
    while at > 0 && bytes[at] & 0xC0 == 0x80 && bytes.len() - at < 4 {
        at -= 1;
    }
    at
}

#[cfg(test)]
mod tests;
