//! The handle table: what C holds instead of pointers.
//!
//! A handle is a 64-bit number: the object's kind (8 bits), its slot's generation (24 bits)
//! and the slot's index (32 bits). Every call looks the slot up and checks all three, so a
//! handle that was destroyed, never existed, was forged, or names another kind of object is
//! an error code, never a dangling pointer. A slot's generation grows with each reuse; a
//! slot that has used all 2^24 generations is retired, so an old handle can never name a new
//! object. Freed slots are reused oldest first, which spreads reuse over the table.
//!
//! Each slot has its own lock: calls on different handles never wait for each other, and
//! calls on one handle from several threads take turns. A callback that calls back into the
//! handle it was lent (on the same thread) gets `STRONGROOM_E_BUSY` instead of a deadlock.
//! No call holds two slots of the same kind at once, and calls that hold two slots take
//! them in the order of [`Kind`], so the locks cannot deadlock.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crate::status::{
    Failure, STRONGROOM_E_BUSY, STRONGROOM_E_INVALID_HANDLE, STRONGROOM_E_TOO_MANY_HANDLES,
    STRONGROOM_E_WRONG_HANDLE_TYPE,
};

/// The kinds of object a handle can name, in the order calls that hold two slots lock them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub(crate) enum Kind {
    AeadKey = 1,
    KemKey = 2,
    SigningKey = 3,
    Enclave = 4,
    Buffer = 5,
}

/// An object C holds a handle to.
pub(crate) enum Object {
    Buffer(crate::buffer::Secret),
    Enclave(strongroom::Enclave),
    AeadKey(Box<strongroom::aead::Key>),
    #[cfg(all(target_os = "linux", not(miri)))]
    KemKey(Box<crate::kem::KemKey>),
    #[cfg(all(target_os = "linux", not(miri)))]
    SigningKey(Box<crate::sign::MlDsa65Key>),
}

impl Object {
    fn kind(&self) -> Kind {
        match self {
            Object::Buffer(_) => Kind::Buffer,
            Object::Enclave(_) => Kind::Enclave,
            Object::AeadKey(_) => Kind::AeadKey,
            #[cfg(all(target_os = "linux", not(miri)))]
            Object::KemKey(_) => Kind::KemKey,
            #[cfg(all(target_os = "linux", not(miri)))]
            Object::SigningKey(_) => Kind::SigningKey,
        }
    }
}

/// A Rust type a handle can name: how it goes into and comes out of an [`Object`].
pub(crate) trait Handled: Sized {
    /// Its kind.
    const KIND: Kind;
    /// Wraps it for the table.
    fn into_object(self) -> Object;
    /// The value, if the object is one.
    fn from_object(object: &mut Object) -> Option<&mut Self>;
    /// The value, moved out, if the object is one.
    fn take(object: Object) -> Option<Self>;
}

macro_rules! handled {
    ($(#[$cfg:meta])* $variant:ident => $ty:ty) => {
        $(#[$cfg])*
        impl Handled for $ty {
            const KIND: Kind = Kind::$variant;
            fn into_object(self) -> Object {
                Object::$variant(self)
            }
            fn from_object(object: &mut Object) -> Option<&mut Self> {
                match object {
                    Object::$variant(value) => Some(value),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
            fn take(object: Object) -> Option<Self> {
                match object {
                    Object::$variant(value) => Some(value),
                    #[allow(unreachable_patterns)]
                    _ => None,
                }
            }
        }
    };
}
handled!(Buffer => crate::buffer::Secret);
handled!(Enclave => strongroom::Enclave);
handled!(AeadKey => Box<strongroom::aead::Key>);
handled!(#[cfg(all(target_os = "linux", not(miri)))] KemKey => Box<crate::kem::KemKey>);
handled!(#[cfg(all(target_os = "linux", not(miri)))] SigningKey => Box<crate::sign::MlDsa65Key>);

const CHUNK_BITS: u32 = 12;
const CHUNK_LEN: usize = 1 << CHUNK_BITS;
/// 4096 chunks of 4096 slots: 16,777,216 live handles at most.
const CHUNKS: usize = 1 << 12;
const GENERATION_BITS: u32 = 24;
const MAX_GENERATION: u32 = (1 << GENERATION_BITS) - 1;

struct Slot {
    /// The thread inside this slot's lock (0: none), to refuse a re-entrant call.
    owner: AtomicU64,
    state: Mutex<State>,
}

struct State {
    /// The generation a handle to the current (or next) occupant carries; starts at 1, so
    /// no handle is 0.
    generation: u32,
    object: Option<Object>,
}

static CHUNK_TABLE: [OnceLock<Box<[Slot]>>; CHUNKS] = [const { OnceLock::new() }; CHUNKS];

struct FreeList {
    /// Freed slots, oldest first.
    free: VecDeque<u32>,
    /// The first slot never used.
    next: u32,
}

static FREE: Mutex<FreeList> = Mutex::new(FreeList { free: VecDeque::new(), next: 0 });

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while a slot was held was caught at the boundary; the object in it is still
    // memory-safe, so the slot stays usable.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn slot(index: u32) -> Option<&'static Slot> {
    let index = index as usize;
    CHUNK_TABLE.get(index >> CHUNK_BITS)?.get().map(|chunk| &chunk[index & (CHUNK_LEN - 1)])
}

fn new_slot(index: u32) -> &'static Slot {
    let chunk = CHUNK_TABLE[index as usize >> CHUNK_BITS].get_or_init(|| {
        (0..CHUNK_LEN)
            .map(|_| Slot { owner: AtomicU64::new(0), state: Mutex::new(State { generation: 1, object: None }) })
            .collect()
    });
    &chunk[index as usize & (CHUNK_LEN - 1)]
}

fn encode(kind: Kind, generation: u32, index: u32) -> u64 {
    (kind as u64) << 56 | u64::from(generation) << 32 | u64::from(index)
}

fn decode(handle: u64) -> (u8, u32, u32) {
    ((handle >> 56) as u8, (handle >> 32) as u32 & MAX_GENERATION, handle as u32)
}

/// This thread's number for [`Slot::owner`] (never 0).
fn thread_number() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static NUMBER: u64 = NEXT.fetch_add(1, Ordering::Relaxed));
    NUMBER.with(|n| *n)
}

fn invalid() -> Failure {
    Failure::new(STRONGROOM_E_INVALID_HANDLE, "the handle was destroyed, or never existed")
}

/// Freed slots this thread may reuse without taking [`FREE`]'s lock: the common
/// create-use-destroy pattern then costs one lock (the slot's) per call. Returned to the
/// shared list beyond [`LOCAL_FREE_MAX`], and when the thread exits.
struct LocalFree(Vec<u32>);

const LOCAL_FREE_MAX: usize = 64;

impl Drop for LocalFree {
    fn drop(&mut self) {
        lock(&FREE).free.extend(self.0.drain(..));
    }
}

thread_local!(static LOCAL_FREE: RefCell<LocalFree> = const { RefCell::new(LocalFree(Vec::new())) });

fn take_index() -> Result<u32, Failure> {
    // `try_with` fails only while this thread's locals are being destroyed: use the shared list.
    if let Some(index) = LOCAL_FREE.try_with(|local| local.borrow_mut().0.pop()).ok().flatten() {
        return Ok(index);
    }
    let mut list = lock(&FREE);
    if let Some(index) = list.free.pop_front() {
        return Ok(index);
    }
    if (list.next as usize) < CHUNKS * CHUNK_LEN {
        list.next += 1;
        return Ok(list.next - 1);
    }
    Err(Failure::new(STRONGROOM_E_TOO_MANY_HANDLES, "every handle is taken"))
}

fn put_index(index: u32) {
    let kept = LOCAL_FREE.try_with(|local| {
        let mut local = local.borrow_mut();
        local.0.push(index);
        if local.0.len() > LOCAL_FREE_MAX {
            let half = local.0.len() / 2;
            lock(&FREE).free.extend(local.0.drain(..half));
        }
    });
    if kept.is_err() {
        lock(&FREE).free.push_back(index);
    }
}

/// Puts `value` in a free slot and returns its handle.
pub(crate) fn insert<T: Handled>(value: T) -> Result<u64, Failure> {
    let index = take_index()?;
    let mut state = lock(&new_slot(index).state);
    state.object = Some(value.into_object());
    Ok(encode(T::KIND, state.generation, index))
}

/// The slot `handle` names, locked, with this thread marked as inside it.
struct Held {
    slot: &'static Slot,
    state: MutexGuard<'static, State>,
}

impl Drop for Held {
    fn drop(&mut self) {
        // Runs before `state` (a field) is dropped, so the lock is released after this.
        self.slot.owner.store(0, Ordering::Relaxed);
    }
}

fn hold<T: Handled>(handle: u64) -> Result<Held, Failure> {
    let (tag, generation, index) = decode(handle);
    let slot = slot(index).ok_or_else(invalid)?;
    let me = thread_number();
    // Only this thread ever stores `me`, and it clears it before unlocking, so reading `me`
    // here means this thread holds the lock already: a callback re-entering its handle.
    if slot.owner.load(Ordering::Relaxed) == me {
        return Err(Failure::new(
            STRONGROOM_E_BUSY,
            "the handle is in use by this thread: a callback called back into the handle it was lent",
        ));
    }
    let state = lock(&slot.state);
    slot.owner.store(me, Ordering::Relaxed);
    let held = Held { slot, state };
    let object = match &held.state.object {
        Some(object) if held.state.generation == generation => object,
        _ => return Err(invalid()),
    };
    if object.kind() != T::KIND {
        return Err(Failure::new(
            STRONGROOM_E_WRONG_HANDLE_TYPE,
            format!("the handle names {}, not {}", name(object.kind()), name(T::KIND)),
        ));
    }
    if tag != T::KIND as u8 {
        return Err(invalid()); // a live slot and generation under another kind's tag: forged
    }
    Ok(held)
}

fn name(kind: Kind) -> &'static str {
    match kind {
        Kind::AeadKey => "an AEAD key",
        Kind::KemKey => "a KEM key",
        Kind::SigningKey => "a signing key",
        Kind::Enclave => "an enclave",
        Kind::Buffer => "a buffer",
    }
}

/// Runs `f` on the object `handle` names, holding its slot.
pub(crate) fn with<T: Handled, R>(handle: u64, f: impl FnOnce(&mut T) -> Result<R, Failure>) -> Result<R, Failure> {
    let mut held = hold::<T>(handle)?;
    let object = held.state.object.as_mut().and_then(T::from_object).ok_or_else(invalid)?;
    f(object)
}

/// Takes the object out of its slot: the handle is dead from here on.
pub(crate) fn remove<T: Handled>(handle: u64) -> Result<T, Failure> {
    remove_after(handle, |_: &mut T| Ok(())).map(|(value, ())| value)
}

/// Runs `f` on the object and, if it succeeds, takes the object out of its slot under the
/// same lock: no other call can use or destroy the object between the two (a seal that
/// consumes its buffer, for one). If `f` fails, the object stays where it was.
pub(crate) fn remove_after<T: Handled, R>(
    handle: u64,
    f: impl FnOnce(&mut T) -> Result<R, Failure>,
) -> Result<(T, R), Failure> {
    let (_, _, index) = decode(handle);
    let (object, result, retired) = {
        let mut held = hold::<T>(handle)?;
        let result = f(held.state.object.as_mut().and_then(T::from_object).ok_or_else(invalid)?)?;
        let object = held.state.object.take().ok_or_else(invalid)?;
        held.state.generation += 1;
        (object, result, held.state.generation > MAX_GENERATION)
    };
    // A retired slot is never handed out again, so no handle to it can come back to life.
    if !retired {
        put_index(index);
    }
    Ok((T::take(object).ok_or_else(invalid)?, result))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::buffer::Secret;

    fn secret(len: usize) -> Secret {
        Secret::zeroed(len, 0).unwrap()
    }

    fn len_of(handle: u64) -> Result<usize, Failure> {
        with(handle, |s: &mut Secret| Ok(s.len()))
    }

    #[test]
    fn handles_are_checked_for_generation_kind_and_range() {
        let h = insert(secret(3)).unwrap();
        assert_ne!(h, 0);
        assert_eq!(len_of(h).ok(), Some(3));
        let wrong = with(h, |_: &mut strongroom::Enclave| Ok(())).unwrap_err();
        assert_eq!(wrong.status, STRONGROOM_E_WRONG_HANDLE_TYPE);
        // The same slot and generation under another kind's tag is a forgery.
        let forged = (h & !(0xFF << 56)) | (Kind::Enclave as u64) << 56;
        assert_eq!(len_of(forged).unwrap_err().status, STRONGROOM_E_INVALID_HANDLE);
        remove::<Secret>(h).unwrap();
        assert_eq!(remove::<Secret>(h).err().map(|f| f.status), Some(STRONGROOM_E_INVALID_HANDLE));
        // (The next slot is no bogus handle here: tests run in parallel and may hold it.)
        for bogus in [0, u64::MAX, 1 << 40, h + (1 << 32), h] {
            assert_eq!(len_of(bogus).unwrap_err().status, STRONGROOM_E_INVALID_HANDLE);
        }
    }

    #[test]
    fn a_reentrant_call_is_busy_not_a_deadlock() {
        let h = insert(secret(4)).unwrap();
        let inner = with(h, |_: &mut Secret| Ok(len_of(h))).unwrap();
        assert_eq!(inner.unwrap_err().status, STRONGROOM_E_BUSY);
        assert_eq!(len_of(h).ok(), Some(4), "the slot is free again after the outer call");
        assert_eq!(remove::<Secret>(h).map(|s| s.len()).ok(), Some(4));
    }

    #[test]
    fn a_slot_is_never_handed_out_again_under_an_old_handle() {
        let first = insert(secret(1)).unwrap();
        remove::<Secret>(first).unwrap();
        let later: Vec<u64> = (0..8).map(|_| insert(secret(2)).unwrap()).collect();
        assert!(!later.contains(&first));
        assert_eq!(len_of(first).unwrap_err().status, STRONGROOM_E_INVALID_HANDLE);
        for h in later {
            remove::<Secret>(h).unwrap();
        }
    }

    #[test]
    fn a_slot_that_used_every_generation_is_retired() {
        let h = insert(secret(1)).unwrap();
        let (_, _, index) = decode(h);
        // Fast-forward the slot to its last generation (as 2^24 reuses would).
        lock(&slot(index).unwrap().state).generation = MAX_GENERATION;
        let last = encode(Kind::Buffer, MAX_GENERATION, index);
        remove::<Secret>(last).unwrap();
        let later: Vec<u64> = (0..LOCAL_FREE_MAX + 2).map(|_| insert(secret(1)).unwrap()).collect();
        assert!(later.iter().all(|&h| decode(h).2 != index), "a retired slot was handed out again");
        assert_eq!(len_of(last).unwrap_err().status, STRONGROOM_E_INVALID_HANDLE);
        for h in later {
            remove::<Secret>(h).unwrap();
        }
    }

    #[test]
    fn threads_racing_to_destroy_one_handle_have_one_winner() {
        for _ in 0..20 {
            let h = insert(secret(8)).unwrap();
            let wins: usize = std::thread::scope(|scope| {
                let racers: Vec<_> = (0..4).map(|_| scope.spawn(move || remove::<Secret>(h).is_ok())).collect();
                racers.into_iter().map(|r| usize::from(r.join().unwrap())).sum()
            });
            assert_eq!(wins, 1);
        }
    }
}
