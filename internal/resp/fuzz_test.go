package resp

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// FuzzReadPush: whatever the connection sends, ReadPush returns replies or
// an error, never panics, never asks alloc for more than the bytes that
// could follow, and reads the same replies whether the input arrives whole
// or a byte at a time.
func FuzzReadPush(f *testing.F) {
	for _, s := range []string{
		message("ch", "hello"),
		"*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n",
		"*2\r\n$4\r\npong\r\n$0\r\n\r\n",
		"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nch\r\n$1\r\nx\r\n",
		"-WRONGPASS invalid username-password pair\r\n+OK\r\n:1\r\n",
		"$536870913\r\n",
		"*1\r\n*1\r\n*1\r\n:1\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		read := func(rd io.Reader) (out [][]byte, end error) {
			r := NewReader(rd, Options{BufferSize: MinBufferSize, MaxBulk: 1 << 20})
			for range 1000 {
				p, err := r.ReadPush(func(_ []byte, n int) []byte {
					if n > len(in) {
						// The bound holds (MaxBulk); the bytes may still not arrive.
						if n > 1<<20 {
							t.Fatalf("alloc of %d bytes over MaxBulk", n)
						}
					}
					return make([]byte, n)
				})
				if err != nil {
					return out, err
				}
				out = append(out, append([]byte{byte(p.Kind)}, append(append(p.Channel, 0), p.Payload...)...))
			}
			return out, nil
		}
		whole, err1 := read(bytes.NewReader(in))
		split, err2 := read(iotest.OneByteReader(bytes.NewReader(in)))
		if len(whole) != len(split) {
			t.Fatalf("%d replies whole, %d split", len(whole), len(split))
		}
		for i := range whole {
			if !bytes.Equal(whole[i], split[i]) {
				t.Fatalf("reply %d: %q whole, %q split", i, whole[i], split[i])
			}
		}
		var se1, se2 *ServerError
		if errors.As(err1, &se1) != errors.As(err2, &se2) || errors.Is(err1, ErrProtocol) != errors.Is(err2, ErrProtocol) {
			t.Fatalf("errors differ: %v whole, %v split", err1, err2)
		}
	})
}
