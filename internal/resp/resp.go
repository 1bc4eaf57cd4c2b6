// Package resp reads a Redis connection's replies in RESP2 with bounded
// sizes, for redspin's pub/sub subscription. Reply headers, statuses,
// errors and channel names come from the reader's own fixed buffer; a
// message's payload is read into a buffer the caller supplies (a pooled
// one), mostly straight from the connection, so a 64 KiB message costs no
// allocation and no copy besides the kernel's.
//
// Every length is checked before anything is allocated or read: a bulk
// string longer than [Options.MaxBulk], an array of more than [MaxArray]
// elements, a line longer than the buffer or an aggregate nested deeper
// than [MaxDepth] is an error wrapping [ErrProtocol], and the connection
// must then be closed. The package neither dials nor writes, except for
// [AppendCommand], which encodes a command.
package resp

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
)

// Kind is the type byte of a RESP2 reply.
type Kind byte

// The RESP2 reply types.
const (
	Status  Kind = '+' // a simple string: "+OK"
	Error   Kind = '-' // an error: "-WRONGPASS ..."
	Integer Kind = ':' // an integer: ":1"
	Bulk    Kind = '$' // a binary-safe string: "$5\r\nhello", or null ("$-1")
	Array   Kind = '*' // an array of replies, or null ("*-1")
)

const (
	// DefaultBufferSize is Options.BufferSize's default.
	DefaultBufferSize = 32 << 10
	// MinBufferSize is the smallest buffer NewReader uses.
	MinBufferSize = 512
	// DefaultMaxBulk is Options.MaxBulk's default: 512 MiB, Redis's default
	// proto-max-bulk-len, the largest value a default Redis stores.
	DefaultMaxBulk = 512 << 20
	// MaxArray is the largest array count accepted.
	MaxArray = 1 << 20
	// MaxDepth is the deepest nesting of arrays accepted.
	MaxDepth = 16
)

// ErrProtocol is wrapped by every error about a malformed or oversized
// reply; after one the connection is out of step and must be closed.
var ErrProtocol = errors.New("resp: protocol error")

// ServerError is an error reply: what Redis answered, such as
// "WRONGPASS invalid username-password pair or user is disabled.".
// Redis's error replies never quote a password given to AUTH.
type ServerError struct {
	// Msg is the reply's text, without the leading '-'.
	Msg string
}

func (e *ServerError) Error() string { return e.Msg }

// Code is the error's first word: "ERR", "NOAUTH", "WRONGPASS", "NOPERM".
func (e *ServerError) Code() string {
	code, _, _ := strings.Cut(e.Msg, " ")
	return code
}

// Options bound a Reader. The zero value is the defaults.
type Options struct {
	// BufferSize is the read buffer's size in bytes: the longest line
	// (status, error, header) and the longest channel name accepted.
	// 0 = DefaultBufferSize (32 KiB); at least MinBufferSize.
	BufferSize int
	// MaxBulk is the longest bulk string accepted, in bytes: a longer one is
	// an error before anything is allocated. 0 = DefaultMaxBulk (512 MiB).
	MaxBulk int
}

// Reader reads RESP2 replies from a connection. It is not safe for
// concurrent use; slices it returns into its buffer are valid until the
// next call.
type Reader struct {
	rd      *countingReader
	buf     []byte
	r, w    int // unread bytes are buf[r:w]
	maxBulk int
	channel []byte // the last channel name of ReadPush, copied out of buf
	// window is how many bytes fill asks for: the whole buffer, or
	// MinBufferSize after a bulk string large enough to be read straight
	// into its destination, so that the next header's read takes little
	// of the next payload into the buffer (to be copied out again).
	window int
}

// NewReader returns a Reader of rd.
func NewReader(rd io.Reader, o Options) *Reader {
	size := o.BufferSize
	if size == 0 {
		size = DefaultBufferSize
	}
	size = max(size, MinBufferSize)
	maxBulk := o.MaxBulk
	if maxBulk <= 0 {
		maxBulk = DefaultMaxBulk
	}
	return &Reader{rd: &countingReader{rd: rd}, buf: make([]byte, size), maxBulk: maxBulk, window: size}
}

// BytesRead is how many bytes the Reader has read from its connection so
// far, including the part of a bulk string still being read. Unlike the
// other methods it may be called concurrently: a health check uses it to
// tell a connection delivering a long payload from an idle one.
func (r *Reader) BytesRead() int64 { return r.rd.n.Load() }

// countingReader counts the bytes read through it.
type countingReader struct {
	rd io.Reader
	n  atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.rd.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Buffered is the number of bytes read from the connection and not yet
// consumed.
func (r *Reader) Buffered() int { return r.w - r.r }

// fill reads more bytes into the buffer, moving the unread ones to its
// start first. It returns io.EOF only when the connection ended with
// nothing unread.
func (r *Reader) fill() error {
	if r.r > 0 {
		r.w = copy(r.buf, r.buf[r.r:r.w])
		r.r = 0
	}
	end := min(len(r.buf), r.w+r.window)
	for range 100 {
		n, err := r.rd.Read(r.buf[r.w:end])
		r.w += n
		if n > 0 {
			return nil
		}
		if err != nil {
			if err == io.EOF && r.w > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return io.ErrNoProgress
}

// line returns the next line without its CRLF.
func (r *Reader) line() ([]byte, error) {
	off := 0 // bytes after r.r already searched for '\n'
	for {
		for i := r.r + off; i < r.w; i++ {
			if r.buf[i] != '\n' {
				continue
			}
			if i == r.r || r.buf[i-1] != '\r' {
				return nil, fmt.Errorf("%w: line not terminated by CRLF", ErrProtocol)
			}
			l := r.buf[r.r : i-1]
			r.r = i + 1
			return l, nil
		}
		if r.w-r.r == len(r.buf) {
			return nil, fmt.Errorf("%w: line longer than the %d-byte buffer", ErrProtocol, len(r.buf))
		}
		off = r.w - r.r
		if err := r.fill(); err != nil {
			if off > 0 {
				return nil, unexpected(err)
			}
			return nil, err
		}
	}
}

// parseInt parses a decimal integer strictly: an optional '-' and 1 to 19
// digits, without overflow.
func parseInt(b []byte) (int64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	if n > 1<<63-1 {
		return 0, false
	}
	if neg {
		return -int64(n), true
	}
	return int64(n), true
}

// Header is a reply's first line.
type Header struct {
	Kind Kind
	// N is the value (Integer), the length (Bulk) or the element count
	// (Array); -1 for a null bulk string or array.
	N int64
	// Text is the line after the type byte (Status, Error); it points into
	// the reader's buffer, valid until the next call.
	Text []byte
}

// ReadHeader reads the first line of the next reply. After a Bulk header
// with N ≥ 0 the caller reads the string with ReadBulk or Skip; after an
// Array header, N replies follow (or Skip skips them).
func (r *Reader) ReadHeader() (Header, error) {
	l, err := r.line()
	if err != nil {
		return Header{}, err
	}
	if len(l) == 0 {
		return Header{}, fmt.Errorf("%w: empty line", ErrProtocol)
	}
	h := Header{Kind: Kind(l[0])}
	rest := l[1:]
	switch h.Kind {
	case Status, Error:
		h.Text = rest
		return h, nil
	case Integer, Bulk, Array:
	default:
		return Header{}, fmt.Errorf("%w: unknown reply type %s (RESP2 has + - : $ *)", ErrProtocol, strconv.QuoteRune(rune(l[0])))
	}
	n, ok := parseInt(rest)
	if !ok {
		return Header{}, fmt.Errorf("%w: bad number %.32q after %q", ErrProtocol, rest, l[0])
	}
	h.N = n
	switch {
	case h.Kind == Integer:
	case n < -1:
		return Header{}, fmt.Errorf("%w: negative length %d", ErrProtocol, n)
	case h.Kind == Bulk && n > int64(r.maxBulk):
		return Header{}, fmt.Errorf("%w: bulk string of %d bytes exceeds the limit of %d bytes", ErrProtocol, n, r.maxBulk)
	case h.Kind == Array && n > MaxArray:
		return Header{}, fmt.Errorf("%w: array of %d elements exceeds the limit of %d", ErrProtocol, n, MaxArray)
	}
	return h, nil
}

// crlf consumes the CRLF that ends a bulk string.
func (r *Reader) crlf() error {
	for r.w-r.r < 2 {
		if err := r.fill(); err != nil {
			return unexpected(err)
		}
	}
	if r.buf[r.r] != '\r' || r.buf[r.r+1] != '\n' {
		return fmt.Errorf("%w: bulk string not terminated by CRLF", ErrProtocol)
	}
	r.r += 2
	return nil
}

// unexpected turns the end of the connection inside a reply into
// io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// ReadBulk reads the bulk string whose header ReadHeader just returned into
// dst, which must be exactly its length. What the buffer holds is copied;
// the rest, when it is more than half a buffer, is read straight into dst.
func (r *Reader) ReadBulk(dst []byte) error {
	r.window = len(r.buf)
	if len(dst) > len(r.buf)/2 {
		r.window = MinBufferSize
	}
	k := copy(dst, r.buf[r.r:r.w])
	r.r += k
	for k < len(dst) {
		if len(dst)-k > len(r.buf)/2 {
			n, err := io.ReadFull(r.rd, dst[k:])
			if err != nil {
				return unexpected(err)
			}
			k += n
			break
		}
		if err := r.fill(); err != nil {
			return unexpected(err)
		}
		n := copy(dst[k:], r.buf[r.r:r.w])
		r.r += n
		k += n
	}
	return r.crlf()
}

// small reads a bulk string of n bytes (at most the buffer's size minus 2)
// and returns it in the buffer, valid until the next call.
func (r *Reader) small(n int64) ([]byte, error) {
	if n+2 > int64(len(r.buf)) {
		return nil, fmt.Errorf("%w: a %d-byte string where at most %d were expected", ErrProtocol, n, len(r.buf)-2)
	}
	for int64(r.w-r.r) < n+2 {
		if err := r.fill(); err != nil {
			return nil, unexpected(err)
		}
	}
	s := r.buf[r.r : r.r+int(n)]
	r.r += int(n)
	return s, r.crlf()
}

// Skip consumes the rest of the reply whose header h ReadHeader returned:
// a bulk string's bytes, an array's elements (to MaxDepth levels).
func (r *Reader) Skip(h Header) error { return r.skip(h, 0) }

func (r *Reader) skip(h Header, depth int) error {
	switch {
	case h.Kind == Bulk && h.N >= 0:
		for left := h.N; left > 0; {
			if r.w == r.r {
				if err := r.fill(); err != nil {
					return unexpected(err)
				}
			}
			n := min(left, int64(r.w-r.r))
			r.r += int(n)
			left -= n
		}
		return r.crlf()
	case h.Kind == Array && h.N > 0:
		if depth >= MaxDepth {
			return fmt.Errorf("%w: arrays nested deeper than %d levels", ErrProtocol, MaxDepth)
		}
		for range h.N {
			e, err := r.ReadHeader()
			if err != nil {
				return unexpected(err)
			}
			if err := r.skip(e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// ReadStatus reads one reply and returns nil for a status ("+OK"), a
// *ServerError for an error reply, and an error naming the type for any
// other reply (which it consumes).
func (r *Reader) ReadStatus() error {
	h, err := r.ReadHeader()
	if err != nil {
		return err
	}
	switch h.Kind {
	case Status:
		return nil
	case Error:
		return &ServerError{Msg: string(h.Text)}
	}
	if err := r.Skip(h); err != nil {
		return err
	}
	return fmt.Errorf("%w: want a status reply, got %s", ErrProtocol, kindName(h.Kind))
}

// kindName names a reply type for errors.
func kindName(k Kind) string {
	switch k {
	case Status:
		return "a status"
	case Error:
		return "an error"
	case Integer:
		return "an integer"
	case Bulk:
		return "a bulk string"
	}
	return "an array"
}

// AppendCommand appends the command args in RESP's array-of-bulk-strings
// form to dst.
func AppendCommand(dst []byte, args ...string) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, "\r\n"...)
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, "\r\n"...)
		dst = append(dst, a...)
		dst = append(dst, "\r\n"...)
	}
	return dst
}
