;; Seed 004: `sum` reads two i32 operands at bytes 0 and 4 of linear memory and writes their
;; sum at byte 8.
(module
  (memory (export "mem") 1)
  (data (i32.const 16) "x\e1\bb\8bn x\c3\b2")
  (func (export "sum")
    (i32.store (i32.const 8)
      (i32.add (i32.load (i32.const 0)) (i32.load (i32.const 4)))))
  (func (export "add_page") (result i32)
    (memory.grow (i32.const 1))))
