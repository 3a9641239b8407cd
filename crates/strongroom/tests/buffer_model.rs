//! `LockedBuffer`'s state machine against a model: every sequence of up to six operations
//! over new, freeze, melt, read (`expose`), write (`expose_mut`), destroy and purge, applied
//! to a real buffer and to a small model (live and writable, live and frozen, destroyed,
//! purged; the contents), with every result and every observer compared after each step:
//! `Ok` or which `Err`, the bytes read, `is_destroyed`, `is_frozen`, `len`, `ct_eq`, `Debug`.
//! Then fork, as a terminal operation (it consumes the buffer): every sequence of up to three
//! operations followed by a fork, where the child must see zeros or nothing, never the bytes.
//!
//! A purge is process-wide: this binary holds this one test, so no other test's secrets are
//! purged under it, and it runs on the test thread alone.
//!
//! The default runs all 117,649 sequences of six operations, checked after every step (so
//! every shorter sequence too, as a prefix), and 400 forks. Longer:
//! `STRONGROOM_MODEL_DEPTH=7` (823,543 sequences) and `STRONGROOM_MODEL_FORK_DEPTH=4` (2,801
//! forks).
#![cfg(all(unix, not(miri)))]

mod common;

use strongroom::probe::{ForkView, observe_fork};
use strongroom::{Error, ForkSafety, LockedBuffer};
use subtle::ConstantTimeEq;

const LEN: usize = 48;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    /// Drop the buffer and make a fresh (zeroed) one.
    New,
    Freeze,
    Melt,
    /// `expose()`, reading every byte.
    Read,
    /// `expose_mut()`, writing every byte (values that depend on the step).
    Write,
    Destroy,
    /// `strongroom::purge()`.
    Purge,
}

const OPS: [Op; 7] = [Op::New, Op::Freeze, Op::Melt, Op::Read, Op::Write, Op::Destroy, Op::Purge];

/// Why an operation failed, as far as the model tells failures apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Refused {
    Destroyed,
    Frozen,
}

fn refused(e: Error) -> Refused {
    match e {
        Error::Destroyed => Refused::Destroyed,
        Error::Frozen => Refused::Frozen,
        other => panic!("an error the model does not know: {other:?}"),
    }
}

/// What one operation returned: `Ok` with the bytes read (for `Read`), or why it failed.
type Outcome = Result<Option<Vec<u8>>, Refused>;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Live { frozen: bool },
    Destroyed,
    Purged,
}

#[derive(Clone, Debug)]
struct Model {
    state: State,
    contents: Vec<u8>,
}

/// The bytes a `Write` at `step` stores: never zero, different at every step and position.
fn pattern(step: usize) -> Vec<u8> {
    (0..LEN).map(|i| ((step * 37 + i * 5) % 255) as u8 + 1).collect()
}

impl Model {
    fn new() -> Self {
        Model { state: State::Live { frozen: false }, contents: vec![0; LEN] }
    }

    fn apply(&mut self, op: Op, step: usize) -> Outcome {
        let live = matches!(self.state, State::Live { .. });
        match op {
            Op::New => {
                *self = Model::new();
                Ok(None)
            }
            Op::Freeze | Op::Melt if live => {
                self.state = State::Live { frozen: op == Op::Freeze };
                Ok(None)
            }
            Op::Read if live => Ok(Some(self.contents.clone())),
            Op::Write if self.state == (State::Live { frozen: true }) => Err(Refused::Frozen),
            Op::Write if live => {
                self.contents = pattern(step);
                Ok(None)
            }
            Op::Freeze | Op::Melt | Op::Read | Op::Write => Err(Refused::Destroyed),
            Op::Destroy => {
                if live {
                    self.state = State::Destroyed;
                }
                Ok(None)
            }
            Op::Purge => {
                if live {
                    self.state = State::Purged;
                }
                Ok(None)
            }
        }
    }
}

fn apply(buf: &mut LockedBuffer, op: Op, step: usize) -> Outcome {
    match op {
        Op::New => {
            *buf = LockedBuffer::new(LEN).expect("a new buffer");
            Ok(None)
        }
        Op::Freeze => buf.freeze().map(|()| None).map_err(refused),
        Op::Melt => buf.melt().map(|()| None).map_err(refused),
        Op::Read => buf.expose().map(|bytes| Some(bytes.to_vec())).map_err(refused),
        Op::Write => buf
            .expose_mut()
            .map(|mut bytes| {
                bytes.copy_from_slice(&pattern(step));
                None
            })
            .map_err(refused),
        Op::Destroy => {
            buf.destroy();
            Ok(None)
        }
        Op::Purge => {
            strongroom::purge();
            Ok(None)
        }
    }
}

/// Every observer of the buffer agrees with the model.
fn check_observers(buf: &LockedBuffer, model: &Model, ops: &[Op]) {
    let live = matches!(model.state, State::Live { .. });
    let frozen = model.state == State::Live { frozen: true };
    assert_eq!(buf.is_destroyed(), !live, "{ops:?}: is_destroyed");
    assert_eq!(buf.is_frozen(), frozen, "{ops:?}: is_frozen");
    assert_eq!(buf.len(), if live { LEN } else { 0 }, "{ops:?}: len");
    assert_eq!(buf.is_empty(), !live, "{ops:?}: is_empty");
    assert_eq!(buf.ct_eq(&model.contents), live, "{ops:?}: ct_eq with the model's contents");
    assert!(!buf.ct_eq(&[0xEE; LEN]), "{ops:?}: ct_eq with other bytes");
    assert_eq!(bool::from(ConstantTimeEq::ct_eq(buf, buf)), live, "{ops:?}: ct_eq with itself");
    assert_eq!(buf.with(|b| b.to_vec()).ok(), live.then(|| model.contents.clone()), "{ops:?}: with");
    assert_eq!(buf.address_range().len(), if live { LEN } else { 0 }, "{ops:?}: address_range");
    let shown = format!("{buf:?}");
    let state = if !live {
        "destroyed"
    } else if frozen {
        "frozen"
    } else {
        "writable"
    };
    assert!(shown.contains(state), "{ops:?}: Debug shows {shown}, the model is {state}");
}

/// Runs `ops` on a fresh buffer and on the model, comparing every step. Returns both.
fn run(ops: &[Op]) -> (LockedBuffer, Model) {
    let mut buf = LockedBuffer::new(LEN).expect("a new buffer");
    let mut model = Model::new();
    check_observers(&buf, &model, &[]);
    for (step, &op) in ops.iter().enumerate() {
        let want = model.apply(op, step);
        let got = apply(&mut buf, op, step);
        assert_eq!(got, want, "{:?}: step {step} ({op:?})", &ops[..=step]);
        check_observers(&buf, &model, &ops[..=step]);
    }
    (buf, model)
}

/// Every sequence of exactly `len` operations over `ops`, in order.
fn sequences(ops: &'static [Op], len: usize) -> impl Iterator<Item = Vec<Op>> {
    (0..ops.len().pow(len as u32)).map(move |mut n| {
        (0..len)
            .map(|_| {
                let op = ops[n % ops.len()];
                n /= ops.len();
                op
            })
            .collect()
    })
}

fn depth(var: &str, default: usize) -> usize {
    std::env::var(var).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Buffers alive at once in [`run_in_lockstep`]: each holds a page of locked memory.
const BATCH: usize = 128;

/// Runs sequences that all purge at the same steps side by side, a buffer each: one
/// `purge()` (process-wide) then serves every sequence of the batch at that step, exactly as
/// if each ran alone. A purge walks the whole registry, which in a debug build costs far more
/// than anything else here; side by side, the 117,649 sequences of length 6 need about 500
/// purges instead of 100,000.
fn run_in_lockstep(batch: &[Vec<Op>]) {
    let mut live: Vec<(LockedBuffer, Model)> =
        batch.iter().map(|_| (LockedBuffer::new(LEN).expect("a new buffer"), Model::new())).collect();
    for step in 0..batch[0].len() {
        let purge = batch[0][step] == Op::Purge;
        if purge {
            strongroom::purge();
        }
        for (ops, (buf, model)) in batch.iter().zip(&mut live) {
            assert_eq!(ops[step] == Op::Purge, purge, "a batch purges at the same steps");
            let want = model.apply(ops[step], step);
            let got = if purge { Ok(None) } else { apply(buf, ops[step], step) };
            assert_eq!(got, want, "{:?}: step {step} ({:?})", &ops[..=step], ops[step]);
            check_observers(buf, model, &ops[..=step]);
        }
    }
}

const NOT_PURGE: [Op; 6] = [Op::New, Op::Freeze, Op::Melt, Op::Read, Op::Write, Op::Destroy];

#[test]
fn every_sequence_of_operations_agrees_with_the_model() {
    let started = std::time::Instant::now();
    // Every sequence of exactly `len` operations, checked after every step: so every shorter
    // sequence too, as a prefix. Grouped by the steps at which they purge.
    let len = depth("STRONGROOM_MODEL_DEPTH", 6);
    let mut count = 0;
    for purges in 0..1usize << len {
        let rest = len - purges.count_ones() as usize;
        let all: Vec<Vec<Op>> = sequences(&NOT_PURGE, rest)
            .map(|others| {
                let mut others = others.into_iter();
                (0..len).map(|step| if purges >> step & 1 == 1 { Op::Purge } else { others.next().unwrap() }).collect()
            })
            .collect();
        for batch in all.chunks(BATCH) {
            run_in_lockstep(batch);
        }
        count += all.len();
    }
    assert_eq!(count, OPS.len().pow(len as u32));
    let sequences_took = started.elapsed();

    // Fork, as the last operation: every sequence of up to three operations, then a fork.
    let mut forks = 0;
    let fork_phase = "every_sequence_of_operations_agrees_with_the_model (its fork phase; the sequences ran)";
    let fork_depth = if common::skip_under_qemu(fork_phase, common::QEMU_IGNORES_MADVISE) {
        None
    } else {
        Some(depth("STRONGROOM_MODEL_FORK_DEPTH", 3))
    };
    for len in fork_depth.into_iter().flat_map(|d| 0..=d) {
        for ops in sequences(&OPS, len) {
            let (buf, model) = run(&ops);
            let fork = buf.protections().fork;
            let got = observe_fork(buf);
            match model.state {
                State::Live { .. } => {
                    let view = got.unwrap_or_else(|e| panic!("{ops:?}: the fork probe failed: {e}"));
                    let want = match fork {
                        ForkSafety::Wiped => ForkView::Wiped,
                        ForkSafety::Unmapped => ForkView::Unmapped,
                        other => panic!("{ops:?}: the default policy left the buffer {other:?} at fork"),
                    };
                    assert_eq!(view, want, "{ops:?}: what the child saw");
                }
                State::Destroyed | State::Purged => {
                    assert!(matches!(got, Err(Error::Destroyed)), "{ops:?}: fork probe of a dead buffer: {got:?}");
                }
            }
            forks += 1;
        }
    }
    println!(
        "{count} sequences of {len} operations in {:.1} s, {forks} forks in {:.1} s",
        sequences_took.as_secs_f64(),
        (started.elapsed() - sequences_took).as_secs_f64()
    );
}
