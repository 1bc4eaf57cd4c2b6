package resp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// readers yields the input as one reader and as readers returning one byte
// and a few bytes per Read, so that every reply is also read split at
// every position.
func readers(in string) map[string]io.Reader {
	return map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
		"halves":   iotest.HalfReader(strings.NewReader(in)),
	}
}

func message(channel, payload string) string {
	return string(AppendCommand(nil, "message", channel, payload))
}

func TestReadPushEveryKind(t *testing.T) {
	big := strings.Repeat("x", 70_000) // over two buffers: read straight into dst
	in := "*3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n" +
		message("ch", "hello") +
		message("ch", "") +
		message("ch", "\x00\r\n\xff") +
		message("ch", big) +
		"*4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$2\r\nch\r\n$2\r\npm\r\n" +
		"*2\r\n$4\r\npong\r\n$0\r\n\r\n" +
		"*2\r\n$4\r\npong\r\n$2\r\nhi\r\n" +
		"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n" +
		"*3\r\n$7\r\nmystery\r\n*2\r\n:1\r\n$1\r\nx\r\n+ok\r\n" + // an unknown push: skipped whole
		"*4\r\n$7\r\nmessage\r\n$2\r\nch\r\n$1\r\na\r\n$1\r\nb\r\n" + // a message of the wrong shape: skipped
		":7\r\n" + // not an array: skipped
		"-NOPERM no permissions to access the 'x' channel\r\n"
	want := []Push{
		{Kind: Subscribed, Channel: []byte("ch"), Count: 1},
		{Kind: Message, Channel: []byte("ch"), Payload: []byte("hello")},
		{Kind: Message, Channel: []byte("ch"), Payload: []byte{}},
		{Kind: Message, Channel: []byte("ch"), Payload: []byte("\x00\r\n\xff")},
		{Kind: Message, Channel: []byte("ch"), Payload: []byte(big)},
		{Kind: PMessage, Channel: []byte("ch"), Payload: []byte("pm")},
		{Kind: Pong},
		{Kind: Pong, Payload: []byte("hi")},
		{Kind: Unsubscribed, Count: 0},
		{Kind: Other},
		{Kind: Other},
		{Kind: Other},
	}
	for name, rd := range readers(in) {
		t.Run(name, func(t *testing.T) {
			r := NewReader(rd, Options{BufferSize: MinBufferSize})
			var allocs []string
			alloc := func(ch []byte, n int) []byte {
				allocs = append(allocs, string(ch))
				return make([]byte, n)
			}
			for i, w := range want {
				p, err := r.ReadPush(alloc)
				if err != nil {
					t.Fatalf("push %d: %v", i, err)
				}
				if p.Kind != w.Kind || !bytes.Equal(p.Channel, w.Channel) || !bytes.Equal(p.Payload, w.Payload) || p.Count != w.Count {
					t.Fatalf("push %d = %v %q %.20q %d, want %v %q %.20q %d", i, p.Kind, p.Channel, p.Payload, p.Count,
						w.Kind, w.Channel, w.Payload, w.Count)
				}
			}
			if len(allocs) != 5 || allocs[4] != "ch" {
				t.Errorf("alloc called for %q, want the 5 messages' channel", allocs)
			}
			_, err := r.ReadPush(alloc)
			var se *ServerError
			if !errors.As(err, &se) || se.Code() != "NOPERM" || !strings.Contains(se.Error(), "'x' channel") {
				t.Fatalf("error reply: %v", err)
			}
			if _, err := r.ReadPush(alloc); err != io.EOF {
				t.Fatalf("at the end: %v, want io.EOF", err)
			}
		})
	}
}

func TestReadStatus(t *testing.T) {
	r := NewReader(strings.NewReader("+OK\r\n-WRONGPASS invalid username-password pair\r\n$3\r\nabc\r\n*1\r\n:1\r\n:5\r\n"), Options{})
	if err := r.ReadStatus(); err != nil {
		t.Fatal(err)
	}
	err := r.ReadStatus()
	var se *ServerError
	if !errors.As(err, &se) || se.Code() != "WRONGPASS" || err.Error() != "WRONGPASS invalid username-password pair" {
		t.Fatalf("error reply: %#v", err)
	}
	for _, want := range []string{"a bulk string", "an array", "an integer"} {
		if err := r.ReadStatus(); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), want) {
			t.Fatalf("%v, want a protocol error naming %s", err, want)
		}
	}
	if err := r.ReadStatus(); err != io.EOF {
		t.Fatalf("at the end: %v", err)
	}
}

// Every malformed or oversized reply is a protocol error, before any
// allocation its header asks for.
func TestMalformed(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"unknown type", "%2\r\n", "unknown reply type"},
		{"RESP3 push", ">3\r\n", "unknown reply type"},
		{"empty line", "\r\n", "empty line"},
		{"bare LF", "+OK\n", "not terminated by CRLF"},
		{"bad length", "$abc\r\n", "bad number"},
		{"plus sign", "$+5\r\n", "bad number"},
		{"overflow", ":99999999999999999999\r\n", "bad number"},
		{"negative length", "$-2\r\n", "negative length"},
		{"bulk over the server's max", "$536870913\r\n", "exceeds the limit of 536870912 bytes"},
		{"huge array", "*100000000\r\n", "exceeds the limit"},
		{"bulk without CRLF", "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nabX", "not terminated by CRLF"},
		{"long line", "+" + strings.Repeat("a", 600) + "\r\n", "longer than the 512-byte buffer"},
		{"long channel", "*3\r\n$7\r\nmessage\r\n$600\r\n" + strings.Repeat("c", 600) + "\r\n$1\r\na\r\n", "at most 510 were expected"},
		{"deep nesting", "*1\r\n*1\r\n" + strings.Repeat("*1\r\n", 20) + ":1\r\n", "nested deeper"},
		{"channel not a string", "*3\r\n$7\r\nmessage\r\n:1\r\n$1\r\na\r\n", "an integer where a channel name"},
		{"payload null", "*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$-1\r\n", "a bulk string where a message's payload"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := NewReader(strings.NewReader(tc.in), Options{BufferSize: 512})
			_, err := r.ReadPush(func(_ []byte, n int) []byte {
				if n > 1<<20 {
					t.Fatalf("alloc of %d bytes", n)
				}
				return make([]byte, n)
			})
			if !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want a protocol error with %q", err, tc.want)
			}
		})
	}
}

func TestConfiguredMaxBulk(t *testing.T) {
	r := NewReader(strings.NewReader(message("c", "123456789")), Options{MaxBulk: 8})
	if _, err := r.ReadPush(nil); !errors.Is(err, ErrProtocol) || !strings.Contains(err.Error(), "9 bytes exceeds the limit of 8") {
		t.Fatalf("err = %v", err)
	}
}

// The connection ending inside a reply is io.ErrUnexpectedEOF wherever it
// ends; only the end between replies is io.EOF.
func TestTruncated(t *testing.T) {
	in := message("chan", strings.Repeat("p", 2000))
	for i := 1; i < len(in); i++ {
		r := NewReader(strings.NewReader(in[:i]), Options{BufferSize: 512})
		if _, err := r.ReadPush(nil); err != io.ErrUnexpectedEOF {
			t.Fatalf("cut after %d bytes: %v", i, err)
		}
	}
}

// A message's payload goes into the caller's buffer with no allocation by
// the reader.
// TestReadPushSkips: a payload alloc declines (nil) is read past, not kept,
// and the reader goes on with the next reply, whole or split anywhere.
func TestReadPushSkips(t *testing.T) {
	big := strings.Repeat("y", 70_000)
	in := message("big", big) + message("big", "") + message("ok", "after")
	for name, rd := range readers(in) {
		t.Run(name, func(t *testing.T) {
			r := NewReader(rd, Options{BufferSize: MinBufferSize})
			alloc := func(ch []byte, n int) []byte {
				if string(ch) == "big" {
					return nil
				}
				return make([]byte, n)
			}
			for i, w := range []Push{
				{Kind: Message, Channel: []byte("big"), Skipped: len(big)},
				{Kind: Message, Channel: []byte("big"), Payload: nil}, // empty: nothing to skip
				{Kind: Message, Channel: []byte("ok"), Payload: []byte("after")},
			} {
				p, err := r.ReadPush(alloc)
				if err != nil {
					t.Fatalf("push %d: %v", i, err)
				}
				if p.Kind != w.Kind || !bytes.Equal(p.Channel, w.Channel) || !bytes.Equal(p.Payload, w.Payload) || p.Skipped != w.Skipped {
					t.Fatalf("push %d = %v %q %.20q skipped %d, want %v %q %q skipped %d", i, p.Kind, p.Channel, p.Payload,
						p.Skipped, w.Kind, w.Channel, w.Payload, w.Skipped)
				}
			}
			if got := r.BytesRead(); got != int64(len(in)) {
				t.Errorf("BytesRead = %d, want %d", got, len(in))
			}
		})
	}
}

func TestReadPushAllocs(t *testing.T) {
	one := message("ch", strings.Repeat("m", 65536))
	src := strings.NewReader("")
	r := NewReader(src, Options{})
	dst := make([]byte, 65536)
	alloc := func([]byte, int) []byte { return dst }
	n := testing.AllocsPerRun(100, func() {
		src.Reset(one)
		if p, err := r.ReadPush(alloc); err != nil || len(p.Payload) != 65536 {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("%v allocations per message, want 0", n)
	}
}

func TestAppendCommand(t *testing.T) {
	if got := string(AppendCommand(nil, "AUTH", "u", "")); got != "*3\r\n$4\r\nAUTH\r\n$1\r\nu\r\n$0\r\n\r\n" {
		t.Errorf("%q", got)
	}
}

func BenchmarkReadPush64KiB(b *testing.B) {
	benchmarkReadPush(b, 65536)
}

func BenchmarkReadPush64B(b *testing.B) {
	benchmarkReadPush(b, 64)
}

func benchmarkReadPush(b *testing.B, size int) {
	const batch = 64
	var in []byte
	for range batch {
		in = append(in, message("bench", strings.Repeat("m", size))...)
	}
	src := bytes.NewReader(in)
	r := NewReader(src, Options{})
	dst := make([]byte, size)
	alloc := func([]byte, int) []byte { return dst }
	b.SetBytes(int64(size))
	for i := 0; b.Loop(); i++ {
		if i%batch == 0 {
			src.Reset(in)
		}
		if _, err := r.ReadPush(alloc); err != nil {
			b.Fatal(err)
		}
	}
}
