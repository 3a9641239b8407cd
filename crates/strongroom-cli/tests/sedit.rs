//! `sedit` end to end, as a user drives it: each test runs the binary in a real terminal (a
//! private tmux server, `common::tmux`), types passphrases and keys into it, reads the screen,
//! and checks the files it leaves by decrypting them here with the library.
//!
//! Passphrases are typed only once their prompt is on the screen: the prompt turns echo off
//! and flushes what was typed before it first, so typing earlier would be lost. Files under
//! test are copies in a temporary directory (sedit rewrites what it saves); the original
//! sedit's vectors come from `../shared/vectors/sedit` beside the repository, and their tests
//! are skipped, visibly, where that is absent.
#![cfg(target_os = "linux")]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::tempdir;
use common::tmux::{self, PATIENCE, Pane};
use strongroom::kdf::KdfParams;

/// Cheap key derivation for the files tests make (sedit keeps a v3 file's parameters when it
/// saves it again, so saving these is quick too).
const CHEAP: KdfParams = KdfParams { memory_kib: 1024, iterations: 1, rounds: 10 };

/// How long a message that needs no key derivation may take to appear.
const QUICK: Duration = Duration::from_secs(20);

/// The start of every sedit v3 file.
const V3_MAGIC: &[u8] = b"SEDIT\0\x03\0";

// Helpers ----------------------------------------------------------------------------------

/// Runs `sedit args` in `dir` under tmux.
fn sedit(dir: &Path, args: &[&str]) -> Pane {
    let mut argv = vec![env!("CARGO_BIN_EXE_sedit")];
    argv.extend(args);
    Pane::run(dir, &argv)
}

/// The prompt for an existing file's passphrase.
fn prompt(name: &str) -> String {
    format!("Passphrase for {name}: ")
}

/// Types `passphrase` at the `nth` (from 1) passphrase prompt for `name`.
#[track_caller]
fn answer(pane: &Pane, name: &str, passphrase: &str, nth: usize) {
    pane.wait_for_count(&prompt(name), nth, PATIENCE);
    pane.type_line(passphrase);
}

/// Runs `sedit args NAME` in `dir`, types the passphrase and waits for the editor; the screen.
#[track_caller]
fn open(dir: &Path, name: &str, passphrase: &str, args: &[&str]) -> (Pane, String) {
    let mut all = args.to_vec();
    all.push(name);
    let pane = sedit(dir, &all);
    answer(&pane, name, passphrase, 1);
    let screen = wait_for_editor(&pane, name);
    (pane, screen)
}

/// Waits for the editor's status line for `name`; the screen.
#[track_caller]
fn wait_for_editor(pane: &Pane, name: &str) -> String {
    let status = format!(" {name} ");
    pane.wait_until(&format!("the editor's status line for {name}"), PATIENCE, |s| {
        s.lines().any(|l| l.starts_with(&status) && l.contains(" | Ln "))
    })
}

/// The status line on `screen` (the line with `| Ln`).
#[track_caller]
fn status_line(screen: &str) -> &str {
    screen.lines().find(|l| l.contains(" | Ln ")).unwrap_or_else(|| panic!("no status line on the screen:\n{screen}"))
}

/// Saves with Ctrl-S and waits for `saved NAME`.
#[track_caller]
fn save(pane: &Pane, name: &str) {
    pane.keys(&["C-s"]);
    pane.wait_for(&format!("saved {name}"), PATIENCE);
}

/// Quits with Ctrl-Q (nothing unsaved) and checks sedit exits 0.
#[track_caller]
fn quit(pane: &Pane) {
    pane.keys(&["C-q"]);
    assert_eq!(pane.wait_exit(QUICK), 0, "sedit's exit status; the screen:\n{}", pane.screen());
}

/// Writes a cheap-parameters v3 file of `plaintext` under `passphrase` at `dir/name`.
fn write_cheap(dir: &Path, name: &str, plaintext: &[u8], passphrase: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, strongroom::sedit::encrypt(plaintext, passphrase.as_bytes(), &CHEAP).unwrap()).unwrap();
    path
}

/// The plaintext of the sedit file at `path`.
#[track_caller]
fn decrypt(path: &Path, passphrase: &str) -> Vec<u8> {
    let file = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let plain = strongroom::sedit::decrypt(&file, passphrase.as_bytes())
        .unwrap_or_else(|e| panic!("{} does not decrypt: {e}", path.display()));
    plain.expose().unwrap().to_vec()
}

/// The plaintext of the age file at `path`, encrypted to `passphrase`.
#[track_caller]
fn decrypt_age(path: &Path, passphrase: &str) -> Vec<u8> {
    use strongroom::age::{Decryptor, Identity};
    let file = std::fs::read(path).unwrap();
    let mut pass = passphrase.as_bytes().to_vec();
    let identity = Identity::passphrase(strongroom::LockedBuffer::from_bytes(&mut pass).unwrap());
    let mut plain = strongroom::SecretVec::new();
    Decryptor::new(&file[..], &[identity]).unwrap().read_to_end_secret(&mut plain).unwrap();
    plain.expose().unwrap().to_vec()
}

/// `n` random bytes.
fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom").unwrap(), &mut bytes).unwrap();
    bytes
}

/// The temporary files a save leaves in `dir` beside `name` (`.NAME.*.tmp`).
fn temporary_files(dir: &Path, name: &str) -> Vec<String> {
    let prefix = format!(".{name}.");
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".tmp"))
        .collect()
}

/// `../shared/vectors/sedit`, or `None` where `../shared` is absent (reported
/// [`common::missing`]: skipped visibly, a failure under CI as root).
#[track_caller]
fn shared_vectors(test: &str) -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared");
    if !shared.is_dir() {
        common::missing(test, "../shared is absent beside the repo root");
        return None;
    }
    Some(shared.join("vectors/sedit"))
}

// 1. The original sedit's files ------------------------------------------------------------

/// Opens the vector `name` (a copy), checks the screen, types a line at the top, saves and
/// quits; the file is then v3 (with the default KDF for a v1/v2 file, its own parameters for
/// a v3 one), decrypts to the line and the old text, and opens again showing both.
fn vector(test: &str, name: &str, passphrase: &str) {
    if !tmux::available(test) {
        return;
    }
    let Some(vectors) = shared_vectors(test) else { return };
    let read = |ext: &str| {
        let path = vectors.join(format!("{name}.{ext}"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("the vector {} is missing: {e}", path.display()))
    };
    let (original, plaintext) = (read("sedit"), read("plaintext"));
    let version = original[6];
    let dir = tempdir(test);
    let file = format!("{name}.sedit");
    std::fs::write(dir.join(&file), &original).unwrap();

    let pane = sedit(&dir, &[&file]);
    answer(&pane, &file, passphrase, 1);
    let screen = wait_for_editor(&pane, &file);
    let status = status_line(&screen);
    assert!(status.contains(&format!("sedit v{version}")), "{status}");
    assert_eq!(status.contains("(saves as v3)"), version < 3, "{status}");
    assert!(!status.contains("[modified]"), "{status}");
    let lines = plaintext.split(|&b| b == b'\n').count();
    assert!(status.contains(&format!("| {lines} lines")), "{status}");
    if plaintext.is_empty() {
        assert!(status.contains("| 1 lines"), "{status}");
    } else {
        let first = std::str::from_utf8(plaintext.split(|&b| b == b'\n').next().unwrap()).unwrap();
        assert!(screen.contains(&format!("1 {first}")), "the first line {first:?} is not on the screen:\n{screen}");
    }

    let typed = "e2e edit ✓";
    pane.type_line(typed);
    let screen = pane.wait_until("the typed line and Enter", QUICK, |s| {
        s.contains(&format!("1 {typed}"))
            && s.lines().any(|l| l.contains(" [modified] | ") && l.contains("| Ln 2, Col 1 |"))
    });
    if let Some(first) = plaintext.split(|&b| b == b'\n').next().filter(|l| !l.is_empty()) {
        let first = std::str::from_utf8(first).unwrap();
        assert!(screen.contains(&format!("2 {first}")), "{screen}");
    }
    save(&pane, &file);
    assert!(!status_line(&pane.screen()).contains("[modified]"));
    quit(&pane);
    // Back on the plain screen: what was written there before the editor started.
    let screen = pane.screen();
    if version < 3 {
        let progress =
            screen.lines().any(|l| l.starts_with("deriving the key from the passphrase (") && l.ends_with("..."));
        assert!(progress, "no KDF progress line:\n{screen}");
    }
    if passphrase.len() >= 4 {
        assert!(!screen.contains(passphrase), "the passphrase was echoed:\n{screen}");
    }

    let saved = std::fs::read(dir.join(&file)).unwrap();
    assert_eq!(&saved[..8], V3_MAGIC, "saved as v3");
    let params = if version == 3 {
        original[8..24].to_vec()
    } else {
        let d = KdfParams::DEFAULT;
        [&d.memory_kib.to_be_bytes()[..], &d.iterations.to_be_bytes(), &d.rounds.to_be_bytes()].concat()
    };
    assert_eq!(saved[8..24], params[..], "the KDF parameters of the saved file");
    let mut expected = format!("{typed}\n").into_bytes();
    expected.extend_from_slice(&plaintext);
    assert_eq!(decrypt(&dir.join(&file), passphrase), expected);
    assert!(temporary_files(&dir, &file).is_empty(), "{:?}", temporary_files(&dir, &file));

    let (pane, screen) = open(&dir, &file, passphrase, &[]);
    assert!(status_line(&screen).contains("| sedit v3 |"), "{screen}");
    assert!(screen.contains(&format!("1 {typed}")), "{screen}");
    quit(&pane);
    assert_eq!(std::fs::read(dir.join(&file)).unwrap(), saved, "quitting unmodified writes nothing");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The vectors and their passphrases (`../shared/design/sedit-format.md`).
const VECTORS: [(&str, &str); 6] = [
    ("v1_constructed", "legacy-v1"),
    ("v2_basic", "correct horse battery staple"),
    ("v2_fixed_salt", "password"),
    ("v2_unicode", "pässwörd-🔑"),
    ("v2_empty_plaintext", "a"),
    ("v3_cheap_params", "pw"),
];

/// The passphrase of the vector `name`.
fn vector_passphrase(name: &str) -> &'static str {
    VECTORS.iter().find(|(n, _)| *n == name).unwrap().1
}

/// Every `*.sedit` in `../shared/vectors/sedit` has a test here.
#[test]
fn every_vector_has_a_test() {
    const TEST: &str = "every_vector_has_a_test";
    let Some(vectors) = shared_vectors(TEST) else { return };
    let mut names: Vec<String> = std::fs::read_dir(&vectors)
        .unwrap_or_else(|e| panic!("{}: {e}", vectors.display()))
        .filter_map(|e| e.unwrap().file_name().into_string().ok()?.strip_suffix(".sedit").map(str::to_owned))
        .collect();
    names.sort();
    let mut known: Vec<&str> = VECTORS.iter().map(|(n, _)| *n).collect();
    known.sort();
    assert_eq!(names, known, "a vector without a test (add it and its passphrase to VECTORS), or one missing");
}

#[test]
fn vector_v1_constructed() {
    vector("vector_v1_constructed", "v1_constructed", vector_passphrase("v1_constructed"));
}

#[test]
fn vector_v2_basic() {
    vector("vector_v2_basic", "v2_basic", vector_passphrase("v2_basic"));
}

#[test]
fn vector_v2_fixed_salt() {
    vector("vector_v2_fixed_salt", "v2_fixed_salt", vector_passphrase("v2_fixed_salt"));
}

#[test]
fn vector_v2_unicode() {
    vector("vector_v2_unicode", "v2_unicode", vector_passphrase("v2_unicode"));
}

#[test]
fn vector_v2_empty_plaintext() {
    vector("vector_v2_empty_plaintext", "v2_empty_plaintext", vector_passphrase("v2_empty_plaintext"));
}

#[test]
fn vector_v3_cheap_params() {
    vector("vector_v3_cheap_params", "v3_cheap_params", vector_passphrase("v3_cheap_params"));
}

// 2. Wrong passphrases when opening --------------------------------------------------------

#[test]
fn a_wrong_passphrase_asks_again_and_three_give_up() {
    const TEST: &str = "a_wrong_passphrase_asks_again_and_three_give_up";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let name = "notes.sedit";
    let path = write_cheap(&dir, name, b"first line\nsecond line\n", "the right one");
    let before = std::fs::read(&path).unwrap();

    let pane = sedit(&dir, &[name]);
    answer(&pane, name, "not it", 1);
    pane.wait_for("wrong passphrase (or the file was altered); try again", PATIENCE);
    answer(&pane, name, "the right one", 2);
    let screen = wait_for_editor(&pane, name);
    assert!(screen.contains("1 first line") && screen.contains("2 second line"), "{screen}");
    quit(&pane);
    let screen = pane.screen();
    assert!(!screen.contains("not it") && !screen.contains("the right one"), "a passphrase was echoed:\n{screen}");

    let pane = sedit(&dir, &[name]);
    for n in 1..=3 {
        answer(&pane, name, &format!("wrong {n}"), n);
    }
    assert_eq!(pane.wait_exit(PATIENCE), 1);
    let screen = pane.screen();
    assert_eq!(screen.matches("wrong passphrase (or the file was altered); try again").count(), 2, "{screen}");
    assert!(screen.contains(&format!("3 wrong passphrases: giving up; {name} is unchanged")), "{screen}");
    assert!(!screen.contains("wrong 1"), "a passphrase was echoed:\n{screen}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

// 3. Quitting with unsaved changes ---------------------------------------------------------

#[test]
fn quitting_with_unsaved_changes_asks_first() {
    const TEST: &str = "quitting_with_unsaved_changes_asks_first";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("notes.sedit", "quit pass");
    let path = write_cheap(&dir, name, b"kept line\n", pass);
    let before = std::fs::read(&path).unwrap();
    let question = "Unsaved changes: save before quitting? y = save and quit, n = quit without saving, Esc = stay";

    // n: quit without saving.
    let (pane, _) = open(&dir, name, pass, &[]);
    pane.type_text("dropped ");
    pane.wait_for("1 dropped kept line", QUICK);
    pane.keys(&["C-q"]);
    pane.wait_for(question, QUICK);
    pane.keys(&["n"]);
    assert_eq!(pane.wait_exit(QUICK), 0);
    assert_eq!(std::fs::read(&path).unwrap(), before, "n quits without saving");

    // Esc: stay (and the key typed next edits as before); then y: save and quit.
    let (pane, _) = open(&dir, name, pass, &[]);
    pane.type_text("saved ");
    pane.wait_for("1 saved kept line", QUICK);
    pane.keys(&["C-q"]);
    pane.wait_for(question, QUICK);
    pane.keys(&["Escape"]);
    let screen = pane.wait_gone(question, QUICK);
    assert!(status_line(&screen).contains("[modified]"), "{screen}");
    pane.type_text("and ");
    pane.wait_for("1 saved and kept line", QUICK);
    assert!(!pane.exited());
    pane.keys(&["C-q"]);
    pane.wait_for(question, QUICK);
    pane.keys(&["y"]);
    assert_eq!(pane.wait_exit(PATIENCE), 0);
    assert_eq!(decrypt(&path, pass), b"saved and kept line\n");

    // Nothing modified: Ctrl-Q quits at once.
    let (pane, _) = open(&dir, name, pass, &[]);
    quit(&pane);
    std::fs::remove_dir_all(&dir).unwrap();
}

// 4. Undo and redo, search, go to line, help -----------------------------------------------

#[test]
fn undo_redo_search_go_to_line_and_help() {
    const TEST: &str = "undo_redo_search_go_to_line_and_help";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("keys.sedit", "keys pass");
    let text = "alpha line\nthe needle here\ngamma line\ndelta line\nanother needle\nzeta line\n";
    let path = write_cheap(&dir, name, text.as_bytes(), pass);
    let (pane, screen) = open(&dir, name, pass, &[]);
    assert!(status_line(&screen).contains("| Ln 1, Col 1 | 7 lines"), "{screen}");
    let at = |ln: &str| {
        let want = format!("| {ln} |");
        pane.wait_until(&format!("the cursor at {ln}"), QUICK, |s| {
            s.lines().any(|l| l.contains(" | Ln ") && l.contains(&want))
        })
    };

    // Help opens over the text, and any key closes it.
    assert!(!screen.contains("Ctrl-S"), "{screen}");
    pane.keys(&["F1"]);
    let help = pane.wait_for("Ctrl-S", QUICK);
    for key in ["Ctrl-Q", "Ctrl-F", "Ctrl-Z", "Ctrl-G"] {
        assert!(help.contains(key), "the help screen lacks {key}:\n{help}");
    }
    pane.keys(&["Escape"]);
    let screen = pane.wait_gone("Ctrl-S", QUICK);
    assert!(screen.contains("1 alpha line") && !status_line(&screen).contains("[modified]"), "{screen}");

    // Undo takes back what was typed as one step; redo brings it back.
    pane.type_text("inserted");
    pane.wait_for("1 insertedalpha line", QUICK);
    pane.keys(&["C-z"]);
    let screen = pane.wait_for("1 alpha line", QUICK);
    assert!(!screen.contains("inserted"), "{screen}");
    at("Ln 1, Col 1");
    pane.keys(&["C-y"]);
    pane.wait_for("1 insertedalpha line", QUICK);
    at("Ln 1, Col 9");
    pane.keys(&["C-z"]);
    pane.wait_for("1 alpha line", QUICK);

    // Search: the prompt shows what is typed; Enter selects the next match (the cursor at its
    // end), F3 the one after; past the last it wraps around. (Shift-F3: its own test.)
    pane.keys(&["C-f"]);
    pane.wait_for("Find: ", QUICK);
    pane.type_text("needle");
    pane.wait_for("Find: needle", QUICK);
    pane.keys(&["Enter"]);
    at("Ln 2, Col 11");
    pane.keys(&["F3"]);
    at("Ln 5, Col 15");
    pane.keys(&["F3"]);
    at("Ln 2, Col 11");
    pane.wait_for("search wrapped around", QUICK);
    pane.keys(&["C-f"]);
    pane.wait_for("Find: ", QUICK);
    pane.type_line("no such words");
    pane.wait_for("not found", QUICK);
    at("Ln 2, Col 11");

    // Go to line; Ctrl-End and Ctrl-Home.
    pane.keys(&["C-g"]);
    pane.wait_for("Go to line: ", QUICK);
    pane.type_text("4");
    pane.wait_for("Go to line: 4", QUICK);
    pane.keys(&["Enter"]);
    at("Ln 4, Col 1");
    pane.keys(&["C-End"]);
    at("Ln 7, Col 1");
    pane.keys(&["C-Home"]);
    at("Ln 1, Col 1");

    // Undone to the file's text: whatever the modified mark says, nothing is written unless
    // asked.
    pane.keys(&["C-q"]);
    if pane
        .wait_until("a quit", QUICK, |s| s.contains("save before quitting?") || s.contains("[e2e: exited"))
        .contains("save before quitting?")
    {
        pane.keys(&["n"]);
    }
    assert_eq!(pane.wait_exit(QUICK), 0);
    assert_eq!(decrypt(&path, pass), text.as_bytes());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Ctrl-R finds the match before the selected one. (Shift-F3 does too where the terminal
/// sends it as a key; tmux, as xterm and VTE do, sends it as `ESC [ 1 ; 2 R`, which is also a
/// cursor position report, and crossterm never hands that on as a key.)
#[test]
fn ctrl_r_finds_the_previous_match() {
    const TEST: &str = "ctrl_r_finds_the_previous_match";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("back.sedit", "back pass");
    write_cheap(
        &dir,
        name,
        b"one needle
two
three needle
",
        pass,
    );
    let (pane, _) = open(&dir, name, pass, &[]);
    let at = |ln: &str| {
        let want = format!("| {ln} |");
        pane.wait_until(&format!("the cursor at {ln}"), QUICK, |s| {
            s.lines().any(|l| l.contains(" | Ln ") && l.contains(&want))
        })
    };
    pane.keys(&["C-f"]);
    pane.type_line("needle");
    at("Ln 1, Col 11");
    pane.keys(&["F3"]);
    at("Ln 3, Col 13");
    pane.keys(&["C-r"]);
    at("Ln 1, Col 11");
    quit(&pane);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Word moves, Shift-selection, cut, copy and paste within sedit, select all, and a
/// bracketed paste from the terminal: the saved file holds exactly what they made.
#[test]
fn selection_cut_copy_paste_and_terminal_paste() {
    const TEST: &str = "selection_cut_copy_paste_and_terminal_paste";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("edit.sedit", "edit pass");
    let path = write_cheap(&dir, name, b"one two three\nfour five\n", pass);
    let (pane, _) = open(&dir, name, pass, &[]);
    let at = |ln: &str| {
        let want = format!("| {ln} |");
        pane.wait_until(&format!("the cursor at {ln}"), QUICK, |s| {
            s.lines().any(|l| l.contains(" | Ln ") && l.contains(&want))
        })
    };

    pane.keys(&["C-Right"]);
    at("Ln 1, Col 5");
    pane.type_text("X");
    pane.wait_for("1 one Xtwo three", QUICK);
    pane.keys(&["C-Left"]);
    at("Ln 1, Col 5");
    pane.keys(&["End"]);
    at("Ln 1, Col 15");
    pane.keys(&["S-Left", "S-Left", "S-Left", "S-Left", "S-Left"]);
    at("Ln 1, Col 10");
    pane.keys(&["C-x"]);
    let screen = pane.wait_until("`three` cut", QUICK, |s| s.lines().any(|l| l.trim_end() == "1 one Xtwo"));
    assert!(!screen.contains("three"), "{screen}");
    pane.keys(&["C-End"]);
    at("Ln 3, Col 1");
    pane.keys(&["C-v"]);
    pane.wait_for("3 three", QUICK);
    pane.paste("A\nB");
    pane.wait_for("4 B", QUICK);
    let screen = pane.wait_for("3 threeA", QUICK);
    assert!(status_line(&screen).contains("Ln 4, Col 2 | 4 lines"), "{screen}");

    let first = "one Xtwo \nfour five\nthreeA\nB";
    pane.keys(&["C-a", "C-c"]);
    pane.wait_for("copied", QUICK);
    pane.keys(&["C-End", "Enter", "C-v"]);
    pane.wait_for("8 B", QUICK);
    save(&pane, name);
    quit(&pane);
    assert_eq!(String::from_utf8(decrypt(&path, pass)).unwrap(), format!("{first}\n{first}"));
    std::fs::remove_dir_all(&dir).unwrap();
}

// 5. Auto-lock -----------------------------------------------------------------------------

/// The locked screen's prompt.
const UNLOCK: &str = "Passphrase to unlock (not shown):";

/// Whether `screen` shows the locked box (its title on its top border) for `name`.
fn locked_box(screen: &str, name: &str) -> bool {
    let title = screen.lines().any(|l| l.trim_start().starts_with("┌ locked ") || l.contains("─ locked "));
    title && screen.contains(&format!("sedit locked after 3 s idle: {name} is sealed away.")) && screen.contains(UNLOCK)
}

#[test]
fn auto_lock_hides_the_text_until_the_passphrase() {
    const TEST: &str = "auto_lock_hides_the_text_until_the_passphrase";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("diary.sedit", "unlock me");
    let text = "alpha private line\nbeta private line\n";
    write_cheap(&dir, name, text.as_bytes(), pass);
    let (pane, screen) = open(&dir, name, pass, &["--lock-after", "3s"]);
    assert!(screen.contains("1 alpha private line"), "{screen}");
    let opened = Instant::now();

    let screen = pane.wait_until("the locked box", PATIENCE, |s| locked_box(s, name));
    assert!(opened.elapsed() >= Duration::from_millis(2500), "locked after {:?}", opened.elapsed());
    for word in ["private", "alpha", "beta", "1 ", " | Ln "] {
        assert!(!screen.contains(word), "{word:?} is on the locked screen:\n{screen}");
    }

    pane.type_line("not the passphrase");
    let screen = pane.wait_for("wrong passphrase (1 of 3 tries); try again", QUICK);
    assert!(!screen.contains("not the passphrase") && !screen.contains("private"), "{screen}");
    pane.type_line(pass);
    let screen = pane.wait_for("1 alpha private line", PATIENCE);
    assert!(screen.contains("2 beta private line") && !screen.contains(" locked "), "{screen}");
    quit(&pane);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn three_wrong_unlocks_quit_without_saving() {
    const TEST: &str = "three_wrong_unlocks_quit_without_saving";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("diary.sedit", "unlock me");
    let path = write_cheap(&dir, name, b"alpha private line\n", pass);
    let before = std::fs::read(&path).unwrap();
    let (pane, _) = open(&dir, name, pass, &["--lock-after", "3s"]);
    pane.type_text("unsaved ");
    pane.wait_for("1 unsaved alpha", QUICK);
    pane.wait_until("the locked box", PATIENCE, |s| locked_box(s, name));
    for n in 1..=2 {
        pane.type_line(&format!("wrong {n}"));
        pane.wait_for(&format!("wrong passphrase ({n} of 3 tries); try again"), QUICK);
    }
    pane.type_line("wrong 3");
    assert_eq!(pane.wait_exit(QUICK), 1);
    let screen = pane.screen();
    assert!(
        screen.contains(&format!("3 wrong passphrases: quit without saving; {name} on disk is unchanged")),
        "{screen}"
    );
    assert!(!screen.contains("private"), "{screen}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

// 6. New files, import, and files of neither format ----------------------------------------

/// Answers a new file's two passphrase prompts for `name`: first two that differ (asked
/// again), then `pass` twice.
#[track_caller]
fn new_passphrase(pane: &Pane, name: &str, pass: &str) {
    let (new, confirm) = (format!("New passphrase for {name}: "), "Confirm passphrase: ");
    pane.wait_for_count(&new, 1, QUICK);
    pane.type_line(pass);
    pane.wait_for_count(confirm, 1, QUICK);
    pane.type_line("something else");
    pane.wait_for_count(&new, 2, QUICK);
    pane.type_line(pass);
    pane.wait_for_count(confirm, 2, QUICK);
    pane.type_line(pass);
}

#[test]
fn a_new_file_asks_twice_and_saves_v3_or_age() {
    const TEST: &str = "a_new_file_asks_twice_and_saves_v3_or_age";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let pass = "brand new pass";
    for (name, label) in [("new.sedit", "sedit v3"), ("x.age", "age")] {
        let pane = sedit(&dir, &[name]);
        new_passphrase(&pane, name, pass);
        let screen = wait_for_editor(&pane, name);
        assert!(status_line(&screen).contains(&format!("| {label} |")), "{screen}");
        assert!(status_line(&screen).contains("| 1 lines"), "{screen}");
        assert!(!screen.contains(pass) && !screen.contains("something else"), "a passphrase was echoed:\n{screen}");
        assert!(!dir.join(name).exists(), "{name} was made before the first save");
        pane.type_line("hello new file");
        pane.wait_for("1 hello new file", QUICK);
        save(&pane, name);
        quit(&pane);
        let file = std::fs::read(dir.join(name)).unwrap();
        if label == "age" {
            assert!(file.starts_with(b"age-encryption.org/v1\n"), "{:?}", String::from_utf8_lossy(&file[..32]));
            assert_eq!(decrypt_age(&dir.join(name), pass), b"hello new file\n");
        } else {
            assert_eq!(&file[..8], V3_MAGIC);
            assert_eq!(decrypt(&dir.join(name), pass), b"hello new file\n");
        }
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(dir.join(name)).unwrap().permissions());
        assert_eq!(mode & 0o077, 0, "{name} is readable by others: {mode:o}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn import_encrypts_a_plaintext_file() {
    const TEST: &str = "import_encrypts_a_plaintext_file";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("imported.sedit", "import pass");
    let plaintext = "imported line one\nline two ✓\n";
    std::fs::write(dir.join("plain.txt"), plaintext).unwrap();
    let pane = sedit(&dir, &["--import", "plain.txt", name]);
    new_passphrase(&pane, name, pass);
    let screen = wait_for_editor(&pane, name);
    assert!(screen.contains("1 imported line one") && screen.contains("2 line two ✓"), "{screen}");
    save(&pane, name);
    quit(&pane);
    assert_eq!(decrypt(&dir.join(name), pass), plaintext.as_bytes());

    // Never over an existing file.
    let before = std::fs::read(dir.join(name)).unwrap();
    let pane = sedit(&dir, &["--import", "plain.txt", name]);
    assert_eq!(pane.wait_exit(PATIENCE), 1, "{}", pane.screen());
    let screen = pane.screen();
    assert!(screen.contains(&format!("{name} exists")) && !screen.contains("assphrase"), "{screen}");
    assert_eq!(std::fs::read(dir.join(name)).unwrap(), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_of_neither_format_is_refused() {
    const TEST: &str = "a_file_of_neither_format_is_refused";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let text = b"just some plain text, not encrypted\n";
    std::fs::write(dir.join("notes.txt"), text).unwrap();
    let pane = sedit(&dir, &["notes.txt"]);
    assert_eq!(pane.wait_exit(PATIENCE), 1);
    let screen = pane.screen();
    assert!(screen.contains("neither a sedit nor an age file"), "{screen}");
    assert!(!screen.contains("assphrase"), "asked for a passphrase first:\n{screen}");
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), text);
    std::fs::remove_dir_all(&dir).unwrap();
}

// 7. A save that fails ---------------------------------------------------------------------

/// A save that fails says so and keeps the editor (and the edits) open; once the cause is
/// gone, Ctrl-S saves. Causes that work for root too (which ignores permissions), on any
/// filesystem and without any capability:
///
/// 1. sedit out of file descriptors: its `RLIMIT_NOFILE` lowered to 0 (prlimit(2)), so the
///    temporary file cannot be created (EMFILE); the file on disk is not touched, so nothing
///    else (sedit's check that the file did not change since it was opened) gets in the way;
/// 2. a directory put where the file was: sedit first says the file changed on disk, and a
///    second Ctrl-S fails to rename the new file over the directory (EISDIR);
///
/// and, not as root, a read-only directory.
#[test]
fn a_failed_save_keeps_the_editor_open() {
    const TEST: &str = "a_failed_save_keeps_the_editor_open";
    if !tmux::available(TEST) {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir(TEST);
    let (name, pass) = ("doc.sedit", "save pass");
    let path = write_cheap(&dir, name, b"the old text\n", pass);
    let before = std::fs::read(&path).unwrap();
    let (pane, _) = open(&dir, name, pass, &[]);
    let pid = pane.pid();
    pane.type_text("new and ");
    pane.wait_for("1 new and the old text", QUICK);
    // Ctrl-S, and the failure it must report; then a key that changes nothing (the cursor to
    // the start) clears it.
    let failed_save = |cause: &str| {
        pane.keys(&["C-s"]);
        let screen = pane.wait_for("NOT SAVED: ", PATIENCE);
        eprintln!("{TEST}: {cause}: {}", screen.lines().find(|l| l.contains("NOT SAVED: ")).unwrap().trim());
        assert!(status_line(&screen).contains("[modified]"), "{screen}");
        assert!(screen.contains("1 new and the old text"), "{screen}");
        assert!(temporary_files(&dir, name).is_empty(), "a failed save left {:?}", temporary_files(&dir, name));
        pane.keys(&["C-Home"]);
        pane.wait_gone("NOT SAVED: ", QUICK);
        assert!(!pane.exited(), "sedit ended after a failed save:\n{}", pane.screen());
    };

    let limit = starve_of_descriptors(pid);
    failed_save("out of file descriptors");
    restore_descriptors(pid, limit);
    assert_eq!(std::fs::read(&path).unwrap(), before);

    if !common::is_root() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        failed_save("a read-only directory");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), before);
    }

    std::fs::remove_file(&path).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("in the way"), b"").unwrap();
    failed_save("a directory in the file's place");
    failed_save("a directory in the file's place, again");
    assert!(path.join("in the way").exists());

    std::fs::remove_dir_all(&path).unwrap();
    pane.type_text("more ");
    pane.wait_for("1 more new and the old text", QUICK);
    // The file is gone since it was opened: sedit may say so once more before it saves.
    pane.keys(&["C-s"]);
    let saved = format!("saved {name}");
    let screen = pane.wait_until("the save", PATIENCE, |s| s.contains(&saved) || s.contains("NOT SAVED: "));
    if !screen.contains(&saved) {
        pane.keys(&["C-Home"]);
        pane.wait_gone("NOT SAVED: ", QUICK);
        save(&pane, name);
    }
    quit(&pane);
    assert_eq!(decrypt(&path, pass), b"more new and the old text\n");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Lowers process `pid`'s soft limit on open files to 0, so that it can open nothing more
/// (what it has open stays open); the limits it had.
fn starve_of_descriptors(pid: u32) -> rustix::process::Rlimit {
    use rustix::process::{Pid, Resource, Rlimit, prlimit};
    // `Max open files  SOFT  HARD  files`; the hard limit is kept.
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits.lines().find(|l| l.starts_with("Max open files")).unwrap();
    let words: Vec<&str> = line.split_whitespace().collect();
    let had = Rlimit { current: words[3].parse().ok(), maximum: words[4].parse().ok() };
    let pid = Pid::from_raw(pid as i32).unwrap();
    prlimit(Some(pid), Resource::Nofile, Rlimit { current: Some(0), maximum: had.maximum }).unwrap();
    had
}

/// Gives process `pid` back its limit on open files.
fn restore_descriptors(pid: u32, limit: rustix::process::Rlimit) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::prlimit(Some(pid), rustix::process::Resource::Nofile, limit).unwrap();
}

// 8. SIGKILL while saving ------------------------------------------------------------------

/// sedit killed (SIGKILL) 0 to 30 ms after Ctrl-S (every other time 0 to 3 ms), again and
/// again: the file is always the old text or the new one, whole.
#[test]
fn a_kill_during_a_save_leaves_the_old_file_or_the_new() {
    const TEST: &str = "a_kill_during_a_save_leaves_the_old_file_or_the_new";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("crash.sedit", "crash pass");
    let path = write_cheap(&dir, name, b"start\n", pass);
    let mut current = b"start\n".to_vec();
    let delays = random_bytes(15);
    let (mut old, mut new) = (0, 0);
    for (round, delay) in delays.iter().enumerate() {
        let (pane, _) = open(&dir, name, pass, &[]);
        let pid = pane.pid();
        let c = char::from(b'a' + (round % 26) as u8);
        pane.type_text(&c.to_string());
        pane.wait_for(&format!("1 {c}"), QUICK);
        pane.keys(&["C-s"]);
        // Every other round within the first 3 ms: a cheap save takes a few.
        let span = if round % 2 == 0 { 30_000 } else { 3_000 };
        std::thread::sleep(Duration::from_micros(u64::from(*delay) * span / 255));
        let target = rustix::process::Pid::from_raw(pid as i32).unwrap();
        rustix::process::kill_process(target, rustix::process::Signal::KILL).unwrap();
        let status = pane.wait_exit(QUICK);
        assert_eq!(status, 128 + 9, "round {round}: killed by SIGKILL");
        let mut edited = c.to_string().into_bytes();
        edited.extend_from_slice(&current);
        let now = decrypt(&path, pass);
        if now == edited {
            new += 1;
            current = edited;
        } else {
            assert_eq!(now, current, "round {round}: neither the old text nor the new");
            old += 1;
        }
    }
    let left = temporary_files(&dir, name).len();
    eprintln!("{TEST}: {old} kills left the old file, {new} the new one; {left} temporary files left behind");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A document larger than RLIMIT_MEMLOCK allows is refused with the way out named; with
/// `--allow-swap` it opens in unlocked memory, and the status line says so.
#[test]
fn a_document_over_the_memlock_limit_is_refused_unless_swap_is_allowed() {
    const TEST: &str = "a_document_over_the_memlock_limit_is_refused_unless_swap_is_allowed";
    if !tmux::available(TEST) {
        return;
    }
    if !common::is_root() {
        return common::skip(TEST, "needs root, to run sedit as nobody under a 64 KiB RLIMIT_MEMLOCK");
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("big.sedit", "big pass");
    let line = "a line of a document that will not fit in 64 KiB of locked memory\n";
    write_cheap(&dir, name, line.repeat(4000).as_bytes(), pass);
    let sedit = env!("CARGO_BIN_EXE_sedit");
    let as_nobody = ["prlimit", "--memlock=65536:65536", "setpriv", "--reuid=nobody", "--regid=nogroup"];
    let run = |extra: &[&str]| {
        let mut argv = as_nobody.to_vec();
        argv.extend(["--clear-groups", sedit]);
        argv.extend(extra);
        argv.push(name);
        let pane = Pane::run(&dir, &argv);
        answer(&pane, name, pass, 1);
        pane
    };
    let refused = run(&[]);
    assert_eq!(refused.wait_exit(PATIENCE), 1, "{}", refused.screen());
    let screen = refused.screen();
    assert!(screen.contains("cannot open big.sedit: cannot lock") && screen.contains("--allow-swap"), "{screen}");

    let allowed = run(&["--allow-swap"]);
    let screen = wait_for_editor(&allowed, name);
    assert!(screen.contains("UNLOCKED: may swap") && screen.contains("a line of a document"), "{screen}");
    quit(&allowed);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Save-as (Ctrl-O) writes a new file with the same passphrase, and the editor goes on with
/// it; the old file is left as it was.
#[test]
fn save_as_writes_a_new_file_and_goes_on_with_it() {
    const TEST: &str = "save_as_writes_a_new_file_and_goes_on_with_it";
    if !tmux::available(TEST) {
        return;
    }
    let dir = tempdir(TEST);
    let (name, pass) = ("draft.sedit", "draft pass");
    let path = write_cheap(&dir, name, b"draft\n", pass);
    let (pane, _) = open(&dir, name, pass, &[]);
    pane.type_text("final ");
    pane.keys(&["C-o"]);
    pane.wait_for("Save as: ", QUICK);
    pane.type_line("final.sedit");
    pane.wait_for("saved final.sedit", QUICK);
    wait_for_editor(&pane, "final.sedit");
    pane.type_text("!");
    pane.keys(&["C-s"]);
    pane.wait_for("saved final.sedit", QUICK);
    quit(&pane);
    assert_eq!(decrypt(&dir.join("final.sedit"), pass), b"final !draft\n");
    assert_eq!(decrypt(&path, pass), b"draft\n");
    std::fs::remove_dir_all(&dir).unwrap();
}
