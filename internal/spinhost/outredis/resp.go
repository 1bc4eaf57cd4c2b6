package outredis

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// RESP2 and RESP3 type bytes.
const (
	respSimple    = '+'
	respError     = '-'
	respInt       = ':'
	respBulk      = '$'
	respArray     = '*'
	respNull      = '_'
	respDouble    = ','
	respBool      = '#'
	respBlobError = '!'
	respVerbatim  = '='
	respBigNumber = '('
	respMap       = '%'
	respSet       = '~'
	respAttribute = '|'
	respPush      = '>'
)

// value is one reply as read from the wire, keeping the RESP type so that
// execute can tell a status from a bulk string.
//
// A nil bulk string or nil array (RESP2) is read as respNull. For
// respAttribute, elems holds the attribute map's keys and values followed by
// the value the attribute annotates.
type value struct {
	typ   byte
	str   []byte // simple, bulk, error, blob error, verbatim (with "fmt:"), double, big number
	num   int64  // int; bool as 0/1
	elems []value
}

// errProtocol marks replies that are not valid RESP; the connection is
// unusable afterwards.
var errProtocol = errors.New("redis protocol error")

const maxDepth = 512 // nesting limit for aggregates

// reader reads RESP values, counting the bytes it keeps against a budget.
type reader struct {
	br *bufio.Reader
	// limit is the number of payload bytes one reply may hold (0 = no limit).
	limit int
	used  int
	over  bool // the reply exceeded limit; the rest is read and discarded
}

// read reads one complete reply. When the reply is larger than the limit,
// the whole reply is still consumed (so the connection stays in step) and
// errTooLarge is returned.
func (r *reader) read() (value, error) {
	r.used, r.over = 0, false
	v, err := r.value(0)
	if err != nil {
		return value{}, err
	}
	if r.over {
		return value{}, &tooLargeError{limit: r.limit}
	}
	return v, nil
}

type tooLargeError struct{ limit int }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("query result exceeds limit of %d bytes", e.limit)
}

func (r *reader) charge(n int) bool {
	r.used += n
	if r.limit > 0 && r.used > r.limit {
		r.over = true
	}
	return !r.over
}

// line reads one CRLF-terminated line. A line longer than the limit is
// read to its end but returned truncated, with r.over set.
func (r *reader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// Lines longer than the buffer (long simple strings): accumulate.
		buf := append([]byte(nil), line...)
		for err == bufio.ErrBufferFull {
			line, err = r.br.ReadSlice('\n')
			if len(buf) <= r.limit+2 {
				buf = append(buf, line...)
			} else {
				r.over = true
				buf = append(buf[:r.limit], line[max(0, len(line)-2):]...)
			}
		}
		line = buf
	}
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("%w: line not terminated by CRLF", errProtocol)
	}
	return line[:len(line)-2], nil
}

func parseInt(b []byte) (int64, error) {
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%w: bad integer %q", errProtocol, b)
	}
	return n, nil
}

func (r *reader) value(depth int) (value, error) {
	if depth > maxDepth {
		return value{}, fmt.Errorf("%w: reply nested deeper than %d levels", errProtocol, maxDepth)
	}
	line, err := r.line()
	if err != nil {
		return value{}, err
	}
	if len(line) == 0 {
		return value{}, fmt.Errorf("%w: empty line", errProtocol)
	}
	typ, rest := line[0], line[1:]
	switch typ {
	case respSimple, respError, respDouble, respBigNumber:
		v := value{typ: typ}
		if r.charge(len(rest)) {
			v.str = append([]byte(nil), rest...)
		}
		return v, nil
	case respInt:
		n, err := parseInt(rest)
		return value{typ: typ, num: n}, err
	case respNull:
		return value{typ: respNull}, nil
	case respBool:
		switch string(rest) {
		case "t":
			return value{typ: typ, num: 1}, nil
		case "f":
			return value{typ: typ, num: 0}, nil
		}
		return value{}, fmt.Errorf("%w: bad boolean %q", errProtocol, rest)
	case respBulk, respBlobError, respVerbatim:
		n, err := parseInt(rest)
		if err != nil {
			return value{}, err
		}
		if n < 0 {
			if typ == respBulk {
				return value{typ: respNull}, nil
			}
			return value{}, fmt.Errorf("%w: negative length", errProtocol)
		}
		v := value{typ: typ}
		if r.charge(int(n)) {
			v.str = make([]byte, n)
			if _, err := io.ReadFull(r.br, v.str); err != nil {
				return value{}, unexpectedEOF(err)
			}
		} else if _, err := r.br.Discard(int(n)); err != nil {
			return value{}, unexpectedEOF(err)
		}
		crlf, err := r.br.Peek(2)
		if err != nil {
			return value{}, unexpectedEOF(err)
		}
		if crlf[0] != '\r' || crlf[1] != '\n' {
			return value{}, fmt.Errorf("%w: bulk string not terminated by CRLF", errProtocol)
		}
		_, _ = r.br.Discard(2)
		return v, nil
	case respArray, respSet, respPush, respMap, respAttribute:
		n, err := parseInt(rest)
		if err != nil {
			return value{}, err
		}
		if n < 0 {
			if typ == respArray {
				return value{typ: respNull}, nil
			}
			return value{}, fmt.Errorf("%w: negative length", errProtocol)
		}
		if typ == respMap || typ == respAttribute {
			n *= 2
		}
		v := value{typ: typ}
		if !r.over && n <= 1<<20 {
			v.elems = make([]value, 0, n)
		}
		for range n {
			e, err := r.value(depth + 1)
			if err != nil {
				return value{}, err
			}
			// Each element costs at least its header, so huge aggregates of
			// empty elements are bounded too.
			if r.charge(16) {
				v.elems = append(v.elems, e)
			}
		}
		if typ == respAttribute {
			// The attribute annotates the reply that follows it.
			e, err := r.value(depth + 1)
			if err != nil {
				return value{}, err
			}
			v.elems = append(v.elems, e)
		}
		return v, nil
	}
	return value{}, fmt.Errorf("%w: unknown reply type %q", errProtocol, typ)
}

func unexpectedEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// appendCommand appends a command in RESP array-of-bulk-strings form.
func appendCommand(buf []byte, args [][]byte) []byte {
	buf = append(buf, respArray)
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, a := range args {
		buf = append(buf, respBulk)
		buf = strconv.AppendInt(buf, int64(len(a)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, a...)
		buf = append(buf, '\r', '\n')
	}
	return buf
}

// typeName names a RESP type for error messages.
func typeName(typ byte) string {
	switch typ {
	case respSimple:
		return "status"
	case respError, respBlobError:
		return "error"
	case respInt:
		return "integer"
	case respBulk:
		return "bulk string"
	case respArray:
		return "array"
	case respNull:
		return "nil"
	case respDouble:
		return "double"
	case respBool:
		return "boolean"
	case respVerbatim:
		return "verbatim string"
	case respBigNumber:
		return "big number"
	case respMap:
		return "map"
	case respSet:
		return "set"
	case respAttribute:
		return "attribute"
	case respPush:
		return "push"
	}
	return fmt.Sprintf("type %q", typ)
}
