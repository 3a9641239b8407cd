//! The secret types against std's, under random sequences of operations (proptest):
//! `SecretVec<u8>` against `Vec<u8>`, `SecretString` against `String` (character indices),
//! `SecretBox` (pooled, guarded and strict) against a plain value. After every operation the
//! contents, lengths and results (including the errors where std would panic) must agree;
//! growth crosses the pool's size classes and leaves the pool for guarded regions.
//!
//! 256 cases per property by default; more with `PROPTEST_CASES=10000`.
#![cfg(not(miri))]

use proptest::prelude::*;
use strongroom::{Error, Placement, SecretBox, SecretString, SecretVec, SecureAlloc};
use subtle::ConstantTimeEq;

fn config() -> ProptestConfig {
    // Failures are reported with their minimal case; no regression files in the source tree.
    ProptestConfig { failure_persistence: None, ..ProptestConfig::default() }
}

// SecretVec<u8> ----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum VecOp {
    Push(u8),
    Extend(Vec<u8>),
    Insert(usize, u8),
    Remove(usize),
    Pop,
    Truncate(usize),
    Clear,
    Reserve(usize),
    /// Overwrite one element through `expose_mut` (index taken modulo the length).
    Set(usize, u8),
}

fn vec_op() -> impl Strategy<Value = VecOp> {
    prop_oneof![
        4 => any::<u8>().prop_map(VecOp::Push),
        3 => prop::collection::vec(any::<u8>(), 0..700).prop_map(VecOp::Extend),
        3 => (0..80usize, any::<u8>()).prop_map(|(i, b)| VecOp::Insert(i, b)),
        3 => (0..80usize).prop_map(VecOp::Remove),
        2 => Just(VecOp::Pop),
        2 => (0..3000usize).prop_map(VecOp::Truncate),
        1 => Just(VecOp::Clear),
        1 => (0..5000usize).prop_map(VecOp::Reserve),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| VecOp::Set(i, b)),
    ]
}

/// Applies `op` to both; the results must agree (`None` where neither returns anything).
fn apply_vec(secret: &mut SecretVec<u8>, model: &mut Vec<u8>, op: &VecOp) -> Result<(), TestCaseError> {
    match *op {
        VecOp::Push(b) => {
            secret.push(b).unwrap();
            model.push(b);
        }
        VecOp::Extend(ref bytes) => {
            secret.extend_from_slice(bytes).unwrap();
            model.extend_from_slice(bytes);
        }
        VecOp::Insert(i, b) => {
            let got = secret.insert(i, b);
            if i <= model.len() {
                prop_assert!(got.is_ok(), "{op:?}: {got:?}");
                model.insert(i, b);
            } else {
                prop_assert!(matches!(got, Err(Error::OutOfRange)), "{op:?} past {}: {got:?}", model.len());
            }
        }
        VecOp::Remove(i) => {
            let got = secret.remove(i);
            if i < model.len() {
                prop_assert_eq!(got.ok(), Some(model.remove(i)));
            } else {
                prop_assert!(matches!(got, Err(Error::OutOfRange)), "{op:?} past {}: {got:?}", model.len());
            }
        }
        VecOp::Pop => prop_assert_eq!(secret.pop(), model.pop()),
        VecOp::Truncate(n) => {
            secret.truncate(n);
            model.truncate(n);
        }
        VecOp::Clear => {
            secret.clear();
            model.clear();
        }
        VecOp::Reserve(n) => {
            secret.reserve(n).unwrap();
            model.reserve(n);
            prop_assert!(secret.capacity() >= secret.len() + n);
        }
        VecOp::Set(i, b) => {
            if !model.is_empty() {
                let i = i % model.len();
                secret.expose_mut().unwrap()[i] = b;
                model[i] = b;
            }
        }
    }
    Ok(())
}

fn check_vec(secret: &SecretVec<u8>, model: &[u8]) -> Result<(), TestCaseError> {
    prop_assert_eq!(&*secret.expose().unwrap(), model);
    prop_assert_eq!(secret.len(), model.len());
    prop_assert_eq!(secret.is_empty(), model.is_empty());
    prop_assert!(secret.capacity() >= secret.len());
    // Memory is allocated once there is capacity, and it is protected.
    let protections = secret.protections();
    prop_assert_eq!(protections.is_some(), secret.capacity() > 0);
    if let Some(got) = protections {
        prop_assert!(got.canary && got.satisfy(&strongroom::Policy::default()), "{got:?}");
    }
    Ok(())
}

fn secret_vec_of(bytes: &[u8], placement: Placement) -> SecretVec<u8> {
    let alloc = match placement {
        Placement::Auto => SecureAlloc::new(),
        Placement::Guarded => SecureAlloc::guarded(),
    };
    let mut v = SecretVec::new_in(alloc);
    v.extend_from_slice(bytes).unwrap();
    v
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secret_vec_behaves_like_vec(
        guarded in any::<bool>(),
        ops in prop::collection::vec(vec_op(), 0..40),
    ) {
        let placement = if guarded { Placement::Guarded } else { Placement::Auto };
        let mut secret = secret_vec_of(&[], placement);
        let mut model = Vec::new();
        for op in &ops {
            apply_vec(&mut secret, &mut model, op)?;
            check_vec(&secret, &model)?;
        }
        // Constant-time equality agrees with `==`, lengths included.
        prop_assert!(bool::from(secret.ct_eq(&secret_vec_of(&model, Placement::Auto))));
        let mut other = model.clone();
        match other.first_mut() {
            Some(b) => *b ^= 1,
            None => other.push(0),
        }
        prop_assert!(!bool::from(secret.ct_eq(&secret_vec_of(&other, Placement::Auto))));
        if !model.is_empty() {
            prop_assert!(!bool::from(secret.ct_eq(&secret_vec_of(&model[1..], Placement::Auto))));
        }
    }
}

// SecretString -----------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum StringOp {
    Push(char),
    PushStr(String),
    Pop,
    /// At a character index.
    Insert(usize, char),
    /// At a character index.
    Remove(usize),
    Clear,
}

fn text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..max).prop_map(String::from_iter)
}

fn string_op() -> impl Strategy<Value = StringOp> {
    prop_oneof![
        4 => any::<char>().prop_map(StringOp::Push),
        3 => text(40).prop_map(StringOp::PushStr),
        2 => Just(StringOp::Pop),
        3 => (0..50usize, any::<char>()).prop_map(|(i, c)| StringOp::Insert(i, c)),
        3 => (0..50usize).prop_map(StringOp::Remove),
        1 => Just(StringOp::Clear),
    ]
}

/// The byte offset of character `index` in `s` (`index == char count` is the end).
fn byte_offset(s: &str, index: usize) -> Option<usize> {
    s.char_indices().map(|(i, _)| i).chain([s.len()]).nth(index)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secret_string_behaves_like_string(start in text(30), ops in prop::collection::vec(string_op(), 0..40)) {
        let mut source = start.clone();
        let mut secret = SecretString::take(&mut source).unwrap();
        prop_assert!(source.is_empty(), "take leaves its source empty");
        let mut model = start;
        for op in &ops {
            match *op {
                StringOp::Push(c) => {
                    secret.push(c).unwrap();
                    model.push(c);
                }
                StringOp::PushStr(ref s) => {
                    secret.push_str(s).unwrap();
                    model.push_str(s);
                }
                StringOp::Pop => prop_assert_eq!(secret.pop(), model.pop()),
                StringOp::Insert(i, c) => {
                    let got = secret.insert(i, c);
                    match byte_offset(&model, i) {
                        Some(at) => {
                            prop_assert!(got.is_ok(), "{op:?}: {got:?}");
                            model.insert(at, c);
                        }
                        None => prop_assert!(matches!(got, Err(Error::OutOfRange)), "{op:?}: {got:?}"),
                    }
                }
                StringOp::Remove(i) => {
                    let got = secret.remove(i);
                    match byte_offset(&model, i).filter(|&at| at < model.len()) {
                        Some(at) => prop_assert_eq!(got.ok(), Some(model.remove(at))),
                        None => prop_assert!(matches!(got, Err(Error::OutOfRange)), "{op:?}: {got:?}"),
                    }
                }
                StringOp::Clear => {
                    secret.clear();
                    model.clear();
                }
            }
            prop_assert_eq!(&*secret.expose().unwrap(), model.as_str());
            prop_assert_eq!(secret.len(), model.len());
            prop_assert_eq!(secret.char_count(), model.chars().count());
            prop_assert_eq!(secret.is_empty(), model.is_empty());
            prop_assert_eq!(secret.with(str::to_owned).unwrap(), model.clone());
        }
        let mut copy = model.clone();
        prop_assert!(bool::from(secret.ct_eq(&SecretString::take(&mut copy).unwrap())));
        let mut longer = model.clone() + "x";
        prop_assert!(!bool::from(secret.ct_eq(&SecretString::take(&mut longer).unwrap())));
    }

    /// A line read from any reader is the line, without its `\n` (or `\r\n`); what follows
    /// stays unread.
    #[test]
    fn read_line_from_takes_one_line(line in text(60), rest in text(20), crlf in any::<bool>()) {
        let line: String = line.chars().filter(|&c| c != '\n' && c != '\r').collect();
        let input = format!("{line}{}{rest}", if crlf { "\r\n" } else { "\n" });
        let mut reader = input.as_bytes();
        let read = SecretString::read_line_from(&mut reader).unwrap();
        prop_assert_eq!(&*read.expose().unwrap(), line.as_str());
        prop_assert_eq!(reader, rest.as_bytes());
    }
}

// SecretBox --------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug)]
enum BoxOp {
    Set(usize, u64),
    Xor(usize, u64),
    /// `with_mut`, rotating the whole value.
    Rotate,
}

fn box_op() -> impl Strategy<Value = BoxOp> {
    prop_oneof![
        (0..4usize, any::<u64>()).prop_map(|(i, v)| BoxOp::Set(i, v)),
        (0..4usize, any::<u64>()).prop_map(|(i, v)| BoxOp::Xor(i, v)),
        Just(BoxOp::Rotate),
    ]
}

/// How a box is made: pooled, guarded, strict (no access at rest).
fn make_box(kind: u8, value: [u64; 4]) -> SecretBox<[u64; 4]> {
    let init = |v: &mut [u64; 4]| *v = value;
    match kind {
        0 => SecretBox::new(init),
        1 => SecretBox::new_in(SecureAlloc::guarded(), init),
        _ => SecretBox::strict(init),
    }
    .unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn secret_box_behaves_like_a_plain_value(
        kind in 0..3u8,
        start in any::<[u64; 4]>(),
        ops in prop::collection::vec(box_op(), 0..30),
    ) {
        let mut secret = make_box(kind, start);
        let mut model = start;
        for op in &ops {
            match *op {
                BoxOp::Set(i, v) => {
                    secret.expose_mut().unwrap()[i] = v;
                    model[i] = v;
                }
                BoxOp::Xor(i, v) => {
                    secret.with_mut(|s| s[i] ^= v).unwrap();
                    model[i] ^= v;
                }
                BoxOp::Rotate => {
                    secret.with_mut(|s| s.rotate_left(1)).unwrap();
                    model.rotate_left(1);
                }
            }
            prop_assert_eq!(*secret.expose().unwrap(), model);
            prop_assert_eq!(secret.with(|s| *s).unwrap(), model);
        }
        let got = secret.protections();
        prop_assert!(got.satisfy(&strongroom::Policy::default()), "{got:?}");
        prop_assert_eq!(got.guard_pages, kind != 0, "only guarded and strict boxes have guard pages of their own");
        // Constant-time equality agrees with `==`, across kinds.
        for other_kind in 0..3 {
            prop_assert!(bool::from(secret.ct_eq(&make_box(other_kind, model))));
            let mut other = model;
            other[3] ^= 1 << 63;
            prop_assert!(!bool::from(secret.ct_eq(&make_box(other_kind, other))));
        }
    }
}
