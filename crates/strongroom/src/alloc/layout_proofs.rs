//! The layout arithmetic of guarded regions and pool arenas, checked: what the original tool
//! proved with Kani and Lean, redone with what installs here (both tools' set-up downloads a
//! toolchain of its own, which these machines cannot fetch).
//!
//! - Exhaustively, for every size up to a bound: every length up to three pages and a bit
//!   for 4, 16 and 64 KiB pages (and this machine's), every size and alignment of a guarded
//!   `SecureAlloc` block or strict cell up to three 4 KiB pages, every pooled size (so every
//!   class boundary), every arena length the pool maps and every slot in it, and the sizes
//!   around `isize::MAX` and `usize::MAX`, where the layout must be refused without overflow.
//! - For every size, with z3 (Debian's `z3`): `scripts/proofs/layout.smt2` states the same
//!   arithmetic over 64-bit bitvectors and proves the properties for all lengths and page
//!   sizes. [`smt_proof_holds_for_every_size`] runs it, then asks z3 to evaluate the script's
//!   functions at thousands of points and compares each with the Rust function here, so the
//!   script cannot drift from the code. Without z3 the test says `SKIPPED` (and fails where
//!   `CI` is set).
//!
//! The properties: the data ends exactly at the trailing guard; the canary fills the gap
//! right before it, at least `CANARY_LEN` bytes; the inner pages are whole pages, no page
//! more than needed; no offset overflows and the mapping stays within `isize::MAX`, and a
//! size is refused exactly when it would not; guarded blocks start aligned as asked; a
//! pooled size gets the smallest class that holds it, its data 16-aligned and flush against
//! the next header (padding under 16 bytes); an arena's headers and slots tile it exactly,
//! the last header inside it, and every slot's offset maps back to its index.

use super::canary::CANARY_LEN;
use super::guarded::GuardedLayout;
use super::pool::class::{CLASS_SIZES, MAX_POOLED, class_of, granule_round};
use super::pool::{HEADER, carve, data_offset};
use crate::sys;

/// Page sizes checked: 4 KiB (x86-64), 16 KiB (Apple silicon, some arm64), 64 KiB (some
/// arm64 and ppc64), and this machine's.
fn pages() -> Vec<usize> {
    let mut pages = vec![4096, 16 * 1024, 64 * 1024, sys::page_size()];
    pages.sort_unstable();
    pages.dedup();
    pages
}

/// The largest length accepted with pages of `page` bytes: its mapping,
/// `round_up(len + CANARY_LEN, page) + 2 * page`, is the largest page multiple that does not
/// pass `isize::MAX`, that is `2^63 - page`.
fn largest_accepted(page: usize) -> usize {
    (1usize << 63) - 3 * page - CANARY_LEN
}

/// Checks the guarded layout of `len` bytes against the same sizes in unbounded (u128)
/// arithmetic, and every offset in it with checked arithmetic.
fn check_guarded(len: usize, page: usize) {
    let wanted_inner = (len as u128 + CANARY_LEN as u128).div_ceil(page as u128) * page as u128;
    let wanted_total = wanted_inner + 2 * page as u128;
    let fits = wanted_total <= isize::MAX as u128;
    let Some(GuardedLayout { inner_len, gap }) = GuardedLayout::new(len, page) else {
        assert!(!fits, "len {len:#x}, page {page}: refused though its {wanted_total:#x}-byte mapping fits");
        return;
    };
    assert!(fits, "len {len:#x}, page {page}: accepted though its {wanted_total:#x}-byte mapping does not fit");
    assert_eq!(inner_len as u128, wanted_inner, "len {len:#x}, page {page}: inner pages");
    assert_eq!(inner_len % page, 0, "len {len:#x}, page {page}: not whole pages");
    // Offsets from the start of the mapping (the leading guard page); none may overflow.
    let at = |what: &str, v: Option<usize>| v.unwrap_or_else(|| panic!("len {len:#x}, page {page}: {what} overflows"));
    let canary_start = page;
    let data_start = at("the data start", canary_start.checked_add(gap));
    let data_end = at("the data end", data_start.checked_add(len));
    let trailing_guard = at("the trailing guard", page.checked_add(inner_len));
    let total = at("the mapping's end", trailing_guard.checked_add(page));
    assert_eq!(data_end, trailing_guard, "len {len:#x}, page {page}: the data does not end at the trailing guard");
    assert!(gap >= CANARY_LEN, "len {len:#x}, page {page}: no room for the canary ({gap} bytes)");
    assert!(gap - CANARY_LEN < page, "len {len:#x}, page {page}: a whole page wasted in front of the data");
    assert!(data_start >= canary_start + CANARY_LEN, "len {len:#x}, page {page}: the data overlaps the canary");
    assert!(total <= isize::MAX as usize, "len {len:#x}, page {page}: the mapping passes isize::MAX");
}

#[test]
fn guarded_layout_for_every_size_up_to_three_pages() {
    for page in pages() {
        for len in 0..=3 * page + 2 * CANARY_LEN {
            check_guarded(len, page);
        }
    }
}

#[test]
fn guarded_layout_refuses_huge_sizes_exactly_and_without_overflow() {
    for page in pages() {
        let edge = largest_accepted(page);
        assert!(GuardedLayout::new(edge, page).is_some(), "page {page}: the largest size is refused");
        assert!(GuardedLayout::new(edge + 1, page).is_none(), "page {page}: one byte more is accepted");
        let window = page + 2 * CANARY_LEN;
        for centre in [edge, isize::MAX as usize, (isize::MAX as usize) + 1, usize::MAX - CANARY_LEN, usize::MAX] {
            for len in centre.saturating_sub(window)..=centre.saturating_add(window) {
                check_guarded(len, page);
            }
        }
    }
}

/// A guarded `SecureAlloc` block (`round_up(size, align)` bytes, `align <= page`) and a strict
/// cell (`round_up(size.max(1), align)`) start aligned: the data ends at a page boundary and
/// its length is a multiple of the alignment.
#[test]
fn guarded_blocks_start_aligned_for_every_size_and_alignment() {
    for page in pages() {
        for align in (0..=page.trailing_zeros()).map(|k| 1usize << k) {
            for size in 0..=3 * 4096 + 2 * CANARY_LEN {
                for size in [size, size.max(1)] {
                    let len = sys::round_up(size, align).expect("small sizes round up");
                    let GuardedLayout { gap, .. } = GuardedLayout::new(len, page).expect("small sizes fit");
                    assert_eq!((page + gap) % align, 0, "size {size}, align {align}, page {page}: misaligned");
                    assert!(len >= size && len - size < align, "size {size}, align {align}: rounded to {len}");
                }
            }
        }
        // Rounding a huge size up to the alignment is refused, never wrapped to a small one.
        assert_eq!(sys::round_up(usize::MAX, page), None);
        assert_eq!(sys::round_up(usize::MAX - page + 2, page), None);
        assert_eq!(sys::round_up(usize::MAX - page + 1, page), Some(usize::MAX - page + 1));
    }
}

#[test]
fn every_pooled_size_gets_the_smallest_class_and_a_flush_aligned_place() {
    for size in 1..=MAX_POOLED {
        let class = class_of(size).unwrap_or_else(|| panic!("size {size} is not pooled"));
        let class_size = CLASS_SIZES[class];
        assert!(class_size >= size, "size {size} in class {class_size}");
        assert!(class == 0 || CLASS_SIZES[class - 1] < granule_round(size), "size {size}: a smaller class holds it");
        let offset = data_offset(class_size, size);
        let end = offset + size;
        assert_eq!(offset % 16, 0, "size {size}: data offset {offset} not 16-aligned");
        assert!(end <= class_size, "size {size}: the data overflows its {class_size}-byte slot");
        assert!(class_size - end < 16, "size {size}: {} bytes of padding, not flush", class_size - end);
        assert_eq!(offset + granule_round(size), class_size, "size {size}");
        // In an arena: slot i starts at HEADER + i * stride, the next header at (i + 1) * stride.
        let (stride, _) = carve(class_size, 1 << 20);
        for i in 0..4 {
            let slot = HEADER + i * stride;
            assert_eq!((slot + offset) % 16, 0, "size {size}, slot {i}: data misaligned");
            assert_eq!(slot + class_size, (i + 1) * stride, "size {size}, slot {i}: the slot does not end at a header");
        }
    }
    for size in [0, 1, 15, 16] {
        assert_eq!(class_of(size), Some(0), "size {size}");
    }
    for size in [MAX_POOLED + 1, MAX_POOLED + 16, usize::MAX / 16, usize::MAX - 15, usize::MAX] {
        assert_eq!(class_of(size), None, "size {size:#x} must not be pooled");
    }
}

/// The arena lengths the pool maps for pages of `page` bytes: `MIN_ARENA.max(page)` (4 KiB),
/// doubling up to `MAX_ARENA.max(page)` (1 MiB), and the halves it retries with.
fn arena_lengths(page: usize) -> impl Iterator<Item = usize> {
    let (min, max) = (4096usize.max(page), (1usize << 20).max(page));
    std::iter::successors(Some(min), move |&len| (len < max).then_some(len * 2))
}

#[test]
fn arenas_are_tiled_exactly_by_headers_and_slots() {
    for page in pages() {
        // The slot count, for every page multiple up to 2 MiB.
        for inner_len in (page..=2 << 20).step_by(page) {
            for &class_size in &CLASS_SIZES {
                let (stride, slots) = carve(class_size, inner_len);
                assert_eq!(stride, HEADER + class_size);
                assert!(slots >= 1, "{inner_len}-byte arena of {class_size}: no slot");
                assert!(u32::try_from(slots).is_ok(), "slot indices are kept as u32");
                assert!(slots * stride + HEADER <= inner_len, "{inner_len}/{class_size}: the last header overflows");
                assert!((slots + 1) * stride + HEADER > inner_len, "{inner_len}/{class_size}: room for one more slot");
            }
        }
        // Every slot of every arena the pool maps.
        for inner_len in arena_lengths(page) {
            for &class_size in &CLASS_SIZES {
                let (stride, slots) = carve(class_size, inner_len);
                let mut next_header = 0;
                for i in 0..slots {
                    let header = i * stride;
                    assert_eq!(header, next_header, "{inner_len}/{class_size}: gap or overlap before header {i}");
                    let slot = header + HEADER;
                    assert_eq!(slot % 16, 0);
                    next_header = slot + class_size;
                    // Arena::index_of, on the offset from slot 0.
                    let offset = slot - HEADER;
                    assert!(offset.is_multiple_of(stride) && offset / stride == i && offset / stride < slots);
                    for inside in [offset + 1, offset + HEADER, offset + stride - 1] {
                        assert_ne!(inside % stride, 0, "an address inside slot {i} maps to a slot of its own");
                    }
                }
                assert_eq!(next_header, slots * stride);
                assert!(next_header + HEADER <= inner_len, "{inner_len}/{class_size}: the last header overflows");
                let past = slots * stride;
                assert!(past / stride >= slots, "the address past the last slot must map to no slot");
            }
        }
    }
}

// The SMT proof ---------------------------------------------------------------------------------

const SMT_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/proofs/layout.smt2");

/// A usize as an SMT-LIB 64-bit bitvector literal.
fn bv(v: usize) -> String {
    format!("#x{v:016x}")
}

/// What z3 prints for a bitvector, a boolean or an integer.
fn parse_value(s: &str) -> u128 {
    match s {
        "true" => 1,
        "false" => 0,
        _ => match s.strip_prefix("#x") {
            Some(hex) => u128::from_str_radix(hex, 16).unwrap_or_else(|_| panic!("z3 printed {s:?}")),
            None => s.parse().unwrap_or_else(|_| panic!("z3 printed {s:?}")),
        },
    }
}

/// Sample points: each an SMT-LIB expression over the script's definitions and the value the
/// Rust code gives for it.
fn samples() -> Vec<(String, u128)> {
    let mut out: Vec<(String, u128)> = vec![
        ("CANARY_LEN".into(), CANARY_LEN as u128),
        ("HEADER".into(), HEADER as u128),
        ("MAX_POOLED".into(), MAX_POOLED as u128),
        ("GRANULE".into(), 16),
        ("ISIZE_MAX".into(), isize::MAX as u128),
    ];
    // A deterministic spread of lengths: small ones, around page multiples, around the edges,
    // and pseudo-random ones (xorshift) of every magnitude.
    let mut lens: Vec<usize> = (0..=40).collect();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        lens.push((x >> (x % 64)) as usize);
    }
    for page in pages() {
        for k in 1..=3 {
            lens.extend((k * page - CANARY_LEN - 2)..=(k * page - CANARY_LEN + 2));
        }
        let edge = largest_accepted(page);
        lens.extend([edge - 1, edge, edge + 1]);
    }
    lens.extend((usize::MAX - 20)..=usize::MAX);
    lens.extend([isize::MAX as usize, (isize::MAX as usize) + 1]);
    for page in pages() {
        for &len in &lens {
            let layout = GuardedLayout::new(len, page);
            let args = format!("{} {}", bv(len), bv(page));
            out.push((format!("(g_ok {args})"), u128::from(layout.is_some())));
            if let Some(GuardedLayout { inner_len, gap }) = layout {
                out.push((format!("(g_inner {args})"), inner_len as u128));
                out.push((format!("(g_gap {args})"), gap as u128));
            }
            for align in [1, 8, 16, 64, page] {
                let rounded = sys::round_up(len, align);
                let args = format!("{} {}", bv(len), bv(align));
                out.push((format!("(round_up_ok {args})"), u128::from(rounded.is_some())));
                if let Some(rounded) = rounded {
                    out.push((format!("(round_up {args})"), rounded as u128));
                }
            }
        }
    }
    // Every pooled size, and every candidate class size.
    for size in 1..=MAX_POOLED {
        let class_size = CLASS_SIZES[class_of(size).expect("pooled")];
        out.push((format!("(class_of {})", bv(size)), class_size as u128));
        out.push((format!("(granule_round {})", bv(size)), granule_round(size) as u128));
        out.push((format!("(p_offset {})", bv(size)), data_offset(class_size, size) as u128));
    }
    for c in 0..=MAX_POOLED + 16 {
        out.push((format!("(is_class {})", bv(c)), u128::from(CLASS_SIZES.contains(&c))));
    }
    for &class_size in &CLASS_SIZES {
        for inner_len in [4096, 4096 + 17, 12288, 65536, 1 << 20, 1 << 30, 1 << 32] {
            let (stride, slots) = carve(class_size, inner_len);
            out.push((format!("(stride {class_size})"), stride as u128));
            out.push((format!("(slots {class_size} {inner_len})"), slots as u128));
        }
    }
    out
}

/// A prerequisite is missing: visible as `SKIPPED` where `cargo test` shows it (written to the
/// process's stderr, past libtest's capture), and a failure where `CI` is set.
fn missing(test: &str, what: &str) {
    assert!(std::env::var_os("CI").is_none(), "{test}: {what}, and CI is set: install it (apt-get install z3)");
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(format!("SKIPPED {test}: {what}\n").as_bytes());
}

/// Runs `scripts/proofs/layout.smt2` (every property `unsat`, every sanity check `sat`), then
/// evaluates the script's functions at [`samples`] and compares them with the Rust code.
#[test]
fn smt_proof_holds_for_every_size() {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let test = "alloc::layout_proofs::smt_proof_holds_for_every_size";
    if Command::new("z3").arg("--version").output().is_err() {
        return missing(test, "z3 not installed");
    }
    let script = std::fs::read_to_string(SMT_SCRIPT).expect("scripts/proofs/layout.smt2 is readable");
    let samples = samples();
    let mut input = script.clone();
    for (expr, _) in &samples {
        input.push_str(&format!("(simplify {expr})\n"));
    }
    let mut child = Command::new("z3")
        .args(["-in", "-smt2"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("z3 starts");
    let mut stdin = child.stdin.take().expect("piped");
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().expect("z3 runs");
    writer.join().expect("the writer thread").expect("z3 reads its input");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("(error"), "z3 rejected the script or a sample:\n{stdout}");

    let mut lines = stdout.lines();
    let (mut proved, mut sane) = (Vec::new(), 0);
    let mut classes = Vec::new();
    let mut rest = Vec::new();
    while let Some(line) = lines.next() {
        let expect = match line {
            l if l.starts_with("property ") => "unsat",
            l if l.starts_with("sanity ") => "sat",
            _ => {
                rest.push(line);
                rest.extend(lines.by_ref());
                break;
            }
        };
        let got = lines.next().unwrap_or("(nothing)");
        assert_eq!(got, expect, "z3: {line}");
        if expect == "unsat" {
            proved.push(line);
            if let Some(class) = line.strip_prefix("property P2[class ").and_then(|l| l.split(']').next()) {
                classes.push(class.parse::<usize>().expect("a class size"));
            }
        } else {
            sane += 1;
        }
    }
    // Every class has its arena proof, and nothing was left out.
    assert_eq!(classes, CLASS_SIZES, "the script's per-class proofs do not match CLASS_SIZES");
    assert_eq!(proved.len(), 7 + 2 * CLASS_SIZES.len(), "properties proved:\n{}", proved.join("\n"));
    assert!(sane >= 4, "sanity checks: {sane}");
    assert_eq!(rest.len(), samples.len(), "one value per sample");
    for ((expr, want), got) in samples.iter().zip(&rest) {
        assert_eq!(parse_value(got), *want, "the script and the Rust code disagree on {expr}");
    }
    println!(
        "z3 proved {} properties for every size; {} sample points agree with the Rust",
        proved.len(),
        samples.len()
    );
}
