use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::sedit::view::{self, Labels};

fn editor(text: &str) -> Editor {
    Editor::new(Text::from_bytes(text.as_bytes()).unwrap())
}

fn contents(e: &mut Editor) -> String {
    let len = e.text.len();
    String::from_utf8(e.text.contiguous(0..len).to_vec()).unwrap()
}

fn press(e: &mut Editor, code: KeyCode, modifiers: KeyModifiers) -> Command {
    e.key(KeyEvent::new(code, modifiers)).unwrap()
}

fn key(e: &mut Editor, code: KeyCode) -> Command {
    press(e, code, KeyModifiers::NONE)
}

fn ctrl(e: &mut Editor, c: char) -> Command {
    press(e, KeyCode::Char(c), KeyModifiers::CONTROL)
}

fn type_str(e: &mut Editor, text: &str) {
    for c in text.chars() {
        key(e, KeyCode::Char(c));
    }
}

/// The screen as text, one string per row.
fn screen(e: &mut Editor, width: u16, height: u16) -> Vec<String> {
    let mut term = Terminal::new(TestBackend::new(width, height)).unwrap();
    let labels = Labels { name: "notes.sedit", format: "sedit v3", lock_after: "5 min" };
    term.draw(|f| view::draw(f, e, &labels)).unwrap();
    let buf = term.backend().buffer();
    (0..height).map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect::<String>()).collect()
}

#[test]
fn typing_backspace_and_delete_edit_at_the_cursor() {
    let mut e = editor("ac");
    key(&mut e, KeyCode::Right);
    type_str(&mut e, "b");
    assert_eq!(contents(&mut e), "abc");
    assert!(e.modified);
    key(&mut e, KeyCode::Backspace);
    key(&mut e, KeyCode::Delete);
    assert_eq!(contents(&mut e), "a");
    key(&mut e, KeyCode::Enter);
    key(&mut e, KeyCode::Tab);
    assert_eq!(contents(&mut e), "a\n\t");
}

#[test]
fn shift_arrows_select_and_typing_replaces_the_selection() {
    let mut e = editor("hello world");
    press(&mut e, KeyCode::Right, KeyModifiers::SHIFT | KeyModifiers::CONTROL);
    assert_eq!(e.selection(), Some(0..6));
    type_str(&mut e, "J");
    assert_eq!(contents(&mut e), "Jworld");
    assert_eq!(e.selection(), None);
}

#[test]
fn up_and_down_keep_the_goal_column_across_short_and_wide_lines() {
    let mut e = editor("abcdef\nx\näb界cd");
    press(&mut e, KeyCode::End, KeyModifiers::NONE);
    key(&mut e, KeyCode::Left); // column 5
    key(&mut e, KeyCode::Down);
    assert_eq!(e.cursor, 8, "the end of the short line");
    key(&mut e, KeyCode::Down);
    // ä(1) b(1) 界(2) c(1): column 5 is before `d`.
    assert_eq!(e.column(e.cursor), 5);
    assert_eq!(e.cursor, "abcdef\nx\näb界c".len());
    press(&mut e, KeyCode::Home, KeyModifiers::CONTROL);
    assert_eq!(e.cursor, 0);
    press(&mut e, KeyCode::End, KeyModifiers::CONTROL);
    assert_eq!(e.cursor, e.text.len());
}

#[test]
fn cut_copy_and_paste_use_the_register() {
    let mut e = editor("one\ntwo\nthree");
    ctrl(&mut e, 'x'); // no selection: the whole line
    assert_eq!(contents(&mut e), "two\nthree");
    press(&mut e, KeyCode::End, KeyModifiers::CONTROL);
    ctrl(&mut e, 'v');
    assert_eq!(contents(&mut e), "two\nthreeone\n");
    press(&mut e, KeyCode::Home, KeyModifiers::CONTROL);
    press(&mut e, KeyCode::Right, KeyModifiers::SHIFT);
    ctrl(&mut e, 'c');
    assert_eq!(e.message.as_deref(), Some("copied"));
    press(&mut e, KeyCode::End, KeyModifiers::CONTROL);
    ctrl(&mut e, 'v');
    assert!(contents(&mut e).ends_with("one\nt"));
}

#[test]
fn undo_and_redo_go_back_and_forth_by_typing_groups() {
    let mut e = editor("x");
    type_str(&mut e, "abc");
    key(&mut e, KeyCode::Right);
    type_str(&mut e, "de");
    assert_eq!(contents(&mut e), "abcxde");
    ctrl(&mut e, 'z');
    assert_eq!(contents(&mut e), "abcx");
    ctrl(&mut e, 'z');
    assert_eq!(contents(&mut e), "x");
    assert!(!e.modified, "back where the file was");
    ctrl(&mut e, 'z');
    assert_eq!(e.message.as_deref(), Some("nothing to undo"));
    ctrl(&mut e, 'y');
    ctrl(&mut e, 'y');
    assert_eq!(contents(&mut e), "abcxde");
}

#[test]
fn find_selects_matches_forward_and_backward_and_wraps() {
    let mut e = editor("cat dog cat bird cat");
    ctrl(&mut e, 'f');
    assert_eq!(e.mode, Mode::Find);
    type_str(&mut e, "cat");
    key(&mut e, KeyCode::Enter);
    assert_eq!(e.selection(), Some(0..3), "a match at the cursor counts");
    key(&mut e, KeyCode::F(3));
    assert_eq!(e.selection(), Some(8..11));
    key(&mut e, KeyCode::F(3));
    assert_eq!(e.selection(), Some(17..20));
    key(&mut e, KeyCode::F(3));
    assert_eq!(e.selection(), Some(0..3));
    assert_eq!(e.message.as_deref(), Some("search wrapped around"));
    press(&mut e, KeyCode::F(3), KeyModifiers::SHIFT);
    assert_eq!(e.selection(), Some(17..20));
    ctrl(&mut e, 'r');
    assert_eq!(e.selection(), Some(8..11), "Ctrl-R finds the previous one too");
    ctrl(&mut e, 'f');
    type_str(&mut e, "fish");
    key(&mut e, KeyCode::Enter);
    assert_eq!(e.message.as_deref(), Some("not found"));
}

#[test]
fn go_to_line_moves_to_its_start_and_clamps() {
    let mut e = editor("a\nb\nc");
    ctrl(&mut e, 'g');
    type_str(&mut e, "2");
    key(&mut e, KeyCode::Enter);
    assert_eq!(e.cursor, 2);
    ctrl(&mut e, 'g');
    type_str(&mut e, "99");
    key(&mut e, KeyCode::Enter);
    assert_eq!(e.cursor, 4);
    ctrl(&mut e, 'g');
    type_str(&mut e, "x");
    key(&mut e, KeyCode::Enter);
    assert_eq!(e.message.as_deref(), Some("not a line number"));
}

#[test]
fn quitting_with_changes_asks_first() {
    let mut e = editor("");
    assert_eq!(ctrl(&mut e, 'q'), Command::Quit, "nothing to lose");
    type_str(&mut e, "x");
    assert_eq!(ctrl(&mut e, 'q'), Command::None);
    assert_eq!(e.mode, Mode::QuitPrompt);
    assert_eq!(key(&mut e, KeyCode::Esc), Command::None);
    assert_eq!(e.mode, Mode::Edit);
    ctrl(&mut e, 'q');
    assert_eq!(key(&mut e, KeyCode::Char('n')), Command::Quit);
    ctrl(&mut e, 'q');
    assert_eq!(key(&mut e, KeyCode::Char('y')), Command::SaveAndQuit);
    e.saved();
    assert_eq!(ctrl(&mut e, 'q'), Command::Quit);
    type_str(&mut e, "y");
    ctrl(&mut e, 'z');
    assert_eq!(ctrl(&mut e, 'q'), Command::Quit, "undone back to the saved text");
    assert_eq!(ctrl(&mut e, 's'), Command::Save);
    ctrl(&mut e, 'o');
    assert_eq!(e.mode, Mode::SaveAs);
    assert_eq!(key(&mut e, KeyCode::Enter), Command::None, "no name, no save");
    key(&mut e, KeyCode::F(12));
    type_str(&mut e, "copy.sedit");
    assert_eq!(key(&mut e, KeyCode::Enter), Command::SaveAs);
    assert_eq!(&*e.typed().expose().unwrap(), b"copy.sedit");
    e.clear_typed();
    assert!(e.typed().is_empty());
}

#[test]
fn a_paste_turns_terminal_line_breaks_into_newlines() {
    let mut e = editor("");
    e.paste("a\r\nb\rc\n".to_owned()).unwrap();
    assert_eq!(contents(&mut e), "a\nb\nc\n");
    ctrl(&mut e, 'z');
    assert_eq!(contents(&mut e), "", "a paste is one undo step");
}

#[test]
fn lock_seals_everything_and_unlock_brings_it_back() {
    let mut e = editor("secret line\nsecond");
    ctrl(&mut e, 'x');
    ctrl(&mut e, 'f');
    type_str(&mut e, "sec");
    key(&mut e, KeyCode::Enter);
    e.lock().unwrap();
    assert_eq!(e.mode, Mode::Locked);
    assert_eq!(e.text.len(), 0, "the text is sealed away");
    assert!(e.register.is_empty() && e.pattern.is_empty());
    let shown = screen(&mut e, 80, 24).join("\n");
    assert!(shown.contains("locked") && !shown.contains("second"), "{shown}");
    type_str(&mut e, "pw");
    assert_eq!(e.typed().len(), 2);
    assert_eq!(key(&mut e, KeyCode::Enter), Command::Unlock);
    e.wrong_passphrase("wrong".into());
    assert!(e.typed().is_empty(), "a wrong passphrase is wiped");
    e.unlock().unwrap();
    assert_eq!(e.mode, Mode::Edit);
    assert_eq!(contents(&mut e), "second");
    press(&mut e, KeyCode::Home, KeyModifiers::CONTROL); // the found match was still selected
    ctrl(&mut e, 'v');
    assert_eq!(contents(&mut e), "secret line\nsecond");
    ctrl(&mut e, 'z');
    assert_eq!(contents(&mut e), "second", "the undo log survives the lock");
}

#[test]
fn the_screen_shows_only_the_lines_that_fit_with_numbers_and_a_status_line() {
    let text: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    let mut e = editor(&text);
    let rows = screen(&mut e, 60, 10);
    assert_eq!(rows[0].trim_end(), "  1 line 1");
    assert_eq!(rows[7].trim_end(), "  8 line 8");
    assert!(rows[8].contains("notes.sedit | sedit v3 | Ln 1, Col 1 | 101 lines"), "{rows:?}");
    assert!(!rows.join("").contains("line 9"));
    press(&mut e, KeyCode::End, KeyModifiers::CONTROL);
    let rows = screen(&mut e, 60, 10);
    assert_eq!(rows[7].trim_end(), "101");
    assert!(!rows[8].contains("[modified]") && rows[8].contains("Ln 101"), "{rows:?}");
    key(&mut e, KeyCode::F(1));
    assert!(screen(&mut e, 80, 24).join("\n").contains("Ctrl-S  save"));
    key(&mut e, KeyCode::Char('z'));
    assert_eq!(e.mode, Mode::Edit, "any key closes help");
}

#[test]
fn long_lines_scroll_sideways_with_the_cursor() {
    let mut e = editor(&"x".repeat(200));
    press(&mut e, KeyCode::End, KeyModifiers::NONE);
    let rows = screen(&mut e, 40, 5);
    assert!(e.left > 0);
    assert!(rows[0].starts_with("1 x"));
}
