//! `Enclave` has no constructor from bytes: nothing untrusted is parsed. What is fuzzed is a
//! sequence of seals, opens and the rest with arbitrary plaintext lengths and contents:
//! `Enclave::new` (its source wiped), `Enclave::random`, `LockedBuffer::seal`, clones,
//! `open`, `with`, `size`, `coffer::rekey` and `purge`. Checks: never a panic; an Enclave
//! opens (both ways) to exactly what was sealed, until a purge; after a purge every earlier
//! Enclave fails with `Destroyed` and new ones work.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongroom::{Enclave, Error, LockedBuffer, coffer};
use strongroom_fuzz::Input;

/// At most this many Enclaves at once, and this many operations per input.
const MAX_LIVE: usize = 16;
const MAX_OPS: usize = 64;

struct Sealed {
    enclave: Enclave,
    /// What it holds; `None` for random contents not yet seen.
    plaintext: Option<Vec<u8>>,
    /// Sealed before the last purge: it can no longer open.
    purged: bool,
}

fn check(sealed: &mut Sealed, opened: Result<Vec<u8>, Error>) {
    match opened {
        Ok(bytes) => {
            assert!(!sealed.purged, "an Enclave opened after a purge");
            assert_eq!(bytes.len(), sealed.enclave.size());
            match &sealed.plaintext {
                Some(expected) => assert_eq!(&bytes, expected),
                None => sealed.plaintext = Some(bytes),
            }
        }
        Err(Error::Destroyed) => assert!(sealed.purged, "Destroyed without a purge"),
        Err(e) => panic!("an Enclave did not open: {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input::new(data);
    let mut live: Vec<Sealed> = Vec::new();
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        let op = input.u8();
        let pick = usize::from(input.u8());
        match op % 9 {
            0 | 1 if live.len() < MAX_LIVE => {
                let mut source = input.bytes(op & 0x80 != 0).to_vec();
                let plaintext = source.clone();
                let enclave = Enclave::new(&mut source).unwrap();
                assert!(source.iter().all(|&b| b == 0), "the source was not wiped");
                assert_eq!(enclave.size(), plaintext.len());
                live.push(Sealed { enclave, plaintext: Some(plaintext), purged: false });
            }
            2 if live.len() < MAX_LIVE => {
                let len = usize::from(input.u16() % 8192);
                let enclave = Enclave::random(len).unwrap();
                assert_eq!(enclave.size(), len);
                live.push(Sealed { enclave, plaintext: None, purged: false });
            }
            3 if live.len() < MAX_LIVE => {
                let plaintext = input.bytes(true).to_vec();
                let mut buffer = LockedBuffer::new(plaintext.len()).unwrap();
                buffer.copy_from(&plaintext).unwrap();
                live.push(Sealed { enclave: buffer.seal().unwrap(), plaintext: Some(plaintext), purged: false });
            }
            4 if !live.is_empty() => {
                let at = pick % live.len();
                let sealed = &mut live[at];
                let opened = sealed.enclave.open().map(|buffer| {
                    assert!(buffer.is_frozen());
                    buffer.expose().unwrap().to_vec()
                });
                check(sealed, opened);
            }
            5 if !live.is_empty() => {
                let at = pick % live.len();
                let sealed = &mut live[at];
                let opened = sealed.enclave.with(<[u8]>::to_vec);
                check(sealed, opened);
            }
            6 if !live.is_empty() && live.len() < MAX_LIVE => {
                let sealed = &live[pick % live.len()];
                let copy = Sealed {
                    enclave: sealed.enclave.clone(),
                    plaintext: sealed.plaintext.clone(),
                    purged: sealed.purged,
                };
                live.push(copy);
            }
            7 if !live.is_empty() => {
                live.swap_remove(pick % live.len());
            }
            8 => {
                if pick == 0xa5 {
                    strongroom::purge();
                    live.iter_mut().for_each(|sealed| sealed.purged = true);
                } else {
                    coffer::rekey().unwrap();
                }
            }
            _ => {}
        }
    }
    for sealed in &mut live {
        let opened = sealed.enclave.with(<[u8]>::to_vec);
        check(sealed, opened);
    }
});
