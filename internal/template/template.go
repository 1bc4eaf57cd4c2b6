// Package template parses and renders the `{{ name }}` expressions that Spin
// manifests allow in trigger addresses and channels, allowed outbound hosts
// and component variables.
//
// The syntax is Spin's, and nothing more: `{{` opens an expression that runs
// to the next `}}`; the text between them is trimmed and must be a bare
// variable name; a `}}` outside an expression is literal text; there is no
// escape syntax, no filters and no defaults. An unmatched `{{` is an error.
package template

import (
	"errors"
	"strings"

	"github.com/redspin/redspin/internal/diag"
)

// ErrUnmatched is returned by [Parse] for a `{{` that has no closing `}}`.
// Its text is Spin's.
var ErrUnmatched = errors.New("unmatched '{{' in template")

// Part is one piece of a parsed template: literal text, or a variable
// reference when Var is set.
type Part struct {
	// Literal is the text of a literal part.
	Literal string
	// Var is the trimmed variable name of an expression part (it may be empty
	// for `{{ }}`, which callers reject as an invalid name).
	Var string
	// IsVar reports whether this part is an expression.
	IsVar bool
}

// Template is a parsed template string. The zero value renders to "".
type Template struct {
	raw   string
	parts []Part
}

// Parse splits s into literal and expression parts.
//
// # Errors
//
// [ErrUnmatched] when a `{{` is not closed. The names inside expressions are
// not validated here: callers check them against the declared variables.
func Parse(s string) (Template, error) {
	t := Template{raw: s}
	rest := s
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if rest != "" {
				t.parts = append(t.parts, Part{Literal: rest})
			}
			return t, nil
		}
		if open > 0 {
			t.parts = append(t.parts, Part{Literal: rest[:open]})
		}
		rest = rest[open+2:]
		end := strings.Index(rest, "}}")
		if end < 0 {
			return Template{}, ErrUnmatched
		}
		t.parts = append(t.parts, Part{Var: strings.TrimSpace(rest[:end]), IsVar: true})
		rest = rest[end+2:]
	}
}

// MustParse is [Parse] for literals known to be valid; it panics on error.
func MustParse(s string) Template {
	t, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return t
}

// String returns the source text of the template.
func (t Template) String() string { return t.raw }

// Parts returns the parsed parts in order.
func (t Template) Parts() []Part { return t.parts }

// IsLiteral reports whether the template has no expressions.
func (t Template) IsLiteral() bool {
	for _, p := range t.parts {
		if p.IsVar {
			return false
		}
	}
	return true
}

// Vars returns the variable names the template references, in order of first
// appearance, without duplicates.
func (t Template) Vars() []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range t.parts {
		if p.IsVar && !seen[p.Var] {
			seen[p.Var] = true
			out = append(out, p.Var)
		}
	}
	return out
}

// Render substitutes every expression with the value lookup returns for its
// name. The first lookup error is returned, wrapped with the variable name.
func (t Template) Render(lookup func(name string) (string, error)) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		if !p.IsVar {
			b.WriteString(p.Literal)
			continue
		}
		v, err := lookup(p.Var)
		if err != nil {
			return "", diag.Errorf("variable %q: %w", p.Var, err)
		}
		b.WriteString(v)
	}
	return b.String(), nil
}

// Text is a rendered template: the value, the template it was rendered from
// and whether a secret variable went into it. A secret Text is secret as a
// whole, whichever part the secret supplied: output, logs and errors show its
// Source (`{{ tok }}`), never its Value. The zero value is an empty,
// non-secret text.
type Text struct {
	// Value is the rendered string; it is never shown when Secret is set.
	Value string
	// Source is the template as written in the manifest.
	Source string
	// Secret reports that a variable declared `secret = true` was used.
	Secret bool
}

// Shown returns what output shows for t: Value, or Source when t is secret.
func (t Text) Shown() string {
	if t.Secret {
		return t.Source
	}
	return t.Value
}

// Quote returns [Text.Shown] quoted for a message, through [diag.Quote].
func (t Text) Quote() string { return diag.Quote(t.Shown()) }
