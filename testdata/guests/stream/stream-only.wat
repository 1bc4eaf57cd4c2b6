;; A component exporting only redspin:streams/inbound-stream@0.1.0, whose
;; handle-entry answers ack: tests compile it (wasmtime.Wat2Wasm) to check
;; that redspin loads such a component for stream triggers only.
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 1024))
    (func (export "handle") (param i32 i32 i32 i32 i32 i32 i32 i32 i64) (result i32) (i32.const 16)))
  (core instance $i (instantiate $m))
  (type $field (record (field "name" string) (field "value" (list u8))))
  (export $field2 "field" (type $field))
  (type $entry (record (field "stream-key" string) (field "id" string) (field "group" string)
    (field "fields" (list $field2)) (field "deliveries" u64)))
  (export $entry2 "entry" (type $entry))
  (type $disp (variant (case "ack") (case "retry" (option u32)) (case "dead-letter" string)))
  (export $disp2 "disposition" (type $disp))
  (func $h (param "entry" $entry2) (result $disp2)
    (canon lift (core func $i "handle") (memory $i "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "field" (type $field2)) (export "entry" (type $entry2))
    (export "disposition" (type $disp2)) (export "handle-entry" (func $h)))
  (export "redspin:streams/inbound-stream@0.1.0" (instance $inst))
)
