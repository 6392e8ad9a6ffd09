;; Seed 003: `accumulate` sums `length` i32 values starting at `ptr` in an imported memory.
(module
  (memory (import "js" "mem") 1)
  (func (export "accumulate") (param $ptr i32) (param $length i32) (result i32)
    (local $end i32)
    (local $sum i32)
    (local.set $end (i32.add (local.get $ptr) (i32.shl (local.get $length) (i32.const 2))))
    (block $done
      (loop $top
        (br_if $done (i32.eq (local.get $ptr) (local.get $end)))
        (local.set $sum (i32.add (local.get $sum) (i32.load (local.get $ptr))))
        (local.set $ptr (i32.add (local.get $ptr) (i32.const 4)))
        (br $top)))
    (local.get $sum)))
