package outredis

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func readAll(t *testing.T, wire string, limit int) ([]value, []error) {
	t.Helper()
	r := reader{br: bufio.NewReaderSize(strings.NewReader(wire), 16), limit: limit}
	var vals []value
	var errs []error
	for range 10 {
		if _, err := r.br.Peek(1); err != nil {
			break
		}
		v, err := r.read()
		vals = append(vals, v)
		errs = append(errs, err)
		if err != nil && !isTooLarge(err) {
			break
		}
	}
	return vals, errs
}

func isTooLarge(err error) bool {
	var tl *tooLargeError
	return errors.As(err, &tl)
}

func TestExecuteMapping(t *testing.T) {
	tests := []struct {
		name string
		wire string
		want []Result
		err  string
	}{
		{"nil bulk", "$-1\r\n", []Result{{Kind: ResultNil}}, ""},
		{"nil array", "*-1\r\n", []Result{{Kind: ResultNil}}, ""},
		{"resp3 null", "_\r\n", []Result{{Kind: ResultNil}}, ""},
		{"integer", ":-42\r\n", []Result{{Kind: ResultInt64, Int64: -42}}, ""},
		{"bulk", "$5\r\nhe\r\no\r\n", []Result{{Kind: ResultBinary, Binary: []byte("he\r\no")}}, ""},
		{"empty bulk", "$0\r\n\r\n", []Result{{Kind: ResultBinary, Binary: []byte{}}}, ""},
		{"status", "+OK\r\n", []Result{{Kind: ResultStatus, Status: "OK"}}, ""},
		{"empty array", "*0\r\n", nil, ""},
		{"nested arrays flatten", "*3\r\n:1\r\n*2\r\n$1\r\na\r\n*1\r\n+s\r\n$-1\r\n",
			[]Result{{Kind: ResultInt64, Int64: 1}, {Kind: ResultBinary, Binary: []byte("a")}, {Kind: ResultStatus, Status: "s"}, {Kind: ResultNil}}, ""},
		{"set flattens", "~2\r\n$1\r\nx\r\n$1\r\ny\r\n", []Result{{Kind: ResultBinary, Binary: []byte("x")}, {Kind: ResultBinary, Binary: []byte("y")}}, ""},
		{"double", ",3.50\r\n", []Result{{Kind: ResultBinary, Binary: []byte("3.5")}}, ""},
		{"double integral", ",1\r\n", []Result{{Kind: ResultBinary, Binary: []byte("1")}}, ""},
		{"double inf", ",inf\r\n", []Result{{Kind: ResultBinary, Binary: []byte("inf")}}, ""},
		{"double -inf", ",-inf\r\n", []Result{{Kind: ResultBinary, Binary: []byte("-inf")}}, ""},
		{"double nan", ",nan\r\n", []Result{{Kind: ResultBinary, Binary: []byte("NaN")}}, ""},
		{"double exponent", ",1e3\r\n", []Result{{Kind: ResultBinary, Binary: []byte("1000")}}, ""},
		{"true", "#t\r\n", []Result{{Kind: ResultInt64, Int64: 1}}, ""},
		{"false", "#f\r\n", []Result{{Kind: ResultInt64, Int64: 0}}, ""},
		{"big number", "(3492890328409238509324850943850943825024385\r\n",
			[]Result{{Kind: ResultBinary, Binary: []byte("3492890328409238509324850943850943825024385")}}, ""},
		{"map", "%1\r\n+a\r\n:1\r\n", nil, "map replies are not supported"},
		{"map inside array", "*2\r\n:1\r\n%0\r\n", nil, "map replies are not supported"},
		{"attribute", "|1\r\n+key\r\n+val\r\n:5\r\n", nil, "attribute replies are not supported"},
		{"verbatim", "=15\r\ntxt:Some string\r\n", nil, "verbatim string replies are not supported"},
		{"push", ">2\r\n+message\r\n+x\r\n", nil, "push) replies are not supported"},
		{"server error", "-ERR unknown command 'FOO'\r\n", nil, "ERR unknown command 'FOO'"},
		{"blob error", "!8\r\nSYNTAX x\r\n", nil, "SYNTAX x"},
		{"nested error", "*2\r\n+OK\r\n-WRONGTYPE Operation\r\n", nil, "WRONGTYPE Operation"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vals, errs := readAll(t, tc.wire, 1<<20)
			if len(vals) != 1 || errs[0] != nil {
				t.Fatalf("read %q: %v %v", tc.wire, vals, errs)
			}
			got, err := toResults(vals[0])
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				if KindOf(err) != KindOther {
					t.Fatalf("kind = %v, want other", KindOf(err))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestReaderLimitKeepsStreamInStep(t *testing.T) {
	big := strings.Repeat("x", 100)
	wire := "$100\r\n" + big + "\r\n" + // too large
		"*3\r\n$40\r\n" + big[:40] + "\r\n$40\r\n" + big[:40] + "\r\n:7\r\n" + // too large in total
		"+" + big + "\r\n" + // too large simple string
		"$10\r\n0123456789\r\n" // fits
	vals, errs := readAll(t, wire, 64)
	if len(vals) != 4 {
		t.Fatalf("read %d replies (%v), want 4", len(vals), errs)
	}
	for i := range 3 {
		if !isTooLarge(errs[i]) || !strings.Contains(errs[i].Error(), "query result exceeds limit of 64 bytes") {
			t.Fatalf("reply %d: err = %v, want too large", i, errs[i])
		}
	}
	if errs[3] != nil || string(vals[3].str) != "0123456789" {
		t.Fatalf("reply after the large ones: %q %v", vals[3].str, errs[3])
	}
}

func TestReaderProtocolErrors(t *testing.T) {
	for _, wire := range []string{
		"?what\r\n",
		":12x\r\n",
		"$3\r\nabcd\r\n",
		"$5\r\nab",
		"#x\r\n",
		"+no crlf\n",
		"\r\n",
		"%-1\r\n",
		strings.Repeat("*1\r\n", maxDepth+2) + ":1\r\n",
	} {
		_, errs := readAll(t, wire, 1<<20)
		if len(errs) == 0 || errs[0] == nil {
			t.Errorf("%q: no error", wire)
		}
	}
}

func TestAppendCommand(t *testing.T) {
	got := string(appendCommand(nil, [][]byte{[]byte("SET"), []byte("k"), {}}))
	want := "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n"
	if got != want {
		t.Fatalf("got %q want %q", got, want)
	}
	if p := IntParam(-5).bytes(); string(p) != "-5" {
		t.Fatalf("IntParam bytes %q", p)
	}
}
