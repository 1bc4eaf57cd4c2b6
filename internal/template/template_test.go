package template

import (
	"errors"
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		vars    []string
		out     string
		literal bool
		err     error
	}{
		{in: "", out: "", literal: true},
		{in: "{{}}", vars: []string{""}, out: ""},
		{in: "plain", out: "plain", literal: true},
		{in: "{{ a }}", vars: []string{"a"}, out: "A"},
		{in: "{{a}}", vars: []string{"a"}, out: "A"},
		{in: "{{  a  }}", vars: []string{"a"}, out: "A"},
		{in: "redis://{{ host }}:{{port}}/x", vars: []string{"host", "port"}, out: "redis://HOST:PORT/x"},
		{in: "{{ a }}{{ a }}", vars: []string{"a"}, out: "AA"},
		{in: "a}}b", out: "a}}b", literal: true},
		{in: "x {{ a", err: ErrUnmatched},
		{in: "{{", err: ErrUnmatched},
		{in: "{{ a }} {{", err: ErrUnmatched},
	}
	upper := func(n string) (string, error) {
		b := []byte(n)
		for i := range b {
			b[i] -= 'a' - 'A'
		}
		return string(b), nil
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			tpl, err := Parse(tc.in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("Parse(%q) error = %v, want %v", tc.in, err, tc.err)
			}
			if err != nil {
				if err.Error() != "unmatched '{{' in template" {
					t.Fatalf("error text %q", err)
				}
				return
			}
			if got := tpl.Vars(); !reflect.DeepEqual(got, tc.vars) {
				t.Errorf("Vars() = %q, want %q", got, tc.vars)
			}
			if tpl.IsLiteral() != tc.literal {
				t.Errorf("IsLiteral() = %v", tpl.IsLiteral())
			}
			got, err := tpl.Render(upper)
			if err != nil || got != tc.out {
				t.Errorf("Render() = %q, %v; want %q", got, err, tc.out)
			}
			if tpl.String() != tc.in {
				t.Errorf("String() = %q", tpl.String())
			}
		})
	}
}

func TestRenderError(t *testing.T) {
	tpl := MustParse("a{{ missing }}")
	boom := errors.New("boom")
	_, err := tpl.Render(func(string) (string, error) { return "", boom })
	if !errors.Is(err, boom) || err.Error() != `variable "missing": boom` {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "{{ a }}", "{{", "}}{{x}}", "a{{b}}c{{ d }}", "{{{{}}}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tpl, err := Parse(s)
		if err != nil {
			return
		}
		out, err := tpl.Render(func(n string) (string, error) { return "{{" + n + "}}", nil })
		if err != nil {
			t.Fatal(err)
		}
		_ = out
		if tpl.String() != s {
			t.Fatal("String() changed")
		}
	})
}
