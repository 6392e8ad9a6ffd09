; A simple satisfiable bit-vector problem with a unique solution:
; a + b = 100, a - b = 20 (mod 2^8), a < 128, b < 128  =>  a = 60, b = 40.
(set-logic QF_BV)
(set-option :produce-models true)
(declare-const a (_ BitVec 8))
(declare-const b (_ BitVec 8))
(assert (= (bvadd a b) (_ bv100 8)))
(assert (= (bvsub a b) (_ bv20 8)))
(assert (bvult a (_ bv128 8)))
(assert (bvult b (_ bv128 8)))
(check-sat)
(get-value (a b))
(exit)
