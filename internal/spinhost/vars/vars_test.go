package vars

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redspin/redspin/internal/template"
)

// resolver renders templates from a map, counting calls; "broken" fails.
func resolver(values map[string]string, calls *atomic.Int32) Resolver {
	return func(_ context.Context, raw string) (string, error) {
		calls.Add(1)
		t, err := template.Parse(raw)
		if err != nil {
			return "", err
		}
		return t.Render(func(name string) (string, error) {
			if name == "broken" {
				return "", errors.New(`no provider resolved required variable "broken"`)
			}
			return values[name], nil
		})
	}
}

func TestGet(t *testing.T) {
	var calls atomic.Int32
	values := map[string]string{"who": "world"}
	c := New("greeter", map[string]string{
		"greeting": "Hello {{ who }}",
		"literal":  "plain",
		"bad":      "{{ broken }}",
		"unclosed": "{{ who",
	}, resolver(values, &calls))
	ctx := context.Background()

	if v, err := c.Get(ctx, "greeting"); err != nil || v != "Hello world" {
		t.Fatalf("Get = %q %v", v, err)
	}
	// Resolved on every call.
	values["who"] = "again"
	if v, _ := c.Get(ctx, "greeting"); v != "Hello again" {
		t.Fatalf("second Get = %q", v)
	}
	if calls.Load() != 2 {
		t.Fatalf("%d resolver calls, want 2", calls.Load())
	}

	tests := []struct {
		name string
		kind Kind
		msg  string
	}{
		{"undeclared", KindUndefined, `no variable for "greeter"."undeclared"`},
		{"Greeting", KindInvalidName, `"Greeting": invalid character 'G'. Variable names may contain only lower-case letters, numbers, and underscores.`},
		{"", KindInvalidName, `"": must not be empty`},
		{"1abc", KindInvalidName, `"1abc": must start with a lowercase ASCII letter`},
		{"abc_", KindInvalidName, `"abc_": must end with a lowercase ASCII letter or digit`},
		{"a__b", KindInvalidName, `"a__b": must not contain multiple consecutive underscores`},
		{"a-b", KindInvalidName, `"a-b": invalid character '-'.`},
		{"bad", KindProvider, `no provider resolved required variable "broken"`},
		{"unclosed", KindOther, "invalid variable template: unmatched '{{' in template"},
	}
	for _, tc := range tests {
		_, err := c.Get(ctx, tc.name)
		if KindOf(err) != tc.kind || !strings.Contains(MessageOf(err), tc.msg) {
			t.Errorf("Get(%q) = %v (%v), want %v %q", tc.name, err, KindOf(err), tc.kind, tc.msg)
		}
	}
	for _, ok := range []string{"a", "abc", "a1b2c3", "a_1", "a_1_b_3"} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("ValidateName(%q): %v", ok, err)
		}
	}
}

func TestWASIAndConfigMappings(t *testing.T) {
	var calls atomic.Int32
	c := New("c", map[string]string{"b": "2", "a": "{{ x }}", "bad": "{{ broken }}"}, resolver(map[string]string{"x": "1"}, &calls))
	ctx := context.Background()

	if v, ok, err := c.WASIGet(ctx, "a"); err != nil || !ok || v != "1" {
		t.Fatalf("WASIGet(a) = %q %v %v", v, ok, err)
	}
	for _, absent := range []string{"undeclared", "Not-Valid"} {
		if v, ok, err := c.WASIGet(ctx, absent); err != nil || ok || v != "" {
			t.Fatalf("WASIGet(%q) = %q %v %v, want none", absent, v, ok, err)
		}
	}
	_, _, err := c.WASIGet(ctx, "bad")
	if cs, msg := WASICase(err); cs != WASIUpstream || !strings.Contains(msg, "broken") {
		t.Fatalf("WASICase(provider) = %d %q", cs, msg)
	}
	if _, err := c.GetAll(ctx); err == nil {
		t.Fatal("GetAll with a failing variable succeeded")
	}

	good := New("c", map[string]string{"b": "2", "a": "{{ x }}"}, resolver(map[string]string{"x": "1"}, &calls))
	all, err := good.GetAll(ctx)
	if err != nil || !reflect.DeepEqual(all, [][2]string{{"a", "1"}, {"b", "2"}}) {
		t.Fatalf("GetAll = %v %v", all, err)
	}
	empty, err := New("none", nil, resolver(nil, &calls)).GetAll(ctx)
	if err != nil || len(empty) != 0 {
		t.Fatalf("GetAll(no variables) = %v %v", empty, err)
	}

	_, err = c.Get(ctx, "undeclared")
	if cs, msg := ConfigCase(err); cs != ConfigProvider || msg != `no variable for "c"."undeclared"` {
		t.Fatalf("ConfigCase(undefined) = %d %q", cs, msg)
	}
	_, err = c.Get(ctx, "X")
	if cs, _ := ConfigCase(err); cs != ConfigInvalidKey {
		t.Fatalf("ConfigCase(invalid) = %d", cs)
	}
	_, err = c.Get(ctx, "bad")
	if cs, msg := ConfigCase(err); cs != ConfigOther || !strings.HasPrefix(msg, "provider error: ") {
		t.Fatalf("ConfigCase(provider) = %d %q", cs, msg)
	}
	if cs, msg := WASICase(fmt.Errorf("disk")); cs != WASIIO || msg != "disk" {
		t.Fatalf("WASICase(other) = %d %q", cs, msg)
	}
}
