package outredis

import (
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// ParamKind is the case of a redis-parameter.
type ParamKind uint8

// Cases of redis-parameter, in WIT order.
const (
	ParamInt64 ParamKind = iota
	ParamBinary
)

// Param is a redis-parameter: an int64 or binary argument to Execute.
type Param struct {
	Kind   ParamKind
	Int64  int64
	Binary []byte
}

// IntParam returns an int64 parameter.
func IntParam(n int64) Param { return Param{Kind: ParamInt64, Int64: n} }

// BinaryParam returns a binary parameter.
func BinaryParam(b []byte) Param { return Param{Kind: ParamBinary, Binary: b} }

func (p Param) bytes() []byte {
	if p.Kind == ParamInt64 {
		return strconv.AppendInt(nil, p.Int64, 10)
	}
	return p.Binary
}

// ResultKind is the case of a redis-result.
type ResultKind uint8

// Cases of redis-result, in WIT order.
const (
	ResultNil ResultKind = iota
	ResultStatus
	ResultInt64
	ResultBinary
)

// Result is a redis-result: nil, status(string), int64 or binary.
type Result struct {
	Kind   ResultKind
	Status string
	Int64  int64
	Binary []byte
}

// toResults maps a reply to Spin's flat list of redis-results:
//
//	nil → nil; integer → int64; bulk string → binary; simple string → status;
//	array and set → flattened recursively; double → binary(decimal text);
//	boolean → int64(0/1); big number → binary(decimal text);
//	map, attribute, verbatim string, push, error → error.
func toResults(v value) ([]Result, error) {
	var out []Result
	err := appendResults(&out, v)
	return out, err
}

func appendResults(out *[]Result, v value) error {
	switch v.typ {
	case respNull:
		*out = append(*out, Result{Kind: ResultNil})
	case respInt:
		*out = append(*out, Result{Kind: ResultInt64, Int64: v.num})
	case respBool:
		*out = append(*out, Result{Kind: ResultInt64, Int64: v.num})
	case respBulk:
		b := v.str
		if b == nil {
			b = []byte{}
		}
		*out = append(*out, Result{Kind: ResultBinary, Binary: b})
	case respSimple:
		*out = append(*out, Result{Kind: ResultStatus, Status: string(v.str)})
	case respDouble:
		*out = append(*out, Result{Kind: ResultBinary, Binary: []byte(formatDouble(v.str))})
	case respBigNumber:
		*out = append(*out, Result{Kind: ResultBinary, Binary: append([]byte(nil), v.str...)})
	case respArray, respSet:
		for _, e := range v.elems {
			if err := appendResults(out, e); err != nil {
				return err
			}
		}
	case respError, respBlobError:
		return serverError(v.str)
	case respMap:
		return unsupported("Redis map replies are not supported by execute (use RESP2, the default, or a command that returns an array)")
	case respAttribute:
		return unsupported("Redis attribute replies are not supported by execute")
	case respVerbatim:
		return unsupported("Redis verbatim string replies are not supported by execute")
	case respPush:
		return unsupported("Redis pub/sub (push) replies are not supported by execute")
	default:
		return unsupported("unsupported Redis reply type " + typeName(v.typ))
	}
	return nil
}

// formatDouble renders a RESP3 double as Spin does: the shortest decimal
// without an exponent, "inf", "-inf" or "NaN".
func formatDouble(text []byte) string {
	f, err := strconv.ParseFloat(string(text), 64)
	if err != nil {
		return string(text)
	}
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "NaN"
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Typed conversions for the fixed operations. A server error is returned as
// such; a reply of the wrong shape is a type-error.

func asInt(v value) (int64, error) {
	switch v.typ {
	case respInt, respBool:
		return v.num, nil
	case respError, respBlobError:
		return 0, serverError(v.str)
	}
	return 0, wrongReply("integer", v)
}

func asOptionalBytes(v value) ([]byte, bool, error) {
	switch v.typ {
	case respNull:
		return nil, false, nil
	case respBulk, respSimple, respVerbatim:
		b := v.str
		if b == nil {
			b = []byte{}
		}
		return b, true, nil
	case respError, respBlobError:
		return nil, false, serverError(v.str)
	}
	return nil, false, wrongReply("bulk string", v)
}

func asOK(v value) error {
	switch v.typ {
	case respError, respBlobError:
		return serverError(v.str)
	case respSimple:
		return nil
	}
	return wrongReply("status", v)
}

func asStrings(v value) ([]string, error) {
	switch v.typ {
	case respError, respBlobError:
		return nil, serverError(v.str)
	case respNull:
		return []string{}, nil
	case respArray, respSet:
	default:
		return nil, wrongReply("array", v)
	}
	out := make([]string, 0, len(v.elems))
	for _, e := range v.elems {
		switch e.typ {
		case respBulk, respSimple:
			if !utf8.Valid(e.str) {
				return nil, &Error{Kind: KindOther, Message: "set member is not valid UTF-8"}
			}
			out = append(out, string(e.str))
		default:
			return nil, wrongReply("array of strings", e)
		}
	}
	return out, nil
}

func wrongReply(want string, v value) error {
	return &Error{Kind: KindTypeError, Message: fmt.Sprintf("expected a %s reply, got %s", want, typeName(v.typ))}
}

func unsupported(msg string) error {
	return &Error{Kind: KindOther, Message: msg}
}
