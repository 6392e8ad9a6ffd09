; Unsatisfiable: 1022117 is 1009 * 1013, so it has no factor pair with both
; factors below 1000 (x, y are 16-bit values zero-extended to 32 bits).
(set-logic QF_BV)
(declare-const x (_ BitVec 32))
(declare-const y (_ BitVec 32))
(assert (= ((_ extract 31 16) x) #x0000))
(assert (= ((_ extract 31 16) y) #x0000))
(assert (bvugt x #x00000001))
(assert (bvult x (_ bv1000 32)))
(assert (bvugt y #x00000001))
(assert (bvult y (_ bv1000 32)))
(assert (= (bvmul x y) (_ bv1022117 32)))
(check-sat)
(exit)
