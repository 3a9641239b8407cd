; The layout arithmetic of strongroom's guarded regions and pool arenas, proved for every
; size over 64-bit bitvectors (usize on a 64-bit target), page sizes from 4 KiB to 1 GiB.
;
;   z3 scripts/proofs/layout.smt2
;
; Each property is stated as its negation: `(check-sat)` must print `unsat` (no counterexample
; exists), after the `(echo)` that names it. `sat` or `unknown` is a failure.
;
; Kept in sync with the Rust by crates/strongroom/src/alloc/layout_proofs.rs (`cargo test -p
; strongroom layout_proofs`), which runs this file and then asks z3 to evaluate the functions
; defined here at thousands of points (every pool size, every class, sizes around each page
; and around isize::MAX and usize::MAX) and compares each value with the Rust function's.
; The constants and each line of the Rust they model are quoted beside the definitions.

(set-option :timeout 120000)
(define-sort U () (_ BitVec 64))
(define-sort W () (_ BitVec 128))

; ---- constants -----------------------------------------------------------------------------
; alloc/canary.rs:  pub(crate) const CANARY_LEN: usize = 16;
(define-fun CANARY_LEN () U (_ bv16 64))
; alloc/pool/arena.rs:  pub(in crate::alloc) const HEADER: usize = CANARY_LEN;
(define-fun HEADER () U (_ bv16 64))
; alloc/pool/class.rs:  CLASS_SIZES = [16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048]
(define-fun MAX_POOLED () U (_ bv2048 64))
(define-fun ISIZE_MAX () U #x7fffffffffffffff)
(define-fun GRANULE () U (_ bv16 64))

; A page size: a power of two, 4 KiB to 1 GiB (sys::page_size(); 2 * page cannot wrap).
(define-fun valid_page ((p U)) Bool
  (and (= (bvand p (bvsub p (_ bv1 64))) (_ bv0 64)) (bvuge p (_ bv4096 64)) (bvule p (_ bv1073741824 64))))
; An alignment: a power of two.
(define-fun pow2 ((a U)) Bool (and (distinct a (_ bv0 64)) (= (bvand a (bvsub a (_ bv1 64))) (_ bv0 64))))
; x is a multiple of the power of two a.
(define-fun aligned ((x U) (a U)) Bool (= (bvand x (bvsub a (_ bv1 64))) (_ bv0 64)))

; ---- checked arithmetic --------------------------------------------------------------------
; a.checked_add(b) is Some  <=>  the 64-bit sum does not wrap.
(define-fun add_ok ((a U) (b U)) Bool (bvuge (bvadd a b) a))
(define-fun W_ ((x U)) W ((_ zero_extend 64) x))

; sys/mod.rs:
;   pub(crate) const fn round_up(n: usize, align: usize) -> Option<usize> {
;       match n.checked_add(align - 1) { Some(v) => Some(v & !(align - 1)), None => None }
(define-fun round_up_ok ((n U) (a U)) Bool (add_ok n (bvsub a (_ bv1 64))))
(define-fun round_up ((n U) (a U)) U (bvand (bvadd n (bvsub a (_ bv1 64))) (bvnot (bvsub a (_ bv1 64)))))

; ---- the guarded layout --------------------------------------------------------------------
; alloc/guarded.rs, GuardedLayout::new(len, page):
;   let inner_len = len
;       .checked_add(CANARY_LEN)                                   ; g_n, first conjunct of g_ok
;       .and_then(|n| sys::round_up(n, page))                      ; g_inner, second conjunct
;       .filter(|n| n.checked_add(2 * page)                        ; third conjunct
;           .is_some_and(|t| t <= isize::MAX as usize))?;          ; fourth conjunct
;   Some(GuardedLayout { inner_len, gap: inner_len - len })        ; g_gap
; The mapping, from its base: guard [0, page), canary [page, page + gap),
; data [page + gap, page + inner_len), guard [page + inner_len, inner_len + 2 * page).
(define-fun g_n ((len U)) U (bvadd len CANARY_LEN))
(define-fun g_inner ((len U) (page U)) U (round_up (g_n len) page))
(define-fun g_total ((len U) (page U)) U (bvadd (g_inner len page) (bvmul (_ bv2 64) page)))
(define-fun g_ok ((len U) (page U)) Bool
  (and (add_ok len CANARY_LEN)
       (round_up_ok (g_n len) page)
       (add_ok (g_inner len page) (bvmul (_ bv2 64) page))
       (bvule (g_total len page) ISIZE_MAX)))
(define-fun g_gap ((len U) (page U)) U (bvsub (g_inner len page) len))

; The same sizes in unbounded (128-bit) arithmetic: what the layout should be.
(define-fun spec_inner ((len U) (page U)) W
  (bvand (bvadd (W_ len) (W_ CANARY_LEN) (bvsub (W_ page) (_ bv1 128))) (bvnot (bvsub (W_ page) (_ bv1 128)))))
(define-fun spec_total ((len U) (page U)) W (bvadd (spec_inner len page) (bvmul (_ bv2 128) (W_ page))))

(declare-const len U)
(declare-const page U)
(declare-const size U)
(declare-const align U)

(echo "property G1: accepted sizes get whole pages that hold the data and the canary")
(push)
(assert (and (valid_page page) (g_ok len page)))
(assert (not (and (aligned (g_inner len page) page)
                  (bvuge (g_inner len page) (g_n len))
                  (bvuge (g_n len) len))))
(check-sat)
(pop)

(echo "property G2: no page is wasted (inner_len - (len + CANARY_LEN) < page)")
(push)
(assert (and (valid_page page) (g_ok len page)))
(assert (not (bvult (bvsub (g_inner len page) (g_n len)) page)))
(check-sat)
(pop)

(echo "property G3: the data ends exactly at the trailing guard, and no offset wraps or passes isize::MAX")
(push)
(assert (and (valid_page page) (g_ok len page)))
(assert (not (and (add_ok page (g_gap len page))
                  (add_ok (bvadd page (g_gap len page)) len)
                  (= (bvadd page (g_gap len page) len) (bvadd page (g_inner len page)))
                  (add_ok (bvadd page (g_inner len page)) page)
                  (= (bvadd page (g_inner len page) page) (g_total len page))
                  (bvule (g_total len page) ISIZE_MAX))))
(check-sat)
(pop)

(echo "property G4: the canary fills the gap right before the data, at least CANARY_LEN bytes, after the leading guard")
(push)
(assert (and (valid_page page) (g_ok len page)))
(assert (not (and (bvuge (g_gap len page) CANARY_LEN)
                  (bvule (g_gap len page) (g_inner len page))
                  (bvuge (bvadd page (g_gap len page)) (bvadd page CANARY_LEN)))))
(check-sat)
(pop)

(echo "property G5: a size is refused exactly when its mapping would pass isize::MAX, and accepted sizes match unbounded arithmetic")
(push)
(assert (valid_page page))
(assert (not (and (= (g_ok len page) (bvule (spec_total len page) (W_ ISIZE_MAX)))
                  (=> (g_ok len page) (and (= (W_ (g_inner len page)) (spec_inner len page))
                                           (= (W_ (g_total len page)) (spec_total len page)))))))
(check-sat)
(pop)

; alloc/secure_alloc.rs (blocks too large or too aligned for the pool), alloc/strict.rs:
;   if layout.align() > sys::page_size() { return Err(..) }
;   let len = sys::round_up(layout.size(), layout.align()).ok_or(Error::TooLarge)?;
;   GuardedRegion::new(len, ..)  -> data at base + page + gap
; (strict.rs rounds size_of::<T>().max(1) the same way.)
(echo "property G6: a guarded block for (size, align <= page) starts aligned and holds size bytes")
(push)
(assert (and (valid_page page) (pow2 align) (bvule align page)))
(assert (round_up_ok size align))
(assert (g_ok (round_up size align) page))
(assert (not (and (aligned (bvadd page (g_gap (round_up size align) page)) align)
                  (bvuge (round_up size align) size)
                  (bvult (bvsub (round_up size align) size) align))))
(check-sat)
(pop)

; ---- the pool ------------------------------------------------------------------------------
; alloc/pool/class.rs: the smallest class that holds size.div_ceil(16) * 16 bytes (the LOOKUP
; table), None above MAX_POOLED; granule_round(size) = size.div_ceil(16) * 16. Stated for
; sizes 1..=MAX_POOLED (P1's premise), where s + 15 cannot wrap.
(define-fun granule_round ((s U)) U (bvmul (bvudiv (bvadd s (_ bv15 64)) GRANULE) GRANULE))
(define-fun class_of ((s U)) U
  (let ((g (granule_round s)))
    (ite (bvule g (_ bv16 64)) (_ bv16 64) (ite (bvule g (_ bv32 64)) (_ bv32 64)
    (ite (bvule g (_ bv48 64)) (_ bv48 64) (ite (bvule g (_ bv64 64)) (_ bv64 64)
    (ite (bvule g (_ bv96 64)) (_ bv96 64) (ite (bvule g (_ bv128 64)) (_ bv128 64)
    (ite (bvule g (_ bv192 64)) (_ bv192 64) (ite (bvule g (_ bv256 64)) (_ bv256 64)
    (ite (bvule g (_ bv384 64)) (_ bv384 64) (ite (bvule g (_ bv512 64)) (_ bv512 64)
    (ite (bvule g (_ bv768 64)) (_ bv768 64) (ite (bvule g (_ bv1024 64)) (_ bv1024 64)
    (ite (bvule g (_ bv1536 64)) (_ bv1536 64) (_ bv2048 64))))))))))))))))
(define-fun is_class ((c U)) Bool
  (or (= c (_ bv16 64)) (= c (_ bv32 64)) (= c (_ bv48 64)) (= c (_ bv64 64)) (= c (_ bv96 64))
      (= c (_ bv128 64)) (= c (_ bv192 64)) (= c (_ bv256 64)) (= c (_ bv384 64)) (= c (_ bv512 64))
      (= c (_ bv768 64)) (= c (_ bv1024 64)) (= c (_ bv1536 64)) (= c (_ bv2048 64))))
; alloc/pool/mod.rs: fn data_offset(class_size, size) = class_size - granule_round(size)
(define-fun p_offset ((s U)) U (bvsub (class_of s) (granule_round s)))

(echo "property P1: every pooled size gets the smallest class that holds it, data 16-aligned and flush against the slot's end (padding < 16)")
(push)
(assert (and (bvuge size (_ bv1 64)) (bvule size MAX_POOLED)))
(assert (not (and (is_class (class_of size))
                  (bvuge (class_of size) size)
                  (or (= (class_of size) (_ bv16 64))
                      (not (exists ((c U)) (and (is_class c) (bvult c (class_of size)) (bvuge c (granule_round size))))))
                  (aligned (p_offset size) GRANULE)
                  (bvule (bvadd (p_offset size) size) (class_of size))
                  (bvult (bvsub (class_of size) (bvadd (p_offset size) size)) GRANULE)
                  (= (bvadd (p_offset size) (granule_round size)) (class_of size)))))
(check-sat)
(pop)

; alloc/pool/arena.rs, carve(class_size, inner_len):
;   let stride = HEADER + class_size;
;   (stride, (inner_len - HEADER) / stride)
; Arena::new writes header k at k * stride for k in 0..=slots; slot i (i < slots) starts at
; i * stride + HEADER; Arena::index_of(offset from slot 0) is offset / stride when
; offset % stride == 0 and offset / stride < slots.
;
; This arithmetic is stated over the integers, with every intermediate value proved to lie
; below 2^64: on such values u64 arithmetic computes exactly the same (nothing wraps), and
; the solver handles division by a constant stride at once, where bit-blasting a 64-bit
; divider takes minutes per class. The arena length is any integer from 4096 to 4 GiB,
; whole pages or not (shared.rs maps MIN_ARENA.max(page), doubling up to
; MAX_ARENA.max(page): whole pages, at most 1 GiB).
(define-fun U64 ((x Int)) Bool (and (<= 0 x) (< x 18446744073709551616)))
(define-fun stride ((c Int)) Int (+ 16 c))                       ; HEADER + class_size
(define-fun slots ((c Int) (inner Int)) Int (div (- inner 16) (stride c)))
(declare-const inner Int)
(declare-const i Int)
(define-fun arena ((inner Int)) Bool (and (<= 4096 inner) (<= inner 4294967296)))
; P2: at least one slot, as many as fit, the header after the last slot ends inside the
; arena, slot indices fit the free list's u32, nothing wraps.
(define-fun P2 ((c Int) (inner Int)) Bool
  (and (U64 (- inner 16))
       (>= (slots c inner) 1)
       (< (slots c inner) 4294967296)
       (U64 (+ (* (slots c inner) (stride c)) 16))
       (<= (+ (* (slots c inner) (stride c)) 16) inner)
       (> (+ (* (+ (slots c inner) 1) (stride c)) 16) inner)))
; P3: slot i (i < slots) runs from just after header i (at i * stride) exactly to header
; i + 1, which ends inside the arena; the slot starts 16-aligned (the inner pages are
; page-aligned); its offset from slot 0 maps back to i (Arena::index_of); nothing wraps.
(define-fun P3 ((c Int) (inner Int) (i Int)) Bool
  (and (U64 (* i (stride c)))
       (U64 (+ (* (+ i 1) (stride c)) 16))
       (= (+ (* i (stride c)) 16 c) (* (+ i 1) (stride c)))
       (<= (+ (* (+ i 1) (stride c)) 16) inner)
       (= (mod (+ (* i (stride c)) 16) 16) 0)
       (= (mod (* i (stride c)) (stride c)) 0)
       (= (div (* i (stride c)) (stride c)) i)))
; One query per class, so that every product and quotient is by a constant.

(echo "property P2[class 16]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 16 inner)))
(check-sat)
(pop)
(echo "property P3[class 16]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 16 inner))))
(assert (not (P3 16 inner i)))
(check-sat)
(pop)

(echo "property P2[class 32]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 32 inner)))
(check-sat)
(pop)
(echo "property P3[class 32]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 32 inner))))
(assert (not (P3 32 inner i)))
(check-sat)
(pop)

(echo "property P2[class 48]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 48 inner)))
(check-sat)
(pop)
(echo "property P3[class 48]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 48 inner))))
(assert (not (P3 48 inner i)))
(check-sat)
(pop)

(echo "property P2[class 64]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 64 inner)))
(check-sat)
(pop)
(echo "property P3[class 64]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 64 inner))))
(assert (not (P3 64 inner i)))
(check-sat)
(pop)

(echo "property P2[class 96]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 96 inner)))
(check-sat)
(pop)
(echo "property P3[class 96]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 96 inner))))
(assert (not (P3 96 inner i)))
(check-sat)
(pop)

(echo "property P2[class 128]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 128 inner)))
(check-sat)
(pop)
(echo "property P3[class 128]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 128 inner))))
(assert (not (P3 128 inner i)))
(check-sat)
(pop)

(echo "property P2[class 192]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 192 inner)))
(check-sat)
(pop)
(echo "property P3[class 192]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 192 inner))))
(assert (not (P3 192 inner i)))
(check-sat)
(pop)

(echo "property P2[class 256]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 256 inner)))
(check-sat)
(pop)
(echo "property P3[class 256]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 256 inner))))
(assert (not (P3 256 inner i)))
(check-sat)
(pop)

(echo "property P2[class 384]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 384 inner)))
(check-sat)
(pop)
(echo "property P3[class 384]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 384 inner))))
(assert (not (P3 384 inner i)))
(check-sat)
(pop)

(echo "property P2[class 512]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 512 inner)))
(check-sat)
(pop)
(echo "property P3[class 512]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 512 inner))))
(assert (not (P3 512 inner i)))
(check-sat)
(pop)

(echo "property P2[class 768]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 768 inner)))
(check-sat)
(pop)
(echo "property P3[class 768]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 768 inner))))
(assert (not (P3 768 inner i)))
(check-sat)
(pop)

(echo "property P2[class 1024]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 1024 inner)))
(check-sat)
(pop)
(echo "property P3[class 1024]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 1024 inner))))
(assert (not (P3 1024 inner i)))
(check-sat)
(pop)

(echo "property P2[class 1536]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 1536 inner)))
(check-sat)
(pop)
(echo "property P3[class 1536]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 1536 inner))))
(assert (not (P3 1536 inner i)))
(check-sat)
(pop)

(echo "property P2[class 2048]: an arena holds at least one slot, as many as fit, the last header inside it")
(push)
(assert (arena inner))
(assert (not (P2 2048 inner)))
(check-sat)
(pop)
(echo "property P3[class 2048]: slot i lies exactly between headers i and i + 1, 16-aligned, its offset maps back to i")
(push)
(assert (and (arena inner) (<= 0 i) (< i (slots 2048 inner))))
(assert (not (P3 2048 inner i)))
(check-sat)
(pop)

; ---- the proofs above are not vacuous ------------------------------------------------------
; Their premises have models, and claims just past the truth are refuted: `sat` expected.
(echo "sanity S1 (expect sat): some sizes are accepted and others refused, for the same page")
(push)
(assert (and (valid_page page) (g_ok len page) (not (g_ok size page))))
(check-sat)
(pop)
(echo "sanity S2 (expect sat): the gap can be exactly CANARY_LEN (a claim of CANARY_LEN + 1 would be false)")
(push)
(assert (and (valid_page page) (g_ok len page) (= (g_gap len page) CANARY_LEN)))
(check-sat)
(pop)
(echo "sanity S3 (expect sat): a guarded block of a page-aligned type exists above 1 MiB")
(push)
(assert (and (valid_page page) (pow2 align) (= align page) (bvugt size #x0000000000100000)
             (round_up_ok size align) (g_ok (round_up size align) page)))
(check-sat)
(pop)
(echo "sanity S4 (expect sat): an arena of the largest class has a slot past index 1000")
(push)
(assert (and (arena inner) (< 1000 i) (< i (slots 2048 inner))))
(check-sat)
(pop)
