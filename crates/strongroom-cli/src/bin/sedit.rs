//! `sedit`: a terminal text editor whose plaintext lives only in protected memory.
//!
//! It opens the original sedit's v1/v2/v3 files and age files, and saves v3 (or age)
//! atomically. The document, the undo log, the cut register, the search pattern and the
//! passphrase live in strongroom's protected memory; the screen's two frame buffers hold only
//! the visible lines and are wiped on lock and exit; after an idle time the document is
//! sealed into an `Enclave` and the screen wiped until the passphrase is typed again.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use crossterm::event::Event;

use strongroom_cli::sedit::{document, editor, terminal, view, wipe_alloc};

/// Every heap block is zeroed before it is freed (defence in depth: crossterm's parser, a
/// pasted `String`, ratatui's cells): see `wipe_alloc`.
#[global_allocator]
static ALLOCATOR: wipe_alloc::WipeOnFree = wipe_alloc::WipeOnFree;

use document::{Document, FormatChoice, OpenRequest};
use editor::{Command, Editor, Mode};

/// How many wrong passphrases the locked screen takes before quitting without saving.
const UNLOCK_TRIES: u32 = 3;

/// How long the event loop waits for a key before looking at the clock and signals again.
const TICK: Duration = Duration::from_millis(250);

#[derive(Parser)]
#[command(
    name = "sedit",
    version,
    about = "Edit an encrypted file; its plaintext lives only in protected memory",
    after_help = "Keys: F1 in the editor. Ctrl-S save, Ctrl-Q quit, Ctrl-F find, Ctrl-Z undo."
)]
struct Args {
    /// The encrypted file (sedit v1/v2/v3 or age); a new one is created on the first save.
    file: PathBuf,
    /// An age identity file, for age files encrypted to a key (repeatable).
    #[arg(short = 'i', long = "identity", value_name = "FILE")]
    identities: Vec<PathBuf>,
    /// The format of a new file [default: age for *.age, else sedit v3].
    #[arg(long, value_enum)]
    format: Option<FormatChoice>,
    /// Encrypt the plaintext file PLAINTEXT into FILE (which must not exist), then edit it.
    #[arg(long, value_name = "PLAINTEXT")]
    import: Option<PathBuf>,
    /// Lock after this long without a key: minutes, or with a unit (90s, 5m); 0 turns it off.
    #[arg(long, value_name = "TIME", default_value = "5", value_parser = parse_idle)]
    lock_after: Duration,
    /// Where RLIMIT_MEMLOCK is too small for the document, keep it in memory that is not
    /// locked (it could reach swap) instead of refusing. Guard pages, no core dumps and
    /// nothing in forked children still hold; the status line says UNLOCKED.
    #[arg(long)]
    allow_swap: bool,
}

/// `5` (minutes), `90s`, `5m`, or `0` (off).
fn parse_idle(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.strip_suffix('s') {
        Some(n) => (n, 1),
        None => (text.strip_suffix('m').unwrap_or(text), 60),
    };
    let n: u64 = number.parse().map_err(|_| format!("{text}: give minutes, or a number with s or m"))?;
    Ok(Duration::from_secs(n.saturating_mul(unit)))
}

fn main() -> ExitCode {
    let args = Args::parse();
    if args.allow_swap {
        let policy = strongroom::Policy { lock: strongroom::Need::Preferred, ..strongroom::Policy::STANDARD };
        if let Err(e) = strongroom::Policy::set_default(policy) {
            eprintln!("sedit: {e}");
            return ExitCode::FAILURE;
        }
    }
    let hardening = strongroom::harden();
    if !hardening.fully_applied() {
        eprintln!("sedit: warning: process hardening incomplete (core dumps may be possible): {hardening:?}");
    }
    if let Err(e) = terminal::install_guards() {
        eprintln!("sedit: cannot install the terminal guards: {e}");
        return ExitCode::FAILURE;
    }
    let code = match edit(&args) {
        Ok(None) => ExitCode::SUCCESS,
        Ok(Some(message)) | Err(message) => {
            eprintln!("sedit: {message}");
            if message.contains("RLIMIT_MEMLOCK") && !args.allow_swap {
                eprintln!("sedit: raise `ulimit -l`, or let the document live in memory that may swap: --allow-swap");
            }
            ExitCode::FAILURE
        }
    };
    strongroom::purge();
    match terminal::pending_signal() {
        Some(signal) => ExitCode::from(128u8.saturating_add(signal as u8)),
        None => code,
    }
}

/// Opens the file and runs the editor; `Ok(Some(message))` ends with a failure to report
/// after the terminal is restored.
fn edit(args: &Args) -> Result<Option<String>, String> {
    let request = OpenRequest {
        path: args.file.clone(),
        identities: args.identities.clone(),
        format: args.format,
        import: args.import.clone(),
        needs_lock_passphrase: !args.lock_after.is_zero(),
    };
    let (mut document, text) = Document::open(&request)?;
    let mut editor = Editor::new(text);
    let mut term = terminal::enter().map_err(|e| format!("cannot set up the terminal: {e}"))?;
    let outcome = run(&mut term, &mut editor, &mut document, args);
    let restored = terminal::leave(&mut term);
    drop(editor);
    restored.map_err(|e| format!("cannot restore the terminal: {e}"))?;
    outcome
}

/// The event loop: draw, wait for a key (or the auto-lock time, or a signal), act.
fn run(
    term: &mut terminal::Term,
    editor: &mut Editor,
    document: &mut Document,
    args: &Args,
) -> Result<Option<String>, String> {
    let lock_after = args.lock_after;
    let lock_words = idle_words(lock_after);
    let (mut name, mut format) = labels_of(document, args);
    let mut last_key = Instant::now();
    let mut wrong_unlocks = 0;
    loop {
        if let Some(signal) = terminal::pending_signal() {
            return Ok(Some(format!("stopped by signal {signal}; unsaved changes were discarded")));
        }
        let labels = view::Labels { name: &name, format: &format, lock_after: &lock_words };
        term.draw(|frame| view::draw(frame, editor, &labels)).map_err(|e| e.to_string())?;
        let idle = last_key.elapsed();
        let wait = if lock_after.is_zero() || editor.mode == Mode::Locked {
            TICK
        } else if idle >= lock_after {
            lock(term, editor, document)?;
            continue;
        } else {
            (lock_after - idle).min(TICK)
        };
        let event = terminal::next_event(wait).map_err(|e| format!("reading the terminal: {e}"))?;
        match event {
            Some(Event::Key(key)) => {
                last_key = Instant::now();
                // A key that fails (out of protected memory, say) changed nothing: say so and go
                // on, rather than end the editor with the document in it.
                let command = editor.key(key).unwrap_or_else(|e| {
                    editor.message = Some(format!("not done: {e}"));
                    Command::None
                });
                match command {
                    Command::None => {}
                    Command::Save => {
                        save(term, editor, document, &labels, None);
                    }
                    Command::SaveAs => {
                        let path = editor.typed().with(|typed| PathBuf::from(OsStr::from_bytes(typed)));
                        editor.clear_typed();
                        save(term, editor, document, &labels, Some(&path.map_err(|e| e.to_string())?));
                        (name, format) = labels_of(document, args);
                    }
                    Command::SaveAndQuit => {
                        if save(term, editor, document, &labels, None) {
                            return Ok(None);
                        }
                    }
                    Command::Quit => return Ok(None),
                    Command::Unlock => {
                        let right = editor.typed().with(|typed| document.unlock(typed));
                        let right = right.map_err(|e| e.to_string()).and_then(|right| right);
                        let unlocked = match right {
                            Ok(true) => editor.unlock().map(|()| true).map_err(|e| e.to_string()),
                            other => other,
                        };
                        if let Err(e) = unlocked {
                            // Still locked, nothing lost: the document stays sealed.
                            editor.wrong_passphrase(format!("cannot unlock: {e}; try again"));
                        } else if unlocked == Ok(true) {
                            wrong_unlocks = 0;
                        } else {
                            wrong_unlocks += 1;
                            if wrong_unlocks >= UNLOCK_TRIES {
                                return Ok(Some(format!(
                                    "{UNLOCK_TRIES} wrong passphrases: quit without saving; {name} on disk is unchanged"
                                )));
                            }
                            editor.wrong_passphrase(format!(
                                "wrong passphrase ({wrong_unlocks} of {UNLOCK_TRIES} tries); try again"
                            ));
                        }
                    }
                }
            }
            Some(Event::Paste(pasted)) if editor.mode == Mode::Edit => {
                last_key = Instant::now();
                if let Err(e) = editor.paste(pasted) {
                    editor.message = Some(format!("not pasted: {e}"));
                }
            }
            Some(Event::Paste(mut pasted)) => zeroize::Zeroize::zeroize(&mut pasted),
            _ => {}
        }
    }
}

/// The file's name and format for the status line.
fn labels_of(document: &Document, args: &Args) -> (String, String) {
    let format = match args.allow_swap {
        true => format!("{} | UNLOCKED: may swap", document.format_label()),
        false => document.format_label(),
    };
    (document.name(), format)
}

/// Saves (to `path`, for save-as), saying how it went on the status line; whether it worked.
fn save(
    term: &mut terminal::Term,
    editor: &mut Editor,
    document: &mut Document,
    labels: &view::Labels,
    path: Option<&Path>,
) -> bool {
    let name = path.map_or_else(|| labels.name.to_owned(), |p| p.display().to_string());
    editor.message = Some(format!("saving {name}..."));
    let _ = term.draw(|frame| view::draw(frame, editor, labels));
    let len = editor.text.len();
    let plaintext = editor.text.contiguous(0..len);
    let saved = match path {
        Some(path) => document.save_as(path, plaintext),
        None => document.save(plaintext),
    };
    match saved {
        Ok(()) => {
            editor.saved();
            editor.message = Some(format!("saved {name}"));
            true
        }
        Err(message) => {
            editor.message = Some(format!("NOT SAVED: {message}"));
            false
        }
    }
}

/// Auto-lock: seal everything, wipe the screen and ratatui's buffers.
fn lock(term: &mut terminal::Term, editor: &mut Editor, document: &mut Document) -> Result<(), String> {
    editor.lock().map_err(|e| format!("cannot lock: {e}"))?;
    document.lock()?;
    terminal::wipe(term).map_err(|e| format!("cannot wipe the screen: {e}"))
}

/// `lock_after` in words for the locked screen.
fn idle_words(lock_after: Duration) -> String {
    match lock_after.as_secs() {
        s if s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}
