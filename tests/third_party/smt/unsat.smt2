; A simple unsatisfiable bit-vector problem: the lowest bit of x*2 is
; always 0, so asserting that it is 1 has no model.
(set-logic QF_BV)
(declare-const x (_ BitVec 16))
(assert (= ((_ extract 0 0) (bvmul x #x0002)) #b1))
(check-sat)
(exit)
