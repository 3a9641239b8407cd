//! The secret types through their public API, as a user holds them.

use strongroom::{Error, Placement, SecretBox, SecretString, SecretVec, SecureAlloc};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

#[test]
fn secret_box_builds_in_place_and_reports_its_protection() {
    let mut key = SecretBox::new(|k: &mut [u8; 32]| k.copy_from_slice(&[3; 32])).unwrap();
    assert_eq!(key.expose().unwrap()[31], 3);
    key.with_mut(|k| k[0] = 9).unwrap();
    assert_eq!(key.with(|k| k[0]).unwrap(), 9);
    let got = key.protections();
    assert!(got.canary && got.locked, "{got:?}");
    // Windows has no per-region exclusion from crash dumps (sys/windows.rs).
    assert_eq!(got.dump_excluded, !cfg!(windows), "{got:?}");
    assert!(!got.guard_pages, "a pooled secret has no guard pages of its own");
}

#[test]
fn guarded_and_strict_boxes_have_guard_pages() {
    let guarded = SecretBox::new_in(SecureAlloc::guarded(), |k: &mut [u8; 32]| k.fill(1)).unwrap();
    assert!(guarded.protections().guard_pages);
    let strict = SecretBox::strict(|k: &mut u64| *k = 77).unwrap();
    assert!(strict.protections().guard_pages);
    // Two overlapping borrows of a strict box: the pages stay open until the last one ends.
    let a = strict.expose().unwrap();
    let b = strict.expose().unwrap();
    drop(a);
    assert_eq!(*b, 77);
    drop(b);
    assert_eq!(*strict.expose().unwrap(), 77);
}

#[test]
fn strict_box_works_across_threads() {
    let strict = std::sync::Arc::new(SecretBox::strict(|k: &mut [u8; 64]| k.fill(5)).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = strict.clone();
            std::thread::spawn(move || {
                for _ in 0..200 {
                    assert!(s.expose().unwrap().iter().all(|&b| b == 5));
                }
            })
        })
        .collect();
    threads.into_iter().for_each(|t| t.join().unwrap());
}

#[test]
fn secret_box_zeroize_and_eq() {
    let a = SecretBox::new(|k: &mut [u8; 16]| k.fill(1)).unwrap();
    let mut b = SecretBox::new(|k: &mut [u8; 16]| k.fill(1)).unwrap();
    assert!(bool::from(a.ct_eq(&b)));
    b.zeroize();
    assert!(!bool::from(a.ct_eq(&b)));
    assert_eq!(*b.expose().unwrap(), [0; 16]);
}

#[test]
fn debug_output_never_shows_contents() {
    let b = SecretBox::new(|k: &mut [u8; 4]| k.copy_from_slice(b"PWND")).unwrap();
    let mut s = SecretString::new();
    s.push_str("PWND").unwrap();
    let shown = format!("{b:?} {s:?} {:?} {:?}", b.expose().unwrap(), s.expose().unwrap());
    assert!(!shown.contains("PWND") && !shown.contains("80, 87"), "{shown}");
}

#[test]
fn secret_string_edits_by_character() {
    let mut s = SecretString::new();
    s.push_str("naïve").unwrap();
    s.push('!').unwrap();
    assert_eq!(s.char_count(), 6);
    assert_eq!(s.len(), 7);
    s.insert(0, '¡').unwrap();
    assert_eq!(&*s.expose().unwrap(), "¡naïve!");
    assert_eq!(s.remove(3).unwrap(), 'ï');
    assert_eq!(s.pop(), Some('!'));
    s.insert(s.char_count(), '?').unwrap();
    assert_eq!(&*s.expose().unwrap(), "¡nave?");
    assert!(matches!(s.insert(99, 'x'), Err(Error::OutOfRange)));
    assert!(matches!(s.remove(6), Err(Error::OutOfRange)));
    s.clear();
    assert_eq!(s.pop(), None);
}

#[test]
fn secret_string_take_wipes_the_source() {
    let mut typed = String::from("correct horse");
    let s = SecretString::take(&mut typed).unwrap();
    assert!(typed.is_empty());
    assert_eq!(&*s.expose().unwrap(), "correct horse");
}

#[test]
fn reading_a_line_stops_at_the_newline_and_checks_utf8() {
    let s = SecretString::read_line_from(&b"p\xc3\xa4ss\r\nrest"[..]).unwrap();
    assert_eq!(&*s.expose().unwrap(), "päss");
    let empty = SecretString::read_line_from(&b""[..]).unwrap();
    assert!(empty.is_empty());
    assert!(matches!(SecretString::read_line_from(&b"\xff\xfe\n"[..]), Err(Error::InvalidUtf8)));
}

#[test]
fn secret_vec_of_words() {
    let mut words: SecretVec<u32> = SecretVec::with_capacity(4).unwrap();
    for w in [1, 2, 3, 4, 5] {
        words.push(w).unwrap();
    }
    assert_eq!(words.with(|w| w.iter().sum::<u32>()).unwrap(), 15);
    assert_eq!(words.remove(0).unwrap(), 1);
    words.expose_mut().unwrap()[0] = 20;
    assert_eq!(&*words.expose().unwrap(), &[20, 3, 4, 5]);
}

#[test]
fn secure_alloc_backs_any_collection() {
    use strongroom::allocator_api2::vec::Vec;
    let mut v: Vec<u64, SecureAlloc> = Vec::new_in(SecureAlloc::new());
    v.extend(0..10_000u64); // grows from the pool into guarded regions
    assert_eq!(v.iter().sum::<u64>(), 49_995_000);
    assert_eq!(SecureAlloc::default().placement(), Placement::Auto);
}
