package vars

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/redspin/redspin/internal/spinhost/hosterr"
	"github.com/redspin/redspin/internal/template"
)

// Resolver renders a component variable's template with the app's
// variables, asking the providers on every call.
type Resolver func(ctx context.Context, template string) (string, error)

// Kind is the case of fermyon:spin/variables@2.0.0's error variant, in WIT
// order.
type Kind uint8

// Error kinds.
const (
	KindInvalidName Kind = iota
	KindUndefined
	KindProvider
	KindOther
)

func (k Kind) String() string {
	switch k {
	case KindInvalidName:
		return "invalid-name"
	case KindUndefined:
		return "undefined"
	case KindProvider:
		return "provider"
	}
	return "other"
}

// Error is a variables error; Message is the case's payload.
type Error struct {
	Kind    Kind
	Message string
	Err     error
}

func (e *Error) Error() string { return "variables: " + e.Kind.String() + ": " + e.Message }

func (e *Error) Unwrap() error { return e.Err }

// HostErrorKind is e's Kind (see package hosterr).
func (e *Error) HostErrorKind() Kind { return e.Kind }

// HostErrorMessage is e's Message (see package hosterr).
func (e *Error) HostErrorMessage() string { return e.Message }

// KindOf returns the Kind of the first *Error in err's chain, or KindOther.
func KindOf(err error) Kind { return hosterr.KindOf(err, KindOther) }

// MessageOf returns the payload for err's string case: the *Error's
// Message, or err's text.
func MessageOf(err error) string { return hosterr.MessageOf[Kind](err) }

// Component is one component's variables: immutable and safe for
// concurrent use, shared by all its instances.
type Component struct {
	id        string
	templates map[string]string
	resolve   Resolver
}

// New returns the variables of component id: variables maps each key of
// [component.<id>.variables] to its template.
func New(id string, variables map[string]string, resolve Resolver) *Component {
	t := make(map[string]string, len(variables))
	for k, v := range variables {
		t[k] = v
	}
	return &Component{id: id, templates: t, resolve: resolve}
}

// Get returns the value of variable name (variables@2.0.0 get).
func (c *Component) Get(ctx context.Context, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	t, ok := c.templates[name]
	if !ok {
		return "", &Error{Kind: KindUndefined, Message: fmt.Sprintf("no variable for %q.%q", c.id, name)}
	}
	return c.render(ctx, t)
}

func (c *Component) render(ctx context.Context, t string) (string, error) {
	v, err := c.resolve(ctx, t)
	if err == nil {
		return v, nil
	}
	var e *Error
	if errors.As(err, &e) {
		return "", err
	}
	if errors.Is(err, template.ErrUnmatched) {
		return "", &Error{Kind: KindOther, Message: "invalid variable template: " + err.Error(), Err: err}
	}
	return "", &Error{Kind: KindProvider, Message: err.Error(), Err: err}
}

// GetAll resolves every variable of the component, sorted by key
// (wasi:config/store get-all).
func (c *Component) GetAll(ctx context.Context) ([][2]string, error) {
	keys := make([]string, 0, len(c.templates))
	for k := range c.templates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([][2]string, 0, len(keys))
	for _, k := range keys {
		v, err := c.render(ctx, c.templates[k])
		if err != nil {
			return nil, err
		}
		out = append(out, [2]string{k, v})
	}
	return out, nil
}

// WASIGet is wasi:config/store get: undefined and invalid names are absent
// (ok false, nil error); other errors map with [WASICase].
func (c *Component) WASIGet(ctx context.Context, key string) (value string, ok bool, err error) {
	v, err := c.Get(ctx, key)
	switch KindOf(err) {
	case KindUndefined, KindInvalidName:
		if err != nil {
			return "", false, nil
		}
	}
	if err != nil {
		return "", false, err
	}
	return v, true, nil
}

// ValidateName checks a variable name by Spin's rules and returns an
// invalid-name *Error with Spin's text when it breaks them.
func ValidateName(name string) error {
	var reason string
	switch {
	case name == "":
		reason = "must not be empty"
	default:
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
				reason = fmt.Sprintf("invalid character %q. Variable names may contain only lower-case letters, numbers, and underscores.", r)
				break
			}
		}
		if reason != "" {
			break
		}
		if c := name[0]; c < 'a' || c > 'z' {
			reason = "must start with a lowercase ASCII letter"
		} else if c := name[len(name)-1]; c == '_' {
			reason = "must end with a lowercase ASCII letter or digit"
		} else if containsDoubleUnderscore(name) {
			reason = "must not contain multiple consecutive underscores"
		}
	}
	if reason == "" {
		return nil
	}
	return &Error{Kind: KindInvalidName, Message: fmt.Sprintf("%q: %s", name, reason)}
}

func containsDoubleUnderscore(s string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == '_' && s[i-1] == '_' {
			return true
		}
	}
	return false
}

// Cases of the unversioned fermyon:spin/config error variant, in WIT order.
const (
	ConfigProvider uint8 = iota
	ConfigInvalidKey
	ConfigInvalidSchema
	ConfigOther
)

// ConfigCase maps err to the unversioned config error variant as Spin
// does: invalid-name → invalid-key, undefined → provider, provider and
// other → other with the full error text.
func ConfigCase(err error) (uint8, string) {
	switch KindOf(err) {
	case KindInvalidName:
		return ConfigInvalidKey, MessageOf(err)
	case KindUndefined:
		return ConfigProvider, MessageOf(err)
	}
	return ConfigOther, spinText(err)
}

// spinText is the error's text as Spin formats a variables error.
func spinText(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	switch e.Kind {
	case KindProvider:
		return "provider error: " + e.Message
	case KindInvalidName:
		return "invalid variable name: " + e.Message
	case KindUndefined:
		return "undefined variable: " + e.Message
	}
	return e.Message
}

// Cases of wasi:config/store's error variant, in WIT order.
const (
	WASIUpstream uint8 = iota
	WASIIO
)

// WASICase maps an error from [Component.WASIGet] or [Component.GetAll] to
// wasi:config's variant: provider → upstream, anything else → io.
func WASICase(err error) (uint8, string) {
	if KindOf(err) == KindProvider {
		return WASIUpstream, MessageOf(err)
	}
	return WASIIO, MessageOf(err)
}
