package wasi

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"

	"github.com/redspin/redspin/internal/wasmtime"
)

// maxRandomBytes bounds one get-random-bytes call (the guest asks for a
// u64 count).
const maxRandomBytes = 64 << 20

func randomBytes(_ *Call, args, results []wasmtime.Val) error {
	n := args[0].Num
	if n > maxRandomBytes {
		return fmt.Errorf("%d random bytes asked for, at most %d", n, maxRandomBytes)
	}
	b := make([]byte, n)
	rand.Read(b)
	results[0] = wasmtime.Bytes(b)
	return nil
}

func randomU64(_ *Call, _, results []wasmtime.Val) error {
	var b [8]byte
	rand.Read(b[:])
	results[0] = u64(binary.LittleEndian.Uint64(b[:]))
	return nil
}

// The insecure interfaces use the same source: crypto/rand is fast enough.
var (
	randomSecure   = Interface{"get-random-bytes": randomBytes, "get-random-u64": randomU64}
	randomInsecure = Interface{"get-insecure-random-bytes": randomBytes, "get-insecure-random-u64": randomU64}
	randomSeed     = Interface{"insecure-seed": func(x *Call, _, results []wasmtime.Val) error {
		var a, b [1]wasmtime.Val
		if err := randomU64(x, nil, a[:]); err != nil {
			return err
		}
		if err := randomU64(x, nil, b[:]); err != nil {
			return err
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{a[0], b[0]}}
		return nil
	}}
)
