//! sedit on a 10 MB document, with its peers in the same run: opening it (decrypting and
//! loading the text, minus the KDF), a keystroke with the redraw it causes, and saving it
//! (minus the KDF).
//!
//! Peers: ropey (helix's rope, on the ordinary heap) for loading; a `Vec<String>` of lines
//! drawn with ratatui's own string drawing (tui-textarea's representation) for the
//! keystroke; a plain overwrite with `fs::write` (the original sedit's save) for saving.
//! Goals (the sedit issue): a keystroke redraws in under 16 ms; opening takes the KDF's time
//! plus under 0.5 s.

#![allow(missing_docs)]

use std::hint::black_box;
use std::io::Write;

use criterion::{Criterion, criterion_group, criterion_main};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::Style;
use strongroom::kdf::KdfParams;

use strongroom_cli::sedit::{editor, text, view};

/// A KDF as cheap as the format allows: the benchmarks leave the KDF out.
const NO_KDF: KdfParams = KdfParams { memory_kib: 8, iterations: 1, rounds: 1 };
/// The document: about 10 MB of 60-byte lines.
const DOCUMENT_BYTES: usize = 10 << 20;
/// The terminal the redraw fills.
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

fn document() -> Vec<u8> {
    let words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india"];
    let mut doc = Vec::with_capacity(DOCUMENT_BYTES + 80);
    let mut i = 0usize;
    while doc.len() < DOCUMENT_BYTES {
        write!(doc, "{:06} ", i).unwrap();
        for k in 0..8 {
            doc.extend_from_slice(words[(i * 7 + k * 3) % words.len()].as_bytes());
            doc.push(b' ');
        }
        doc.push(b'\n');
        i += 1;
    }
    doc
}

fn labels() -> view::Labels<'static> {
    view::Labels { name: "notes.sedit", format: "sedit v3", lock_after: "5 min" }
}

fn open(c: &mut Criterion) {
    let plain = document();
    let file = strongroom::sedit::encrypt(&plain, b"pw", &NO_KDF).unwrap();
    let mut group = c.benchmark_group("sedit_open_10mb");
    group.sample_size(10);
    group.bench_function("strongroom", |b| {
        b.iter(|| {
            let decrypted = strongroom::sedit::decrypt(&file, b"pw").unwrap();
            let text = decrypted.with(text::Text::from_bytes).unwrap().unwrap();
            black_box(text.line_count())
        })
    });
    group.bench_function("ropey_from_plaintext", |b| {
        b.iter(|| {
            let text = std::str::from_utf8(&plain).unwrap();
            black_box(ropey::Rope::from_str(text).len_lines())
        })
    });
    group.finish();
}

fn keystroke(c: &mut Criterion) {
    let plain = document();
    let mut group = c.benchmark_group("sedit_keystroke_redraw_10mb");
    let mut editor = editor::Editor::new(text::Text::from_bytes(&plain).unwrap());
    let mut term = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    // The middle of the document: every edit shifts half the line index.
    editor.cursor = editor.text.line_start(editor.text.line_count() / 2) + 3;
    let labels = labels();
    term.draw(|f| view::draw(f, &mut editor, &labels)).unwrap();
    let mut flip = false;
    group.bench_function("strongroom", |b| {
        b.iter(|| {
            // Type a char, then take it back: the document stays the same size.
            flip = !flip;
            let key = if flip { KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE) } else { backspace() };
            editor.key(key).unwrap();
            term.draw(|f| view::draw(f, &mut editor, &labels)).unwrap();
        })
    });
    let mut lines: Vec<String> = std::str::from_utf8(&plain).unwrap().lines().map(str::to_owned).collect();
    let mut peer = Terminal::new(TestBackend::new(WIDTH, HEIGHT)).unwrap();
    let row = lines.len() / 2;
    group.bench_function("vec_of_strings", |b| {
        b.iter(|| {
            flip = !flip;
            if flip {
                lines[row].insert(3, 'x');
            } else {
                lines[row].remove(3);
            }
            peer.draw(|f| {
                let area = f.area();
                for (y, line) in lines[row..].iter().take(usize::from(area.height - 2)).enumerate() {
                    f.buffer_mut().set_stringn(0, y as u16, line, usize::from(area.width), Style::default());
                }
            })
            .unwrap();
        })
    });
    group.finish();
}

fn backspace() -> KeyEvent {
    KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE)
}

fn save(c: &mut Criterion) {
    let plain = document();
    let mut text = text::Text::from_bytes(&plain).unwrap();
    let dir = std::env::temp_dir().join(format!("sedit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let target = dir.join("notes.sedit");
    let mut group = c.benchmark_group("sedit_save_10mb");
    group.sample_size(10);
    group.bench_function("strongroom_atomic", |b| {
        b.iter(|| {
            let len = text.len();
            let file = strongroom::sedit::encrypt(text.contiguous(0..len), b"pw", &NO_KDF).unwrap();
            let mut out = strongroom::AtomicFile::create(&target).unwrap();
            out.write_all(&file).unwrap();
            out.commit().unwrap();
        })
    });
    group.bench_function("plain_overwrite", |b| {
        b.iter(|| {
            let file = strongroom::sedit::encrypt(&plain, b"pw", &NO_KDF).unwrap();
            let mut out = std::fs::File::create(&target).unwrap();
            out.write_all(&file).unwrap();
            out.sync_all().unwrap();
        })
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, open, keystroke, save);
criterion_main!(benches);
