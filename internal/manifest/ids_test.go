package manifest

import (
	"strings"
	"testing"
)

func TestComponentID(t *testing.T) {
	tests := []struct {
		id, want string // want "" = valid
	}{
		{"hello", ""},
		{"hello-world", ""},
		{"a1-b2", ""},
		{"HELLO-world", ""},
		{"my_comp", "words must be separated with '-', not '_'"},
		{"", "empty"},
		{"a--b", "'-'-separated words must not be empty"},
		{"-a", "'-'-separated words must not be empty"},
		{"1-2-3", "'-'-separated words must start with an ASCII letter; got '1'"},
		{"mixedCase", `'-'-separated words must be all lowercase or all UPPERCASE; got "mixedCase"`},
		{"a.b", "'-'-separated words may only contain alphanumeric ASCII; got '.'"},
		{"é", "'-'-separated words must start with an ASCII letter; got 'é'"},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			err := checkComponentID(tc.id)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("checkComponentID(%q) = %v, want nil", tc.id, err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("checkComponentID(%q) = %v, want %q", tc.id, err, tc.want)
			}
		})
	}
}

func TestVariableName(t *testing.T) {
	tests := []struct{ name, want string }{
		{"api_key", ""},
		{"a1", ""},
		{"a-b", "words must be separated with '_', not '-'"},
		{"a__b", "'_'-separated words must not be empty"},
		{"API_KEY", `Lower-case identifiers must be all lowercase; got "API_KEY"`},
		{"1a", "'_'-separated words must start with an ASCII letter; got '1'"},
		{"a_", "'_'-separated words must not be empty"},
		{"bad+name", "'_'-separated words may only contain alphanumeric ASCII; got '+'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkVariableName(tc.name)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("checkVariableName(%q) = %v, want %q", tc.name, err, tc.want)
			}
		})
	}
}

func TestKey(t *testing.T) {
	tests := []struct{ key, want string }{
		{"ok_1", ""},
		{"", "must not be empty"},
		{"Up", "invalid character 'U'"},
		{"_a", "must start with a lowercase ASCII letter"},
		{"a_", "must end with a lowercase ASCII letter or digit"},
		{"a__b", "must not contain multiple consecutive underscores"},
	}
	for _, tc := range tests {
		err := checkKey(tc.key)
		if tc.want == "" != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("checkKey(%q) = %v, want %q", tc.key, err, tc.want)
		}
	}
}

func TestFixV1ComponentID(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"hello", "hello", ""},
		{"snake_case", "snake-case", ""},
		{"mixedCase", "mixedcase", ""},
		{"Mixed_Case_ID", "mixed-case-id", ""},
		{"HELLO", "HELLO", ""},
		{"1abc", "1abc", "must start with an ASCII letter"},
	}
	for _, tc := range tests {
		got, err := fixV1ComponentID(tc.in)
		if got != tc.want || (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("fixV1ComponentID(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestLabel(t *testing.T) {
	for _, ok := range []string{"default", "my-store", "my_store", "STORE"} {
		if err := checkLabel(ok); err != nil {
			t.Errorf("checkLabel(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "my store", "a-b_c", "1x"} {
		if err := checkLabel(bad); err == nil {
			t.Errorf("checkLabel(%q) = nil, want error", bad)
		}
	}
}
