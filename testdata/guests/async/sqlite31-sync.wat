(module
  (import "spin:sqlite/sqlite@3.1.0" "[static]connection.open" (func $open (param i32 i32 i32)))
  (import "spin:sqlite/sqlite@3.1.0" "[method]connection.last-insert-rowid" (func $r (param i32) (result i64)))
  (memory (export "memory") 1)
  (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) i32.const 1024)
  (func (export "run") (call $open (i32.const 0) (i32.const 7) (i32.const 64)) (drop (call $r (i32.load (i32.const 68)))))
  (data (i32.const 0) "default")
)
