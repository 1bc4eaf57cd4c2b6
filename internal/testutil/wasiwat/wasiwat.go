// Package wasiwat provides WAT fragments for tests that build components
// by hand against WASI 0.2 and Spin's Redis handler export.
package wasiwat

import "fmt"

// IO returns the imports of a component `$C` that uses wasi:io and
// wasi:cli/stdout: wasi:io/error, poll and streams at version io, and
// wasi:cli/stdout at version stdout (which may differ: a component can
// use one version's streams through another's stdout). It defines the
// types $error, $pollable, $input-stream, $output-stream and the functions
// $read (input-stream.blocking-read), $subscribe (output-stream.subscribe),
// $write (output-stream.blocking-write-and-flush) and $get-stdout.
func IO(io, stdout string) string {
	return fmt.Sprintf(`
  (import "wasi:io/error@%[1]s" (instance $ierr (export "error" (type (sub resource)))))
  (alias export $ierr "error" (type $error))
  (import "wasi:io/poll@%[1]s" (instance $ipoll (export "pollable" (type (sub resource)))))
  (alias export $ipoll "pollable" (type $pollable))
  (import "wasi:io/streams@%[1]s" (instance $istreams
    (alias outer $C $error (type $e))
    (alias outer $C $pollable (type $p))
    (export "input-stream" (type $is (sub resource)))
    (export "output-stream" (type $os (sub resource)))
    (type $se (variant (case "last-operation-failed" (own $e)) (case "closed")))
    (export "stream-error" (type $se2 (eq $se)))
    (export "[method]input-stream.blocking-read"
      (func (param "self" (borrow $is)) (param "len" u64) (result (result (list u8) (error $se2)))))
    (export "[method]output-stream.subscribe" (func (param "self" (borrow $os)) (result (own $p))))
    (export "[method]output-stream.blocking-write-and-flush"
      (func (param "self" (borrow $os)) (param "contents" (list u8)) (result (result (error $se2)))))))
  (alias export $istreams "input-stream" (type $input-stream))
  (alias export $istreams "output-stream" (type $output-stream))
  (alias export $istreams "[method]input-stream.blocking-read" (func $read))
  (alias export $istreams "[method]output-stream.subscribe" (func $subscribe))
  (alias export $istreams "[method]output-stream.blocking-write-and-flush" (func $write))
  (import "wasi:cli/stdout@%[2]s" (instance $istdout
    (alias outer $C $output-stream (type $os))
    (export "output-stream" (type $os2 (eq $os)))
    (export "get-stdout" (func (result (own $os2))))))
  (alias export $istdout "get-stdout" (func $get-stdout))
`, io, stdout)
}

// InboundRedis ends a component `$C` by exporting fermyon:spin/inbound-redis
// with handle-message lifted from core function "handle" of instance $i
// (params: payload pointer and length; result: pointer to the
// result<_, error> bytes), with memory "memory" of instance $mem and
// "cabi_realloc" of $i.
const InboundRedis = `
  (type $err (enum "success" "error"))
  (export $err2 "error" (type $err))
  (func $h (param "message" (list u8)) (result (result (error $err2)))
    (canon lift (core func $i "handle") (memory $mem "memory") (realloc (func $i "cabi_realloc"))))
  (instance $inst (export "error" (type $err2)) (export "handle-message" (func $h)))
  (export "fermyon:spin/inbound-redis" (instance $inst))
)`
