; Factor the semiprime 4291428937 = 65497 * 65521 with 64-bit bit-vectors
; (32-bit values zero-extended, so x*y cannot overflow).  Takes boolector
; a few seconds: usable as a benchmark input.
(set-logic QF_BV)
(declare-const x (_ BitVec 64))
(declare-const y (_ BitVec 64))
(assert (= ((_ extract 63 32) x) #x00000000))
(assert (= ((_ extract 63 32) y) #x00000000))
(assert (bvugt x (_ bv1 64)))
(assert (bvugt y (_ bv1 64)))
(assert (bvule x y))
(assert (= (bvmul x y) (_ bv4291428937 64)))
(check-sat)
(get-value (x y))
(exit)
