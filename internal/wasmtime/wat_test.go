package wasmtime

// compWAT is a component exporting fermyon:spin/inbound-redis whose
// handle-message answers by the payload's first byte: 'e' err(error),
// 's' err(success), 't' trap, 'l' loop forever, anything else ok.
const compWAT = `(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $r i32)
      global.get $bump
      local.set $r
      global.get $bump
      local.get 3
      i32.add
      global.set $bump
      local.get $r)
    (func (export "handle") (param $ptr i32) (param $len i32) (result i32)
      (local $c i32)
      (i32.store16 (i32.const 16) (i32.const 0))
      (if (i32.eqz (local.get $len)) (then (return (i32.const 16))))
      (local.set $c (i32.load8_u (local.get $ptr)))
      (if (i32.eq (local.get $c) (i32.const 101)) (then
        (i32.store8 (i32.const 16) (i32.const 1))
        (i32.store8 (i32.const 17) (i32.const 1))))
      (if (i32.eq (local.get $c) (i32.const 115)) (then
        (i32.store8 (i32.const 16) (i32.const 1))
        (i32.store8 (i32.const 17) (i32.const 0))))
      (if (i32.eq (local.get $c) (i32.const 116)) (then unreachable))
      (if (i32.eq (local.get $c) (i32.const 108)) (then (loop $l (br $l))))
      (i32.const 16)))
  (core instance $i (instantiate $m))
  (type $err (enum "success" "error"))
  (export $err2 "error" (type $err))
  (func $h (param "message" (list u8)) (result (result (error $err2)))
    (canon lift (core func $i "handle") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "error" (type $err2)) (export "handle-message" (func $h)))
  (export "fermyon:spin/inbound-redis" (instance $inst))
)`

// coreWAT is a core module: "run" writes "hello\n" to stdout through WASI
// fd_write, calls host.add(2, 3) and returns its result; "trap" traps;
// "loop" loops forever; "grow" grows memory by its argument (pages) and
// returns the old size or -1.
const coreWAT = `(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "host" "add" (func $add (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hello\n")
  (func (export "run") (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (call $add (i32.const 2) (i32.const 3)))
  (func (export "trap") unreachable)
  (func (export "loop") (loop $l (br $l)))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
)`
