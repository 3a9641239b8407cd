//! How bytes of text become columns on screen: UTF-8 decoding without copying (an invalid
//! byte shows as U+FFFD and counts as one char), display widths, and tab stops. The editor
//! (cursor columns) and the view (cells) both ask here, so they always agree.

use unicode_width::UnicodeWidthChar;

/// Columns between tab stops.
pub const TAB_WIDTH: usize = 4;

/// Calls `f(offset, char, byte_len)` for each char of `bytes`, in order, until it returns
/// `false`; `base` is added to every offset. Nothing is copied.
pub fn each_char(bytes: &[u8], base: usize, mut f: impl FnMut(usize, char, usize) -> bool) -> bool {
    let mut at = base;
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            if !f(at, c, c.len_utf8()) {
                return false;
            }
            at += c.len_utf8();
        }
        for _ in chunk.invalid() {
            if !f(at, char::REPLACEMENT_CHARACTER, 1) {
                return false;
            }
            at += 1;
        }
    }
    true
}

/// The columns `c` takes when it starts at column `col`: tabs run to the next stop, control
/// characters show as one cell (the view draws them as `?`), wide chars take two.
pub fn width(c: char, col: usize) -> usize {
    match c {
        '\t' => TAB_WIDTH - col % TAB_WIDTH,
        c if c.is_control() => 1,
        c => c.width().unwrap_or(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_invalid_bytes_as_one_replacement_char_each() {
        let mut seen = Vec::new();
        each_char(b"a\xff\xc3\xa4", 10, |at, c, len| {
            seen.push((at, c, len));
            true
        });
        assert_eq!(seen, [(10, 'a', 1), (11, '\u{fffd}', 1), (12, 'ä', 2)]);
    }

    #[test]
    fn tabs_run_to_the_next_stop_and_wide_chars_take_two() {
        assert_eq!(width('\t', 0), 4);
        assert_eq!(width('\t', 5), 3);
        assert_eq!(width('界', 0), 2);
        assert_eq!(width('\u{7}', 0), 1);
    }
}
