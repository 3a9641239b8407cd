//! The C ABI (`strongroom_*` in strongroom-ffi) driven by a fuzz-chosen sequence of calls,
//! against a model of what each handle holds. Every pointer the harness passes is NULL (in
//! the variants that test NULL checks) or points into a local buffer of exactly the stated
//! length, so that the range checks exercised are the library's own: offsets and lengths are
//! arbitrary (up to `usize::MAX`), handles live, destroyed, of the wrong kind, or forged.
//!
//! Checks: never a crash (a panic caught at the boundary aborts too: libFuzzer's panic hook
//! runs first); every status is one of the documented codes, and the one the model predicts
//! (a bad handle is `INVALID_HANDLE` / `WRONG_HANDLE_TYPE` / `BUSY` exactly as the handle
//! table's rules say, an out-of-range offset `INVALID_ARGUMENT` with the destination
//! untouched, a frozen buffer `FROZEN`); a read after a write returns what was written;
//! sources are wiped; a callback re-entering its own handle gets `BUSY`; what is sealed or
//! encrypted (AEAD, Enclave, age, KEM, ML-DSA) round-trips, and a changed ciphertext or
//! signature is refused; arbitrary AEAD ciphertexts, KEM ciphertexts, ML-DSA signatures and
//! age files (from a memfd) are refused or, for KEM ciphertexts of the right length, yield a
//! secret.
#![no_main]

use std::ffi::{CStr, CString, c_int, c_void};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strongroom_ffi::*;
use strongroom_fuzz::{
    AGE_HYBRID_IDENTITY, AGE_PASSPHRASE, AGE_X25519_IDENTITY, Input, Mutation, age_identities, scrypt_is_cheap,
};

const MAX_OPS: usize = 48;
const MAX_LIVE: usize = 24;

/// The handle table's kinds (crates/strongroom-ffi/src/handles.rs), the top byte of a handle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    AeadKey = 1,
    KemKey = 2,
    SigningKey = 3,
    Enclave = 4,
    Buffer = 5,
}

/// What the model knows of a live object.
#[derive(Clone, Debug)]
struct Obj {
    id: u64,
    kind: Kind,
    /// Made once for the whole run: never changed or destroyed by an input.
    fixed: bool,
    /// A buffer's or an enclave's contents.
    bytes: Vec<u8>,
    guarded: bool,
    frozen: bool,
    /// A KEM key's algorithm.
    alg: u32,
}

/// A handle's generation and slot index, as the table decodes them.
fn slot_of(id: u64) -> (u32, u32) {
    ((id >> 32) as u32 & 0x00ff_ffff, id as u32)
}

fn documented(status: i32) -> bool {
    (STRONGROOM_E_TOO_MANY_HANDLES..=STRONGROOM_OK).contains(&status)
}

/// Asserts `status` is documented and one of `allowed`.
#[track_caller]
fn expect(status: i32, allowed: &[i32], what: &str) {
    assert!(documented(status), "{what}: undocumented status {status}");
    if !allowed.contains(&status) {
        // SAFETY: strongroom_last_error never returns NULL and the string lives until the next failing call.
        let why = unsafe { CStr::from_ptr(strongroom_last_error()) }.to_string_lossy().into_owned();
        panic!("{what}: status {status} ({why}), expected one of {allowed:?}");
    }
}

/// Statuses a call that makes a new object may also get from the memory system.
const RESOURCES: [i32; 2] = [STRONGROOM_E_LOCK_LIMIT, STRONGROOM_E_OUT_OF_MEMORY];

struct Fixed {
    objects: Vec<Obj>,
    identities: u64,
    passphrase: u64,
    ml_kem: u64,
    x_wing: u64,
    aead: u64,
    signing: u64,
    /// `age1…` and `age1pq1…` of the identities.
    recipients: [String; 2],
    ml_kem_public: Vec<u8>,
    x_wing_public: Vec<u8>,
    ml_dsa_public: Vec<u8>,
}

/// A buffer made through the C ABI from `bytes`.
fn ffi_buffer(bytes: &[u8]) -> u64 {
    let mut copy = bytes.to_vec();
    let mut out = strongroom_buffer { id: 0 };
    // SAFETY: `copy` is writable for its length; `out` is a valid out-parameter.
    assert_eq!(unsafe { strongroom_buffer_from_bytes(copy.as_mut_ptr(), copy.len(), 0, &mut out) }, STRONGROOM_OK);
    out.id
}

fn public_key(read: impl FnOnce(*mut u8, usize, *mut usize) -> i32) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    let mut written = 0usize;
    assert_eq!(read(out.as_mut_ptr(), out.len(), &mut written), STRONGROOM_OK);
    out.truncate(written);
    out
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| {
        let mut text = AGE_X25519_IDENTITY.to_vec();
        text.extend_from_slice(b"\n# a comment\n");
        text.extend_from_slice(AGE_HYBRID_IDENTITY);
        text.push(b'\n');
        let identities = ffi_buffer(&text);
        let passphrase = ffi_buffer(AGE_PASSPHRASE);
        let (ml_kem_seed, x_wing_seed, ml_dsa_seed) =
            (ffi_buffer(&[1; 64]), ffi_buffer(&[2; 32]), ffi_buffer(&[3; 32]));
        let mut ml_kem = strongroom_kem_key { id: 0 };
        let mut x_wing = strongroom_kem_key { id: 0 };
        let mut aead = strongroom_aead_key { id: 0 };
        let mut signing = strongroom_signing_key { id: 0 };
        // SAFETY: valid out-parameters.
        unsafe {
            let seed = |id| strongroom_buffer { id };
            assert_eq!(strongroom_kem_from_seed(STRONGROOM_KEM_ML_KEM_768, seed(ml_kem_seed), &mut ml_kem), 0);
            assert_eq!(strongroom_kem_from_seed(STRONGROOM_KEM_X_WING, seed(x_wing_seed), &mut x_wing), 0);
            assert_eq!(strongroom_ml_dsa_65_from_seed(seed(ml_dsa_seed), &mut signing), 0);
            assert_eq!(strongroom_aead_key_random(&mut aead), 0);
        }
        for seed in [ml_kem_seed, x_wing_seed, ml_dsa_seed] {
            assert_eq!(strongroom_buffer_destroy(strongroom_buffer { id: seed }), STRONGROOM_OK);
        }
        // SAFETY: each closure passes a buffer writable for its length and a valid `written`.
        let (ml_kem_public, x_wing_public, ml_dsa_public) = unsafe {
            (
                public_key(|p, n, w| strongroom_kem_public_key(ml_kem, p, n, w)),
                public_key(|p, n, w| strongroom_kem_public_key(x_wing, p, n, w)),
                public_key(|p, n, w| strongroom_ml_dsa_65_public_key(signing, p, n, w)),
            )
        };
        let ids = age_identities();
        let recipients = [ids[0].to_recipient().unwrap().to_string(), ids[1].to_recipient().unwrap().to_string()];
        let obj = |id, kind, bytes: &[u8], alg| Obj {
            id,
            kind,
            fixed: true,
            bytes: bytes.to_vec(),
            guarded: false,
            frozen: false,
            alg,
        };
        let objects = vec![
            obj(identities, Kind::Buffer, &text, 0),
            obj(passphrase, Kind::Buffer, AGE_PASSPHRASE, 0),
            obj(ml_kem.id, Kind::KemKey, &[], STRONGROOM_KEM_ML_KEM_768),
            obj(x_wing.id, Kind::KemKey, &[], STRONGROOM_KEM_X_WING),
            obj(aead.id, Kind::AeadKey, &[], 0),
            obj(signing.id, Kind::SigningKey, &[], 0),
        ];
        Fixed {
            objects,
            identities,
            passphrase,
            ml_kem: ml_kem.id,
            x_wing: x_wing.id,
            aead: aead.id,
            signing: signing.id,
            recipients,
            ml_kem_public,
            x_wing_public,
            ml_dsa_public,
        }
    })
}

/// How the table will treat a handle: the live object it names, or the error.
#[derive(Clone, Copy, Debug)]
enum Resolved {
    Live(usize),
    Fails(i32),
}

/// A sealed AEAD message kept for a later open.
struct SealedMessage {
    key: u64,
    aad: Vec<u8>,
    sealed: Vec<u8>,
    plaintext: Vec<u8>,
}

struct Model {
    objects: Vec<Obj>,
    stale: Vec<u64>,
    sealed: Option<SealedMessage>,
}

impl Model {
    fn resolve(&self, id: u64, wanted: Kind) -> Resolved {
        if let Some(i) = self.objects.iter().position(|o| o.id == id) {
            return if self.objects[i].kind == wanted {
                Resolved::Live(i)
            } else {
                Resolved::Fails(STRONGROOM_E_WRONG_HANDLE_TYPE)
            };
        }
        // The slot and generation of a live object under another tag: the object's kind is
        // checked first, then the tag.
        match self.objects.iter().find(|o| slot_of(o.id) == slot_of(id)) {
            Some(o) if o.kind != wanted => Resolved::Fails(STRONGROOM_E_WRONG_HANDLE_TYPE),
            _ => Resolved::Fails(STRONGROOM_E_INVALID_HANDLE),
        }
    }

    /// A handle for a call that wants a `wanted`: mostly a live one of that kind, else one of
    /// another kind, a destroyed one, a near-forgery of a live one, or any 64 bits.
    fn pick(&self, input: &mut Input, wanted: Kind) -> u64 {
        let choice = input.u8();
        let of_kind: Vec<&Obj> = self.objects.iter().filter(|o| o.kind == wanted).collect();
        let n = usize::from(choice >> 3);
        match choice % 8 {
            0..=3 if !of_kind.is_empty() => of_kind[n % of_kind.len()].id,
            4 => self.objects[n % self.objects.len()].id,
            5 if !self.stale.is_empty() => self.stale[n % self.stale.len()],
            6 => self.objects[n % self.objects.len()].id ^ 1 << (input.u8() % 64),
            7 => input.u64(),
            _ => 0,
        }
    }

    /// `resolve`, and whether a call that changes or consumes the object may go ahead (not
    /// on the fixed objects, which every input shares).
    fn resolve_mut(&self, id: u64, wanted: Kind) -> Option<Resolved> {
        match self.resolve(id, wanted) {
            Resolved::Live(i) if self.objects[i].fixed => None,
            resolved => Some(resolved),
        }
    }

    fn live_count(&self) -> usize {
        self.objects.iter().filter(|o| !o.fixed).count()
    }

    fn add(&mut self, id: u64, kind: Kind, bytes: Vec<u8>, guarded: bool, frozen: bool, alg: u32) {
        assert!(self.objects.iter().all(|o| o.id != id), "a new handle equals a live one");
        assert_ne!(id, 0, "a new handle is 0");
        self.objects.push(Obj { id, kind, fixed: false, bytes, guarded, frozen, alg });
    }

    /// Adds a buffer the library made, reading its contents back through the C ABI.
    fn add_made_buffer(&mut self, id: u64, guarded: bool, frozen: bool) -> Vec<u8> {
        let handle = strongroom_buffer { id };
        let mut len = usize::MAX;
        // SAFETY: valid out-parameter; `bytes` is writable for `len` bytes.
        let bytes = unsafe {
            assert_eq!(strongroom_buffer_len(handle, &mut len), STRONGROOM_OK);
            let mut bytes = vec![0u8; len];
            assert_eq!(strongroom_buffer_read(handle, 0, bytes.as_mut_ptr(), len), STRONGROOM_OK);
            bytes
        };
        self.add(id, Kind::Buffer, bytes.clone(), guarded, frozen, 0);
        bytes
    }

    fn remove(&mut self, i: usize) {
        let obj = self.objects.swap_remove(i);
        self.stale.push(obj.id);
    }
}

/// What a lending callback sees and does.
struct Lent {
    handle: u64,
    enclave: bool,
    calls: u32,
    seen: Vec<u8>,
    reentrant: i32,
    fill: Vec<u8>,
}

/// Copies what it is lent, re-enters its own handle, returns 7.
unsafe extern "C" fn lend_read(ctx: *mut c_void, data: *const u8, len: usize) -> c_int {
    // SAFETY: `ctx` is the `Lent` the harness passed, alive for the call.
    let lent = unsafe { &mut *ctx.cast::<Lent>() };
    lent.calls += 1;
    lent.seen = if len == 0 {
        assert!(data.is_null(), "an empty secret is lent as NULL");
        Vec::new()
    } else {
        // SAFETY: the library lends `len` readable bytes at `data` for the call.
        unsafe { std::slice::from_raw_parts(data, len) }.to_vec()
    };
    let mut size = 0usize;
    // SAFETY: a valid out-parameter.
    lent.reentrant = unsafe {
        if lent.enclave {
            strongroom_enclave_len(strongroom_enclave { id: lent.handle }, &mut size)
        } else {
            strongroom_buffer_len(strongroom_buffer { id: lent.handle }, &mut size)
        }
    };
    7
}

/// Copies what it is lent, overwrites it with `fill` (cycled), re-enters, returns 9.
unsafe extern "C" fn lend_write(ctx: *mut c_void, data: *mut u8, len: usize) -> c_int {
    // SAFETY: as in lend_read.
    unsafe { lend_read(ctx, data, len) };
    // SAFETY: `ctx` is the `Lent` the harness passed.
    let lent = unsafe { &mut *ctx.cast::<Lent>() };
    if len > 0 && !lent.fill.is_empty() {
        // SAFETY: the library lends `len` writable bytes at `data` for the call.
        let bytes = unsafe { std::slice::from_raw_parts_mut(data, len) };
        for (b, f) in bytes.iter_mut().zip(lent.fill.iter().cycle()) {
            *b = *f;
        }
    }
    9
}

/// A memfd holding `bytes`, positioned at its start.
fn memfd(bytes: &[u8]) -> File {
    // SAFETY: a NUL-terminated name; the returned descriptor is owned by the File.
    let fd = unsafe { libc::memfd_create(c"strongroom-fuzz".as_ptr(), libc::MFD_CLOEXEC) };
    assert!(fd >= 0, "memfd_create failed");
    // SAFETY: a fresh descriptor nothing else owns.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    file
}

fn contents(file: &mut File) -> Vec<u8> {
    let mut out = Vec::new();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.read_to_end(&mut out).unwrap();
    out
}

fn without_whitespace(bytes: &[u8]) -> Vec<u8> {
    bytes.iter().copied().filter(|&b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)).collect()
}

/// An offset: mostly small, sometimes anywhere up to `usize::MAX`.
fn offset(input: &mut Input, len: usize) -> usize {
    match input.u8() % 4 {
        0 => 0,
        1 => usize::from(input.u16()) % (len + 2),
        2 => usize::MAX - usize::from(input.u8()),
        _ => input.u64() as usize,
    }
}

/// Runs one call. Returns `false` when the input asks for nothing more.
fn step(model: &mut Model, input: &mut Input) {
    let op = input.u8();
    let variant = input.u8();
    let null = variant & 0x80 != 0 && variant & 0x40 != 0; // a quarter of variants: NULL pointers
    let creating = model.live_count() < MAX_LIVE;
    // SAFETY (every call below): each pointer is NULL (in the NULL variants) or points into a
    // local of exactly the length passed; out-parameters are locals.
    unsafe {
        match op % 25 {
            // strongroom_buffer_new / _random
            0 | 1 if creating => {
                let len = match variant % 8 {
                    7 => [usize::MAX, isize::MAX as usize, 1 << 40, usize::MAX - 4095][usize::from(input.u8() % 4)],
                    6 => usize::from(input.u16()),
                    _ => usize::from(input.u16() % 4097),
                };
                let flags = if variant & 8 != 0 { u32::from(input.u8()) } else { u32::from(variant >> 4 & 1) };
                let mut out = strongroom_buffer { id: 0 };
                let out_ptr = if null { std::ptr::null_mut() } else { &mut out as *mut _ };
                let random = op % 25 == 1;
                let status = if random {
                    strongroom_buffer_random(len, flags, out_ptr)
                } else {
                    strongroom_buffer_new(len, flags, out_ptr)
                };
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_new, out NULL");
                }
                if flags & !STRONGROOM_BUFFER_GUARDED != 0 {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "buffer_new, unknown flags");
                }
                if len > 1 << 30 {
                    let refused = [RESOURCES[0], RESOURCES[1], STRONGROOM_E_OS, STRONGROOM_E_INVALID_ARGUMENT];
                    return expect(status, &refused, "buffer_new, a huge length");
                }
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "buffer_new");
                if status == STRONGROOM_OK {
                    let guarded = flags == STRONGROOM_BUFFER_GUARDED;
                    let bytes = model.add_made_buffer(out.id, guarded, false);
                    assert_eq!(bytes.len(), len);
                    if !random {
                        assert!(bytes.iter().all(|&b| b == 0), "a new buffer is not zeros");
                    }
                }
            }
            // strongroom_buffer_from_bytes
            2 if creating => {
                let mut src = input.bytes(variant & 1 != 0).to_vec();
                let copy = src.clone();
                let flags = if variant & 8 != 0 { u32::from(input.u8()) } else { u32::from(variant >> 4 & 1) };
                let src_ptr = if null && variant & 2 != 0 { std::ptr::null_mut() } else { src.as_mut_ptr() };
                let mut out = strongroom_buffer { id: 0 };
                let out_ptr = if null && variant & 2 == 0 { std::ptr::null_mut() } else { &mut out as *mut _ };
                let status = strongroom_buffer_from_bytes(src_ptr, src.len(), flags, out_ptr);
                if null && (variant & 2 == 0 || !src.is_empty()) {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_from_bytes, NULL");
                }
                assert!(src.iter().all(|&b| b == 0), "buffer_from_bytes left its source unwiped");
                if flags & !STRONGROOM_BUFFER_GUARDED != 0 {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "buffer_from_bytes, unknown flags");
                }
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "buffer_from_bytes");
                if status == STRONGROOM_OK {
                    assert_eq!(model.add_made_buffer(out.id, flags == 1, false), copy);
                }
            }
            // strongroom_buffer_read
            3 | 4 => {
                let id = model.pick(input, Kind::Buffer);
                let count = if variant & 1 != 0 { usize::from(input.u16()) } else { usize::from(input.u8()) };
                let at = offset(input, count);
                let mut dst = vec![0xeeu8; count];
                let dst_ptr = if null { std::ptr::null_mut() } else { dst.as_mut_ptr() };
                let status = strongroom_buffer_read(strongroom_buffer { id }, at, dst_ptr, count);
                if null && count > 0 {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_read, dst NULL");
                }
                match model.resolve(id, Kind::Buffer) {
                    Resolved::Fails(code) => expect(status, &[code], "buffer_read, a bad handle"),
                    Resolved::Live(i) => {
                        let bytes = &model.objects[i].bytes;
                        match at.checked_add(count).filter(|&end| end <= bytes.len()) {
                            Some(end) => {
                                expect(status, &[STRONGROOM_OK], "buffer_read");
                                assert_eq!(&dst[..], &bytes[at..end], "buffer_read returned other bytes");
                            }
                            None => {
                                expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "buffer_read out of range");
                                assert!(dst.iter().all(|&b| b == 0xee), "a refused read wrote to dst");
                            }
                        }
                    }
                }
            }
            // strongroom_buffer_write, then a read of what was written
            5 | 6 => {
                let id = model.pick(input, Kind::Buffer);
                let src = input.bytes(variant & 1 != 0).to_vec();
                let at = offset(input, src.len());
                let Some(resolved) = model.resolve_mut(id, Kind::Buffer) else { return };
                let src_ptr = if null { std::ptr::null() } else { src.as_ptr() };
                let status = strongroom_buffer_write(strongroom_buffer { id }, at, src_ptr, src.len());
                if null && !src.is_empty() {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_write, src NULL");
                }
                let i = match resolved {
                    Resolved::Fails(code) => return expect(status, &[code], "buffer_write, a bad handle"),
                    Resolved::Live(i) => i,
                };
                let obj = &mut model.objects[i];
                if obj.frozen {
                    return expect(status, &[STRONGROOM_E_FROZEN], "buffer_write, frozen");
                }
                let Some(end) = at.checked_add(src.len()).filter(|&end| end <= obj.bytes.len()) else {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "buffer_write out of range");
                };
                expect(status, &[STRONGROOM_OK], "buffer_write");
                obj.bytes[at..end].copy_from_slice(&src);
                let mut back = vec![0u8; src.len()];
                let status = strongroom_buffer_read(strongroom_buffer { id }, at, back.as_mut_ptr(), back.len());
                expect(status, &[STRONGROOM_OK], "buffer_read after a write");
                assert_eq!(back, src, "a read after a write returned other bytes");
            }
            // strongroom_buffer_len / _protections
            7 => {
                let id = model.pick(input, Kind::Buffer);
                let mut len = 0usize;
                let mut bits = 0u32;
                let status = if variant & 1 == 0 {
                    strongroom_buffer_len(strongroom_buffer { id }, if null { std::ptr::null_mut() } else { &mut len })
                } else {
                    let ptr = if null { std::ptr::null_mut() } else { &mut bits as *mut u32 };
                    strongroom_buffer_protections(strongroom_buffer { id }, ptr)
                };
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_len, NULL");
                }
                match model.resolve(id, Kind::Buffer) {
                    Resolved::Fails(code) => expect(status, &[code], "buffer_len, a bad handle"),
                    Resolved::Live(i) => {
                        expect(status, &[STRONGROOM_OK], "buffer_len");
                        let obj = &model.objects[i];
                        if variant & 1 == 0 {
                            assert_eq!(len, obj.bytes.len());
                        } else {
                            assert_eq!(bits & STRONGROOM_PROTECTION_FROZEN != 0, obj.frozen, "the frozen bit");
                        }
                    }
                }
            }
            // strongroom_buffer_freeze / _melt
            8 => {
                let id = model.pick(input, Kind::Buffer);
                let Some(resolved) = model.resolve_mut(id, Kind::Buffer) else { return };
                let freeze = variant & 1 == 0;
                let handle = strongroom_buffer { id };
                let status = if freeze { strongroom_buffer_freeze(handle) } else { strongroom_buffer_melt(handle) };
                match resolved {
                    Resolved::Fails(code) => expect(status, &[code], "freeze, a bad handle"),
                    Resolved::Live(i) if !model.objects[i].guarded => {
                        expect(status, &[STRONGROOM_E_UNSUPPORTED], "freeze, a pooled buffer")
                    }
                    Resolved::Live(i) => {
                        expect(status, &[STRONGROOM_OK], "freeze");
                        model.objects[i].frozen = freeze;
                    }
                }
            }
            // strongroom_buffer_ct_eq
            9 => {
                let id = model.pick(input, Kind::Buffer);
                let mut other = match model.resolve(id, Kind::Buffer) {
                    Resolved::Live(i) if variant & 1 == 0 => model.objects[i].bytes.clone(),
                    _ => input.bytes(true).to_vec(),
                };
                if variant & 2 != 0 && !other.is_empty() {
                    let at = usize::from(input.u16()) % other.len();
                    other[at] ^= input.u8().max(1);
                }
                let mut equal: c_int = -1;
                let other_ptr = if null && variant & 4 != 0 { std::ptr::null() } else { other.as_ptr() };
                let equal_ptr = if null && variant & 4 == 0 { std::ptr::null_mut() } else { &mut equal as *mut _ };
                let status = strongroom_buffer_ct_eq(strongroom_buffer { id }, other_ptr, other.len(), equal_ptr);
                if null && (variant & 4 == 0 || !other.is_empty()) {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "ct_eq, NULL");
                }
                match model.resolve(id, Kind::Buffer) {
                    Resolved::Fails(code) => expect(status, &[code], "ct_eq, a bad handle"),
                    Resolved::Live(i) => {
                        expect(status, &[STRONGROOM_OK], "ct_eq");
                        assert_eq!(equal, c_int::from(model.objects[i].bytes == other), "ct_eq");
                    }
                }
            }
            // strongroom_buffer_with / _with_mut
            10 | 11 => {
                let id = model.pick(input, Kind::Buffer);
                let writing = op % 25 == 11;
                let resolved =
                    if writing { model.resolve_mut(id, Kind::Buffer) } else { Some(model.resolve(id, Kind::Buffer)) };
                let Some(resolved) = resolved else { return };
                let fill = input.bytes(false).to_vec();
                let mut lent = Lent { handle: id, enclave: false, calls: 0, seen: Vec::new(), reentrant: 0, fill };
                let ctx = (&mut lent as *mut Lent).cast::<c_void>();
                let mut result: c_int = -1;
                let result_ptr = if variant & 1 != 0 { std::ptr::null_mut() } else { &mut result as *mut _ };
                let status = if writing {
                    strongroom_buffer_with_mut(
                        strongroom_buffer { id },
                        if null { None } else { Some(lend_write) },
                        ctx,
                        result_ptr,
                    )
                } else {
                    strongroom_buffer_with(
                        strongroom_buffer { id },
                        if null { None } else { Some(lend_read) },
                        ctx,
                        result_ptr,
                    )
                };
                if null {
                    assert_eq!(lent.calls, 0);
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "buffer_with, f NULL");
                }
                let i = match resolved {
                    Resolved::Fails(code) => {
                        assert_eq!(lent.calls, 0, "a callback ran for a bad handle");
                        return expect(status, &[code], "buffer_with, a bad handle");
                    }
                    Resolved::Live(i) => i,
                };
                let obj = &mut model.objects[i];
                if writing && obj.frozen {
                    assert_eq!(lent.calls, 0, "with_mut lent a frozen buffer");
                    return expect(status, &[STRONGROOM_E_FROZEN], "buffer_with_mut, frozen");
                }
                expect(status, &[STRONGROOM_OK], "buffer_with");
                assert_eq!(lent.calls, 1);
                assert_eq!(lent.seen, obj.bytes, "a callback was lent other bytes");
                assert_eq!(lent.reentrant, STRONGROOM_E_BUSY, "a re-entrant call was not BUSY");
                if variant & 1 == 0 {
                    assert_eq!(result, if writing { 9 } else { 7 });
                }
                if writing && !lent.fill.is_empty() {
                    for (b, f) in obj.bytes.iter_mut().zip(lent.fill.iter().cycle()) {
                        *b = *f;
                    }
                }
            }
            // destroy, of any kind, with any handle
            12 => {
                let kind = [Kind::Buffer, Kind::Enclave, Kind::AeadKey, Kind::KemKey, Kind::SigningKey]
                    [usize::from(variant % 5)];
                let id = model.pick(input, kind);
                let Some(resolved) = model.resolve_mut(id, kind) else { return };
                let status = match kind {
                    Kind::Buffer => strongroom_buffer_destroy(strongroom_buffer { id }),
                    Kind::Enclave => strongroom_enclave_destroy(strongroom_enclave { id }),
                    Kind::AeadKey => strongroom_aead_key_destroy(strongroom_aead_key { id }),
                    Kind::KemKey => strongroom_kem_key_destroy(strongroom_kem_key { id }),
                    Kind::SigningKey => strongroom_signing_key_destroy(strongroom_signing_key { id }),
                };
                match resolved {
                    Resolved::Fails(code) => expect(status, &[code], "destroy, a bad handle"),
                    Resolved::Live(i) => {
                        expect(status, &[STRONGROOM_OK], "destroy");
                        model.remove(i);
                    }
                }
            }
            // strongroom_enclave_seal (consumes the buffer)
            13 if creating => {
                let id = model.pick(input, Kind::Buffer);
                let Some(resolved) = model.resolve_mut(id, Kind::Buffer) else { return };
                let mut out = strongroom_enclave { id: 0 };
                let out_ptr = if null { std::ptr::null_mut() } else { &mut out as *mut _ };
                let status = strongroom_enclave_seal(strongroom_buffer { id }, out_ptr);
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "enclave_seal, NULL");
                }
                match resolved {
                    Resolved::Fails(code) => expect(status, &[code], "enclave_seal, a bad handle"),
                    Resolved::Live(i) => {
                        expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "enclave_seal");
                        if status == STRONGROOM_OK {
                            let bytes = model.objects[i].bytes.clone();
                            model.remove(i);
                            model.add(out.id, Kind::Enclave, bytes, false, false, 0);
                        }
                    }
                }
            }
            // strongroom_enclave_open / _with / _len
            14 => {
                let id = model.pick(input, Kind::Enclave);
                let resolved = model.resolve(id, Kind::Enclave);
                let handle = strongroom_enclave { id };
                match variant % 3 {
                    0 if creating || null => {
                        let mut out = strongroom_buffer { id: 0 };
                        let status =
                            strongroom_enclave_open(handle, if null { std::ptr::null_mut() } else { &mut out });
                        if null {
                            return expect(status, &[STRONGROOM_E_NULL_POINTER], "enclave_open, NULL");
                        }
                        match resolved {
                            Resolved::Fails(code) => expect(status, &[code], "enclave_open, a bad handle"),
                            Resolved::Live(i) => {
                                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "enclave_open");
                                if status == STRONGROOM_OK {
                                    let expected = model.objects[i].bytes.clone();
                                    // An opened enclave is a frozen guarded buffer.
                                    assert_eq!(model.add_made_buffer(out.id, true, true), expected, "enclave_open");
                                }
                            }
                        }
                    }
                    1 => {
                        let mut lent = Lent {
                            handle: id,
                            enclave: true,
                            calls: 0,
                            seen: Vec::new(),
                            reentrant: 0,
                            fill: Vec::new(),
                        };
                        let ctx = (&mut lent as *mut Lent).cast::<c_void>();
                        let mut result: c_int = -1;
                        let f = if null {
                            None
                        } else {
                            Some(lend_read as unsafe extern "C" fn(*mut c_void, *const u8, usize) -> c_int)
                        };
                        let status = strongroom_enclave_with(handle, f, ctx, &mut result);
                        if null {
                            return expect(status, &[STRONGROOM_E_NULL_POINTER], "enclave_with, NULL");
                        }
                        match resolved {
                            Resolved::Fails(code) => {
                                assert_eq!(lent.calls, 0);
                                expect(status, &[code], "enclave_with, a bad handle")
                            }
                            Resolved::Live(i) => {
                                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "enclave_with");
                                if status == STRONGROOM_OK {
                                    assert_eq!((lent.calls, result), (1, 7));
                                    assert_eq!(lent.seen, model.objects[i].bytes, "enclave_with lent other bytes");
                                    assert_eq!(lent.reentrant, STRONGROOM_E_BUSY);
                                }
                            }
                        }
                    }
                    _ => {
                        let mut len = usize::MAX;
                        let status = strongroom_enclave_len(handle, if null { std::ptr::null_mut() } else { &mut len });
                        if null {
                            return expect(status, &[STRONGROOM_E_NULL_POINTER], "enclave_len, NULL");
                        }
                        match resolved {
                            Resolved::Fails(code) => expect(status, &[code], "enclave_len, a bad handle"),
                            Resolved::Live(i) => {
                                expect(status, &[STRONGROOM_OK], "enclave_len");
                                assert_eq!(len, model.objects[i].bytes.len());
                            }
                        }
                    }
                }
            }
            // strongroom_aead_key_random / _from_buffer
            15 if creating => {
                let mut out = strongroom_aead_key { id: 0 };
                let out_ptr = if null { std::ptr::null_mut() } else { &mut out as *mut _ };
                if variant & 1 == 0 {
                    let status = strongroom_aead_key_random(out_ptr);
                    if null {
                        return expect(status, &[STRONGROOM_E_NULL_POINTER], "aead_key_random, NULL");
                    }
                    expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "aead_key_random");
                } else {
                    let id = model.pick(input, Kind::Buffer);
                    let status = strongroom_aead_key_from_buffer(strongroom_buffer { id }, out_ptr);
                    if null {
                        return expect(status, &[STRONGROOM_E_NULL_POINTER], "aead_key_from_buffer, NULL");
                    }
                    match model.resolve(id, Kind::Buffer) {
                        Resolved::Fails(code) => return expect(status, &[code], "aead_key_from_buffer, a bad handle"),
                        Resolved::Live(i) if model.objects[i].bytes.len() != STRONGROOM_AEAD_KEY_LEN => {
                            return expect(
                                status,
                                &[STRONGROOM_E_INVALID_ARGUMENT],
                                "aead_key_from_buffer, not 32 bytes",
                            );
                        }
                        Resolved::Live(_) => {
                            expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "aead_key_from_buffer")
                        }
                    }
                }
                if status_ok(out.id) {
                    model.add(out.id, Kind::AeadKey, Vec::new(), false, false, 0);
                }
            }
            // strongroom_aead_seal
            16 => {
                let key = model.pick(input, Kind::AeadKey);
                let buffer = model.pick(input, Kind::Buffer);
                let aad = input.bytes(false).to_vec();
                let slack = i64::from(input.u8() % 8) - 2;
                let needed = match model.resolve(buffer, Kind::Buffer) {
                    Resolved::Live(i) => model.objects[i].bytes.len() + STRONGROOM_AEAD_OVERHEAD,
                    Resolved::Fails(_) => 64,
                };
                let out_len = (needed as i64 + slack).max(0) as usize;
                let mut out = vec![0u8; out_len];
                let mut written = 0usize;
                let out_ptr = if null { std::ptr::null_mut() } else { out.as_mut_ptr() };
                let status = strongroom_aead_seal(
                    strongroom_aead_key { id: key },
                    strongroom_buffer { id: buffer },
                    aad.as_ptr(),
                    aad.len(),
                    out_ptr,
                    out_len,
                    &mut written,
                );
                if null && out_len > 0 {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "aead_seal, out NULL");
                }
                // The key's slot is held while the buffer's is taken.
                let key_slot = match model.resolve(key, Kind::AeadKey) {
                    Resolved::Fails(code) => return expect(status, &[code], "aead_seal, a bad key"),
                    Resolved::Live(_) => slot_of(key).1,
                };
                let i = match model.resolve(buffer, Kind::Buffer) {
                    _ if slot_of(buffer).1 == key_slot => {
                        return expect(status, &[STRONGROOM_E_BUSY], "aead_seal, the key's own slot as the buffer");
                    }
                    Resolved::Fails(code) => return expect(status, &[code], "aead_seal, a bad buffer"),
                    Resolved::Live(i) => i,
                };
                if out_len < needed {
                    return expect(status, &[STRONGROOM_E_BUFFER_TOO_SMALL], "aead_seal, out too small");
                }
                expect(status, &[STRONGROOM_OK], "aead_seal");
                assert_eq!(written, needed);
                out.truncate(written);
                let plaintext = model.objects[i].bytes.clone();
                model.sealed = Some(SealedMessage { key, aad, sealed: out, plaintext });
            }
            // strongroom_aead_open: of the last sealed message (maybe changed) or of any bytes
            17 if creating => {
                let key = model.pick(input, Kind::AeadKey);
                let flags = if variant & 8 != 0 { u32::from(input.u8()) } else { u32::from(variant >> 4 & 1) };
                let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
                let (aad, mut sealed, expected) = match &model.sealed {
                    Some(m) if variant & 1 == 0 => {
                        let expected = (m.key == key).then(|| m.plaintext.clone());
                        (m.aad.clone(), m.sealed.clone(), expected)
                    }
                    _ => (input.bytes(false).to_vec(), input.bytes(true).to_vec(), None),
                };
                let changed = mutation.apply(&mut sealed);
                let mut out = strongroom_buffer { id: 0 };
                let out_ptr = if null { std::ptr::null_mut() } else { &mut out as *mut _ };
                let status = strongroom_aead_open(
                    strongroom_aead_key { id: key },
                    aad.as_ptr(),
                    aad.len(),
                    sealed.as_ptr(),
                    sealed.len(),
                    flags,
                    out_ptr,
                );
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "aead_open, NULL");
                }
                if sealed.len() < STRONGROOM_AEAD_OVERHEAD {
                    return expect(status, &[STRONGROOM_E_FORMAT], "aead_open, too short");
                }
                if flags & !STRONGROOM_BUFFER_GUARDED != 0 {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "aead_open, unknown flags");
                }
                match model.resolve(key, Kind::AeadKey) {
                    Resolved::Fails(code) => {
                        expect(status, &[code, RESOURCES[0], RESOURCES[1]], "aead_open, a bad key")
                    }
                    Resolved::Live(_) => match expected {
                        Some(plaintext) if !changed => {
                            expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "aead_open");
                            if status == STRONGROOM_OK {
                                assert_eq!(model.add_made_buffer(out.id, flags == 1, false), plaintext);
                            }
                        }
                        _ => expect(
                            status,
                            &[STRONGROOM_E_DECRYPT, RESOURCES[0], RESOURCES[1]],
                            "aead_open, not authentic",
                        ),
                    },
                }
            }
            // strongroom_kem_decapsulate of any bytes (mostly of the right length)
            18 if creating => {
                let key = model.pick(input, Kind::KemKey);
                let mut ciphertext = input.bytes(true).to_vec();
                let resolved = model.resolve(key, Kind::KemKey);
                let right_len = match resolved {
                    Resolved::Live(i) if model.objects[i].alg == STRONGROOM_KEM_X_WING => {
                        STRONGROOM_X_WING_CIPHERTEXT_LEN
                    }
                    _ => STRONGROOM_ML_KEM_768_CIPHERTEXT_LEN,
                };
                if variant & 1 == 0 {
                    ciphertext.resize(right_len, 0);
                }
                let mut shared = strongroom_buffer { id: 0 };
                let shared_ptr = if null { std::ptr::null_mut() } else { &mut shared as *mut _ };
                let status = strongroom_kem_decapsulate(
                    strongroom_kem_key { id: key },
                    ciphertext.as_ptr(),
                    ciphertext.len(),
                    shared_ptr,
                );
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "kem_decapsulate, NULL");
                }
                match resolved {
                    Resolved::Fails(code) => expect(status, &[code], "kem_decapsulate, a bad key"),
                    Resolved::Live(_) if ciphertext.len() != right_len => {
                        expect(status, &[STRONGROOM_E_FORMAT], "kem_decapsulate, wrong length")
                    }
                    Resolved::Live(_) => {
                        expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_decapsulate");
                        if status == STRONGROOM_OK {
                            let secret = model.add_made_buffer(shared.id, false, false);
                            assert_eq!(secret.len(), STRONGROOM_KEM_SHARED_SECRET_LEN);
                        }
                    }
                }
            }
            // strongroom_kem_encapsulate to a fixed key (maybe changed) or any bytes, then
            // decapsulate: the same secret
            19 if model.live_count() + 2 <= MAX_LIVE => {
                let fixed = fixed();
                let alg = if variant & 1 == 0 { STRONGROOM_KEM_ML_KEM_768 } else { STRONGROOM_KEM_X_WING };
                let alg = if variant & 0x20 != 0 { u32::from(input.u8()) } else { alg };
                let (mut public, decaps, ct_len) = match alg {
                    STRONGROOM_KEM_X_WING => {
                        (fixed.x_wing_public.clone(), fixed.x_wing, STRONGROOM_X_WING_CIPHERTEXT_LEN)
                    }
                    _ => (fixed.ml_kem_public.clone(), fixed.ml_kem, STRONGROOM_ML_KEM_768_CIPHERTEXT_LEN),
                };
                if variant & 2 != 0 {
                    public = input.bytes(true).to_vec();
                }
                let changed =
                    Mutation::from_bytes([input.u8() & 0xf1, input.u8(), input.u8(), input.u8()]).apply(&mut public);
                let room = if variant & 4 != 0 { usize::from(input.u16()) % (ct_len + 8) } else { ct_len };
                let mut ciphertext = vec![0u8; room];
                let mut written = 0usize;
                let mut shared = strongroom_buffer { id: 0 };
                let status = strongroom_kem_encapsulate(
                    alg,
                    public.as_ptr(),
                    public.len(),
                    ciphertext.as_mut_ptr(),
                    ciphertext.len(),
                    &mut written,
                    if null { std::ptr::null_mut() } else { &mut shared },
                );
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "kem_encapsulate, NULL");
                }
                if alg != STRONGROOM_KEM_ML_KEM_768 && alg != STRONGROOM_KEM_X_WING {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "kem_encapsulate, unknown algorithm");
                }
                let genuine = variant & 2 == 0 && !changed;
                if !genuine {
                    // Any bytes: refused, or a valid key (a change to ML-KEM's hash-free part can be).
                    let allowed = [STRONGROOM_OK, STRONGROOM_E_FORMAT, STRONGROOM_E_BUFFER_TOO_SMALL];
                    expect(status, &allowed, "kem_encapsulate, any key");
                    if status == STRONGROOM_OK {
                        model.add_made_buffer(shared.id, false, false);
                    }
                    return;
                }
                if room < ct_len {
                    return expect(
                        status,
                        &[STRONGROOM_E_BUFFER_TOO_SMALL],
                        "kem_encapsulate, small ciphertext buffer",
                    );
                }
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_encapsulate");
                if status != STRONGROOM_OK {
                    return;
                }
                assert_eq!(written, ct_len);
                let sent = model.add_made_buffer(shared.id, false, false);
                let mut received = strongroom_buffer { id: 0 };
                let status = strongroom_kem_decapsulate(
                    strongroom_kem_key { id: decaps },
                    ciphertext.as_ptr(),
                    written,
                    &mut received,
                );
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_decapsulate of an encapsulation");
                if status == STRONGROOM_OK {
                    assert_eq!(model.add_made_buffer(received.id, false, false), sent, "KEM secrets differ");
                }
            }
            // strongroom_kem_keygen / _from_seed / _seed / _public_key
            20 if creating => {
                let alg = match variant % 4 {
                    0 => STRONGROOM_KEM_ML_KEM_768,
                    1 => STRONGROOM_KEM_X_WING,
                    _ => u32::from(input.u8() % 4),
                };
                let known = alg == STRONGROOM_KEM_ML_KEM_768 || alg == STRONGROOM_KEM_X_WING;
                match variant >> 2 & 3 {
                    0 => {
                        let mut out = strongroom_kem_key { id: 0 };
                        let status = strongroom_kem_keygen(alg, &mut out);
                        if !known {
                            return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "kem_keygen, unknown algorithm");
                        }
                        expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_keygen");
                        if status == STRONGROOM_OK {
                            model.add(out.id, Kind::KemKey, Vec::new(), false, false, alg);
                        }
                    }
                    1 => {
                        let seed = model.pick(input, Kind::Buffer);
                        let mut out = strongroom_kem_key { id: 0 };
                        let status = strongroom_kem_from_seed(alg, strongroom_buffer { id: seed }, &mut out);
                        let i = match model.resolve(seed, Kind::Buffer) {
                            Resolved::Fails(code) => return expect(status, &[code], "kem_from_seed, a bad buffer"),
                            Resolved::Live(i) => i,
                        };
                        let seed_len = model.objects[i].bytes.len();
                        let right = match alg {
                            STRONGROOM_KEM_ML_KEM_768 => STRONGROOM_ML_KEM_SEED_LEN,
                            STRONGROOM_KEM_X_WING => STRONGROOM_X_WING_SEED_LEN,
                            _ => {
                                let allowed = [STRONGROOM_E_INVALID_ARGUMENT, RESOURCES[0], RESOURCES[1]];
                                return expect(status, &allowed, "kem_from_seed, unknown algorithm");
                            }
                        };
                        if seed_len != right {
                            let allowed =
                                [STRONGROOM_E_FORMAT, STRONGROOM_E_INVALID_ARGUMENT, RESOURCES[0], RESOURCES[1]];
                            return expect(status, &allowed, "kem_from_seed, a seed of the wrong length");
                        }
                        expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_from_seed");
                        if status == STRONGROOM_OK {
                            model.add(out.id, Kind::KemKey, Vec::new(), false, false, alg);
                            // The seed comes back.
                            let mut back = strongroom_buffer { id: 0 };
                            let status = strongroom_kem_seed(out, &mut back);
                            expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kem_seed");
                            if status == STRONGROOM_OK {
                                let expected = model.objects[i].bytes.clone();
                                assert_eq!(model.add_made_buffer(back.id, false, false), expected, "kem_seed");
                            }
                        }
                    }
                    _ => {
                        let key = model.pick(input, Kind::KemKey);
                        let room = usize::from(input.u16() % 1300);
                        let mut out = vec![0u8; room];
                        let mut written = 0usize;
                        let status = strongroom_kem_public_key(
                            strongroom_kem_key { id: key },
                            out.as_mut_ptr(),
                            room,
                            &mut written,
                        );
                        match model.resolve(key, Kind::KemKey) {
                            Resolved::Fails(code) => expect(status, &[code], "kem_public_key, a bad key"),
                            Resolved::Live(i) => {
                                let len = if model.objects[i].alg == STRONGROOM_KEM_X_WING {
                                    STRONGROOM_X_WING_PUBLIC_KEY_LEN
                                } else {
                                    STRONGROOM_ML_KEM_768_PUBLIC_KEY_LEN
                                };
                                if room < len {
                                    expect(status, &[STRONGROOM_E_BUFFER_TOO_SMALL], "kem_public_key, small");
                                } else {
                                    expect(status, &[STRONGROOM_OK], "kem_public_key");
                                    assert_eq!(written, len);
                                }
                            }
                        }
                    }
                }
            }
            // strongroom_ml_dsa_65_verify of any bytes, or of a fresh signature (maybe changed)
            21 => {
                let fixed = fixed();
                let context = input.bytes(variant & 1 != 0).to_vec();
                let message = input.bytes(true).to_vec();
                let (mut public, mut signature, genuine) = if variant & 2 == 0 {
                    let mut signature = vec![0u8; STRONGROOM_ML_DSA_65_SIGNATURE_LEN];
                    let mut written = 0usize;
                    let status = strongroom_ml_dsa_65_sign(
                        strongroom_signing_key { id: fixed.signing },
                        message.as_ptr(),
                        message.len(),
                        context.as_ptr(),
                        context.len(),
                        signature.as_mut_ptr(),
                        signature.len(),
                        &mut written,
                    );
                    if context.len() > STRONGROOM_ML_DSA_MAX_CONTEXT_LEN {
                        return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "ml_dsa_65_sign, a long context");
                    }
                    expect(status, &[STRONGROOM_OK], "ml_dsa_65_sign");
                    assert_eq!(written, STRONGROOM_ML_DSA_65_SIGNATURE_LEN);
                    (fixed.ml_dsa_public.clone(), signature, true)
                } else {
                    let mut public = input.bytes(true).to_vec();
                    let mut signature = input.bytes(true).to_vec();
                    if variant & 4 == 0 {
                        public.resize(STRONGROOM_ML_DSA_65_PUBLIC_KEY_LEN, 0);
                        signature.resize(STRONGROOM_ML_DSA_65_SIGNATURE_LEN, 0);
                    }
                    (public, signature, false)
                };
                let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
                let changed = match variant >> 3 & 1 {
                    0 => mutation.apply(&mut signature),
                    _ => mutation.apply(&mut public),
                };
                let status = strongroom_ml_dsa_65_verify(
                    public.as_ptr(),
                    public.len(),
                    message.as_ptr(),
                    message.len(),
                    context.as_ptr(),
                    context.len(),
                    signature.as_ptr(),
                    signature.len(),
                );
                if genuine && !changed {
                    return expect(status, &[STRONGROOM_OK], "ml_dsa_65_verify of a genuine signature");
                }
                let refused = [STRONGROOM_E_BAD_SIGNATURE, STRONGROOM_E_FORMAT, STRONGROOM_E_INVALID_ARGUMENT];
                if genuine {
                    return expect(status, &refused, "ml_dsa_65_verify of a changed signature or key");
                }
                // Any bytes (the seeds hold Wycheproof's valid signatures too).
                expect(status, &[&refused[..], &[STRONGROOM_OK]].concat(), "ml_dsa_65_verify of any bytes");
            }
            // strongroom_age_decrypt / _decrypt_passphrase of any bytes from a memfd
            22 if creating => {
                let file = input.bytes(true).to_vec();
                let passphrase = variant & 1 != 0;
                if passphrase && !scrypt_is_cheap(&file) {
                    return;
                }
                let fixed = fixed();
                // Mostly the fixed identities; else any buffer (any identity text).
                let identities = if variant & 0x10 != 0 { model.pick(input, Kind::Buffer) } else { fixed.identities };
                let fd_file = memfd(&file);
                let fd = match variant >> 1 & 7 {
                    0 => -1,
                    1 => i32::MIN,
                    _ => fd_file.as_raw_fd(),
                };
                let mut out = strongroom_buffer { id: 0 };
                let out_ptr = if null { std::ptr::null_mut() } else { &mut out as *mut _ };
                let status = if passphrase {
                    strongroom_age_decrypt_passphrase(fd, strongroom_buffer { id: fixed.passphrase }, out_ptr)
                } else {
                    strongroom_age_decrypt(fd, strongroom_buffer { id: identities }, out_ptr)
                };
                if fd < 0 {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "age_decrypt, a negative descriptor");
                }
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "age_decrypt, NULL");
                }
                if !passphrase && let Resolved::Fails(code) = model.resolve(identities, Kind::Buffer) {
                    return expect(status, &[code], "age_decrypt, a bad identities buffer");
                }
                let allowed = [
                    STRONGROOM_OK,
                    STRONGROOM_E_FORMAT,
                    STRONGROOM_E_DECRYPT,
                    STRONGROOM_E_NO_IDENTITY,
                    STRONGROOM_E_LIMIT,
                    RESOURCES[0],
                    RESOURCES[1],
                ];
                expect(status, &allowed, "age_decrypt of any bytes");
                if status == STRONGROOM_OK {
                    model.add_made_buffer(out.id, false, false);
                }
            }
            // strongroom_age_encrypt / _encrypt_passphrase to a memfd, changed or not, then
            // decrypt: the plaintext, or (changed) a failure
            23 if creating => {
                let fixed = fixed();
                let plaintext = model.pick(input, Kind::Buffer);
                let armor = if variant & 0x20 != 0 { u32::from(input.u8()) } else { u32::from(variant >> 4 & 1) };
                let mutation = Mutation::from_bytes([input.u8(), input.u8(), input.u8(), input.u8()]);
                let mut sink = memfd(&[]);
                let passphrase = variant & 3 == 3;
                let status = if passphrase {
                    let work_factor = match input.u8() % 8 {
                        7 => 23 + u32::from(input.u8()),
                        n => 1 + u32::from(n % 4),
                    };
                    let status = strongroom_age_encrypt_passphrase(
                        strongroom_buffer { id: plaintext },
                        strongroom_buffer { id: fixed.passphrase },
                        work_factor,
                        armor,
                        sink.as_raw_fd(),
                    );
                    if work_factor > 22 {
                        return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "age_encrypt_passphrase, work factor");
                    }
                    status
                } else {
                    let list = match variant & 3 {
                        0 => fixed.recipients[0].clone().into_bytes(),
                        1 => fixed.recipients[1].clone().into_bytes(),
                        _ if variant & 8 != 0 => input.bytes(true).iter().copied().filter(|&b| b != 0).collect(),
                        _ => format!("# two\n{}\n\n  {}  \n", fixed.recipients[0], fixed.recipients[1]).into_bytes(),
                    };
                    let list = CString::new(list).unwrap();
                    let status = strongroom_age_encrypt(
                        strongroom_buffer { id: plaintext },
                        list.as_ptr(),
                        armor,
                        sink.as_raw_fd(),
                    );
                    if variant & 3 == 2 && variant & 8 != 0 {
                        // Any text as the recipients: refused (not UTF-8, no recipients, a
                        // malformed one), or a list that parses, and then as below.
                        let mut allowed = vec![STRONGROOM_OK, STRONGROOM_E_FORMAT, STRONGROOM_E_INVALID_ARGUMENT];
                        allowed.extend([
                            STRONGROOM_E_INVALID_HANDLE,
                            STRONGROOM_E_WRONG_HANDLE_TYPE,
                            RESOURCES[0],
                            RESOURCES[1],
                        ]);
                        return expect(status, &allowed, "age_encrypt to any recipients");
                    }
                    status
                };
                if armor & !STRONGROOM_AGE_ARMOR != 0 {
                    return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "age_encrypt, unknown flags");
                }
                let i = match model.resolve(plaintext, Kind::Buffer) {
                    Resolved::Fails(code) => return expect(status, &[code], "age_encrypt, a bad buffer"),
                    Resolved::Live(i) => i,
                };
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "age_encrypt");
                if status != STRONGROOM_OK {
                    return;
                }
                let original = contents(&mut sink);
                let mut file = original.clone();
                let changed = mutation.apply(&mut file);
                let source = memfd(&file);
                let mut out = strongroom_buffer { id: 0 };
                let status = if passphrase {
                    if !scrypt_is_cheap(&file) {
                        return;
                    }
                    strongroom_age_decrypt_passphrase(
                        source.as_raw_fd(),
                        strongroom_buffer { id: fixed.passphrase },
                        &mut out,
                    )
                } else {
                    strongroom_age_decrypt(source.as_raw_fd(), strongroom_buffer { id: fixed.identities }, &mut out)
                };
                let expected = model.objects[i].bytes.clone();
                let armored = armor == STRONGROOM_AGE_ARMOR;
                if changed && !(armored && without_whitespace(&file) == without_whitespace(&original)) {
                    let refused =
                        [STRONGROOM_E_FORMAT, STRONGROOM_E_DECRYPT, STRONGROOM_E_NO_IDENTITY, STRONGROOM_E_LIMIT];
                    return expect(status, &refused, "age_decrypt of a changed file");
                }
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "age_decrypt");
                if status == STRONGROOM_OK {
                    assert_eq!(model.add_made_buffer(out.id, false, false), expected, "age round trip");
                }
            }
            // strongroom_age_keygen into a recipient buffer of any length
            24 if creating => {
                let kind = if variant & 4 != 0 { u32::from(input.u8()) } else { 1 + u32::from(variant & 1) };
                let room = match variant >> 1 & 1 {
                    0 => usize::from(input.u16() % 2100),
                    _ => usize::from(input.u8()),
                };
                let mut recipient = vec![0xeeu8; room];
                let mut written = usize::MAX;
                let mut identity = strongroom_buffer { id: 0 };
                let identity_ptr = if null { std::ptr::null_mut() } else { &mut identity as *mut _ };
                let status =
                    strongroom_age_keygen(kind, identity_ptr, recipient.as_mut_ptr().cast(), room, &mut written);
                if null {
                    return expect(status, &[STRONGROOM_E_NULL_POINTER], "age_keygen, NULL");
                }
                let len = match kind {
                    STRONGROOM_AGE_X25519 => 62,
                    STRONGROOM_AGE_HYBRID => fixed().recipients[1].len(),
                    _ => return expect(status, &[STRONGROOM_E_INVALID_ARGUMENT], "age_keygen, unknown kind"),
                };
                if room < len + 1 {
                    expect(status, &[STRONGROOM_E_BUFFER_TOO_SMALL], "age_keygen, a small recipient buffer");
                    return assert_eq!(written, usize::MAX, "written set on a failure");
                }
                expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "age_keygen");
                if status != STRONGROOM_OK {
                    return;
                }
                assert_eq!(written, len);
                assert_eq!(recipient[len], 0, "the recipient is not NUL-terminated");
                assert!(recipient[len + 1..].iter().all(|&b| b == 0xee), "age_keygen wrote past the recipient");
                let text = model.add_made_buffer(identity.id, true, false);
                // The identity opens what is encrypted to the recipient.
                let public = std::str::from_utf8(&recipient[..len]).unwrap();
                let again = strongroom::age::Identity::parse(&text).expect("a generated identity parses");
                assert_eq!(again.to_recipient().unwrap().to_string(), public);
            }
            // strongroom_kdf_derive with cheap parameters, strongroom_strerror, strongroom_version
            _ => {
                if variant & 3 == 2 {
                    let version = CStr::from_ptr(strongroom_version()).to_str().unwrap();
                    return assert!(!version.is_empty() && version.chars().next().unwrap().is_ascii_digit());
                }
                if variant & 1 == 0 {
                    let code = input.u32() as i32;
                    let text = strongroom_strerror(code);
                    assert!(!text.is_null());
                    let known = CStr::from_ptr(text).to_bytes() != b"unknown status code";
                    assert_eq!(known, documented(code), "strerror({code})");
                    assert!(!strongroom_last_error().is_null());
                    return;
                }
                if !creating {
                    return;
                }
                let passphrase = model.pick(input, Kind::Buffer);
                let salt = input.bytes(false).to_vec();
                let params = strongroom_kdf_params {
                    memory_kib: u32::from(input.u8() % 72),
                    iterations: u32::from(input.u8() % 3),
                    rounds: u64::from(input.u8() % 17),
                };
                let mut out = strongroom_buffer { id: 0 };
                let status = strongroom_kdf_derive(
                    strongroom_buffer { id: passphrase },
                    salt.as_ptr(),
                    salt.len(),
                    &params,
                    &mut out,
                );
                match model.resolve(passphrase, Kind::Buffer) {
                    Resolved::Fails(code) => expect(status, &[code], "kdf_derive, a bad buffer"),
                    Resolved::Live(_) => {
                        let cheap = params.memory_kib >= 8 && params.iterations >= 1 && (8..=64).contains(&salt.len());
                        if !cheap {
                            return expect(status, &[STRONGROOM_E_LIMIT], "kdf_derive, parameters out of range");
                        }
                        expect(status, &[STRONGROOM_OK, RESOURCES[0], RESOURCES[1]], "kdf_derive");
                        if status == STRONGROOM_OK {
                            assert_eq!(model.add_made_buffer(out.id, true, true).len(), 32);
                        }
                    }
                }
            }
        }
    }
}

/// Whether an out-parameter was filled (the call succeeded).
fn status_ok(id: u64) -> bool {
    id != 0
}

fuzz_target!(|data: &[u8]| {
    let fixed = fixed();
    let mut model = Model { objects: fixed.objects.clone(), stale: Vec::new(), sealed: None };
    let mut input = Input::new(data);
    for _ in 0..MAX_OPS {
        if input.is_empty() {
            break;
        }
        step(&mut model, &mut input);
    }
    // Everything this input made is destroyed; the fixed objects are as they were.
    for obj in model.objects.iter().filter(|o| !o.fixed) {
        let id = obj.id;
        let status = match obj.kind {
            Kind::Buffer => strongroom_buffer_destroy(strongroom_buffer { id }),
            Kind::Enclave => strongroom_enclave_destroy(strongroom_enclave { id }),
            Kind::AeadKey => strongroom_aead_key_destroy(strongroom_aead_key { id }),
            Kind::KemKey => strongroom_kem_key_destroy(strongroom_kem_key { id }),
            Kind::SigningKey => strongroom_signing_key_destroy(strongroom_signing_key { id }),
        };
        expect(status, &[STRONGROOM_OK], "destroying what an input made");
    }
    for obj in model.objects.iter().filter(|o| o.fixed && o.kind == Kind::Buffer) {
        let mut bytes = vec![0u8; obj.bytes.len()];
        // SAFETY: `bytes` is writable for its length.
        let status =
            unsafe { strongroom_buffer_read(strongroom_buffer { id: obj.id }, 0, bytes.as_mut_ptr(), bytes.len()) };
        expect(status, &[STRONGROOM_OK], "reading a fixed buffer");
        assert_eq!(bytes, obj.bytes, "a fixed buffer changed");
    }
    let _ = (fixed.ml_kem, fixed.x_wing, fixed.aead);
});
