//! Drawing the editor: the visible lines with their numbers, the status line, prompts, the
//! help screen and the locked screen.
//!
//! Text goes from protected memory straight into the cells of ratatui's frame buffer, one
//! char at a time (no `String` of a line is ever made), and only for the lines on screen.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::editor::{Editor, Mode};
use super::glyphs;

/// What the status line says about the file.
pub struct Labels<'a> {
    /// The file's name.
    pub name: &'a str,
    /// Its format, e.g. `sedit v3`.
    pub format: &'a str,
    /// Auto-lock's idle time, in words (`5 min`), for the locked screen.
    pub lock_after: &'a str,
}

/// The keys, for the help screen (F1).
const HELP: &str = "\
sedit: the text lives only in protected memory

Ctrl-S  save              Ctrl-Q  quit (asks if unsaved)
Ctrl-O or F12  save as (a new file, same format and passphrase)
Ctrl-F  find              F3 / Shift-F3 (or Ctrl-R)  next / previous
Ctrl-Z  undo              Ctrl-Y  redo
Ctrl-X  cut (line if no selection)   Ctrl-C  copy   Ctrl-V  paste
Ctrl-A  select all        Shift+move  select
Ctrl-G  go to line        Ctrl-Home / Ctrl-End  start / end
Ctrl-Left / Ctrl-Right  word left / right
Home / End  line start / end      PgUp / PgDn  page

Cut and copy use sedit's own register, never the system clipboard.

Press any key to return.";

/// Draws the whole screen for `editor`.
pub fn draw(frame: &mut Frame, editor: &mut Editor, labels: &Labels) {
    let area = frame.area();
    if editor.mode == Mode::Locked {
        return draw_locked(frame, editor, labels);
    }
    if area.height < 3 || area.width < 10 {
        return;
    }
    let rows = usize::from(area.height - 2);
    let gutter = digits(editor.text.line_count()) + 1;
    let cols = usize::from(area.width).saturating_sub(gutter);
    editor.scroll(rows, cols);
    draw_text(frame.buffer_mut(), editor, Rect { height: area.height - 2, ..area }, gutter);
    draw_status(frame.buffer_mut(), editor, labels, area);
    let bottom = area.y + area.height - 1;
    let prompt = match editor.mode {
        Mode::Find => Some("Find: "),
        Mode::GoToLine => Some("Go to line: "),
        Mode::SaveAs => Some("Save as: "),
        _ => None,
    };
    match prompt {
        Some(prompt) => {
            let x = draw_prompt(frame.buffer_mut(), editor, prompt, area.x, bottom, area.width);
            frame.set_cursor_position(Position { x, y: bottom });
        }
        None => {
            let message = match editor.mode {
                Mode::QuitPrompt => {
                    "Unsaved changes: save before quitting? y = save and quit, n = quit without saving, Esc = stay"
                }
                _ => editor.message.as_deref().unwrap_or(""),
            };
            frame.buffer_mut().set_stringn(area.x, bottom, message, usize::from(area.width), Style::default());
            let line = editor.text.line_of(editor.cursor);
            let x = gutter + editor.column(editor.cursor) - editor.left;
            let y = line - editor.top;
            if editor.mode == Mode::Edit && x < usize::from(area.width) && y < rows {
                frame.set_cursor_position(Position { x: area.x + x as u16, y: area.y + y as u16 });
            }
        }
    }
    if editor.mode == Mode::Help {
        let help = centered(area, 72, 20);
        frame.render_widget(Clear, help);
        frame.render_widget(Paragraph::new(HELP).wrap(Wrap { trim: false }).block(Block::bordered()), help);
    }
}

/// The lines from `editor.top` that fit in `area`, each after its line number.
fn draw_text(buf: &mut Buffer, editor: &mut Editor, area: Rect, gutter: usize) {
    let selection = editor.selection().unwrap_or(0..0);
    let number_style = Style::default().add_modifier(Modifier::DIM);
    let selected = Style::default().add_modifier(Modifier::REVERSED);
    let right = usize::from(area.x) + usize::from(area.width);
    for row in 0..area.height {
        let line = editor.top + usize::from(row);
        if line >= editor.text.line_count() {
            break;
        }
        let y = area.y + row;
        let number = format!("{:>width$} ", line + 1, width = gutter - 1);
        buf.set_stringn(area.x, y, number, gutter, number_style);
        let (start, end) = (editor.text.line_start(line), editor.text.line_end(line));
        let left = editor.left;
        let bytes = editor.text.contiguous(start..end);
        let mut col = 0;
        glyphs::each_char(bytes, start, |at, c, _| {
            let width = glyphs::width(c, col);
            let x = usize::from(area.x) + gutter + col;
            col += width;
            if col <= left {
                return true;
            }
            let x = x.saturating_sub(left);
            if x + width > right {
                return false;
            }
            let style = if selection.contains(&at) { selected } else { Style::default() };
            let shown = match c {
                '\t' => ' ',
                c if c.is_control() => '?',
                c => c,
            };
            buf[(x as u16, y)].set_char(shown).set_style(style);
            // The cells a wide char or a tab covers: blank for a tab, hidden for a wide char
            // (reset, as ratatui's own string drawing does).
            for extra in 1..width {
                let cell = &mut buf[((x + extra) as u16, y)];
                cell.reset();
                cell.set_style(style);
            }
            true
        });
    }
}

/// The status line: file, format, modified, cursor position.
fn draw_status(buf: &mut Buffer, editor: &Editor, labels: &Labels, area: Rect) {
    let y = area.y + area.height - 2;
    let line = editor.text.line_of(editor.cursor);
    let status = format!(
        " {}{} | {} | Ln {}, Col {} | {} lines",
        labels.name,
        if editor.modified { " [modified]" } else { "" },
        labels.format,
        line + 1,
        editor.column(editor.cursor) + 1,
        editor.text.line_count(),
    );
    let style = Style::default().add_modifier(Modifier::REVERSED);
    buf.set_style(Rect { y, height: 1, ..area }, style);
    buf.set_stringn(area.x, y, status, usize::from(area.width), style);
    let help = "F1 help ";
    if usize::from(area.width) > help.len() + 40 {
        buf.set_string(area.x + area.width - help.len() as u16, y, help, style);
    }
}

/// A prompt and what is typed after it, char by char from protected memory; returns the
/// column after it (where the cursor goes).
fn draw_prompt(buf: &mut Buffer, editor: &Editor, prompt: &str, x: u16, y: u16, width: u16) -> u16 {
    buf.set_stringn(x, y, prompt, usize::from(width), Style::default());
    let mut at = x + prompt.len() as u16;
    let end = x + width;
    let _ = editor.typed().with(|typed| {
        glyphs::each_char(typed, 0, |_, c, _| {
            let w = glyphs::width(c, 0) as u16;
            if at + w > end {
                return false;
            }
            buf[(at, y)].set_char(if c.is_control() { '?' } else { c });
            at += w;
            true
        })
    });
    at.min(end.saturating_sub(1))
}

/// The locked screen: nothing of the document, and the passphrase prompt (never echoed).
fn draw_locked(frame: &mut Frame, editor: &Editor, labels: &Labels) {
    let area = frame.area();
    let message = editor.message.as_deref().unwrap_or("");
    let text = format!(
        "sedit locked after {} idle: {} is sealed away.\n\nPassphrase to unlock (not shown): \n\n{}",
        labels.lock_after, labels.name, message
    );
    let rect = centered(area, 64, 7);
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(Block::bordered().title(" locked ")),
        rect,
    );
}

/// A rectangle of at most `width` × `height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let (w, h) = (width.min(area.width), height.min(area.height));
    Rect { x: area.x + (area.width - w) / 2, y: area.y + (area.height - h) / 2, width: w, height: h }
}

/// Decimal digits of `n`.
fn digits(n: usize) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}
