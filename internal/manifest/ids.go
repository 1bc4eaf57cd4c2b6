package manifest

import (
	"fmt"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// checkID applies Spin's identifier rules: one or more non-empty words
// separated by delim, each starting with an ASCII letter, alphanumeric, and
// all lowercase or all UPPERCASE (only lowercase when lower is set). The
// returned text is Spin's.
func checkID(id string, delim rune, lower bool) error {
	if id == "" {
		return fmt.Errorf("empty")
	}
	wrong := '_'
	if delim == '_' {
		wrong = '-'
	}
	if strings.ContainsRune(id, wrong) {
		return fmt.Errorf("words must be separated with %s, not %s", quoteRune(delim), quoteRune(wrong))
	}
	for word := range strings.SplitSeq(id, string(delim)) {
		if word == "" {
			return fmt.Errorf("%s-separated words must not be empty", quoteRune(delim))
		}
		first := rune(word[0])
		if !isASCIILetter(first) {
			r := []rune(word)[0]
			return fmt.Errorf("%s-separated words must start with an ASCII letter; got %s", quoteRune(delim), quoteRune(r))
		}
		upper := first >= 'A' && first <= 'Z'
		for _, ch := range word[1:] {
			switch {
			case ch >= '0' && ch <= '9':
			case !isASCIILetter(ch):
				return fmt.Errorf("%s-separated words may only contain alphanumeric ASCII; got %s", quoteRune(delim), quoteRune(ch))
			case (ch >= 'A' && ch <= 'Z') != upper:
				return diag.Errorf("%s-separated words must be all lowercase or all UPPERCASE; got %q", quoteRune(delim), word)
			}
		}
		if lower && upper {
			return diag.Errorf("Lower-case identifiers must be all lowercase; got %q", id)
		}
	}
	return nil
}

func isASCIILetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }

// quoteRune renders a rune as Rust's {:?} does for chars: '-'.
func quoteRune(r rune) string {
	switch r {
	case '\'':
		return `'\''`
	case '\\':
		return `'\\'`
	case '\n':
		return `'\n'`
	case '\t':
		return `'\t'`
	}
	return "'" + string(r) + "'"
}

// checkComponentID validates a component ID (Spin's KebabId).
func checkComponentID(id string) error { return checkID(id, '-', false) }

// checkVariableName validates an application or component variable name:
// Spin's LowerSnakeId plus the rules of its variable Key (no `__`, must end
// with a letter or digit).
func checkVariableName(name string) error {
	if err := checkID(name, '_', true); err != nil {
		return err
	}
	return checkKey(name)
}

// checkKey is Spin's variable Key validation, used for names inside
// `{{ }}` templates. Its text is Spin's.
func checkKey(key string) error {
	var reason string
	switch {
	case key == "":
		reason = "must not be empty"
	default:
		for _, c := range key {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
				reason = fmt.Sprintf("invalid character %s. Variable names may contain only lower-case letters, numbers, and underscores.", quoteRune(c))
				break
			}
		}
		if reason != "" {
			break
		}
		last := key[len(key)-1]
		switch {
		case key[0] < 'a' || key[0] > 'z':
			reason = "must start with a lowercase ASCII letter"
		case !(last >= 'a' && last <= 'z' || last >= '0' && last <= '9'):
			reason = "must end with a lowercase ASCII letter or digit"
		case strings.Contains(key, "__"):
			reason = "must not contain multiple consecutive underscores"
		}
	}
	if reason == "" {
		return nil
	}
	return diag.Errorf("invalid variable name: %q: %s", key, reason)
}

// checkLabel validates a key_value_stores or sqlite_databases label, which
// Spin accepts in kebab-case or snake_case.
func checkLabel(label string) error {
	if checkID(label, '-', false) == nil || checkID(label, '_', false) == nil {
		return nil
	}
	return diag.Errorf("invalid label %q: expected kebab-case or snake_case", label)
}

// fixV1ComponentID is Spin's V1 compatibility fix: a V1 ID that is not valid
// kebab-case has `_` replaced with `-` and is lower-cased.
func fixV1ComponentID(id string) (string, error) {
	if checkComponentID(id) == nil {
		return id, nil
	}
	fixed := strings.ToLower(strings.ReplaceAll(id, "_", "-"))
	if err := checkComponentID(fixed); err != nil {
		return fixed, err
	}
	return fixed, nil
}
