package variables

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"strings"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/template"
)

// Variable is one application variable from the manifest's [variables].
type Variable struct {
	// Name is the variable name (lower snake case, see [ValidateName]).
	Name string
	// Default is the declared default; nil when there is none.
	Default *string
	// Required is set by `required = true`.
	Required bool
	// Secret is set by `secret = true`: the value is never logged.
	Secret bool
}

// Provider supplies variable values. Get returns ok = false when the
// provider has no value for key, so the next provider is asked; an error
// stops resolution.
type Provider interface {
	// Name describes the provider for errors and logs; it holds no secrets.
	Name() string
	// Get looks up key, a valid variable name.
	Get(ctx context.Context, key string) (value string, ok bool, err error)
}

// dynamicProvider is implemented by providers that can only be asked at run
// time (Vault): at startup they count as able to supply any variable.
type dynamicProvider interface{ dynamic() bool }

// Errors returned by [Resolver] methods; match them with errors.Is.
var (
	// ErrRequired: no provider resolved a required variable.
	ErrRequired = errors.New("no provider resolved required variable")
	// ErrUndeclared: a variable that is not declared and that no provider
	// supplies.
	ErrUndeclared = errors.New("undeclared variable")
)

// Resolver resolves declared variables through a provider chain. Build it
// with [NewResolver]; it is safe for concurrent use.
type Resolver struct {
	decls     map[string]Variable
	names     []string // sorted
	providers []Provider
}

// NewResolver returns a resolver for the declared variables, asking the
// providers in order (highest priority first, as [Chain] returns them).
// Names are expected to be valid already (the manifest checks them).
func NewResolver(decls []Variable, providers []Provider) *Resolver {
	r := &Resolver{decls: make(map[string]Variable, len(decls)), providers: providers}
	for _, d := range decls {
		r.decls[d.Name] = d
		r.names = append(r.names, d.Name)
	}
	sort.Strings(r.names)
	return r
}

// Declared reports whether name is declared in [variables].
func (r *Resolver) Declared(name string) bool {
	_, ok := r.decls[name]
	return ok
}

// IsSecret reports whether name is declared with secret = true.
func (r *Resolver) IsSecret(name string) bool { return r.decls[name].Secret }

// Resolve returns the value of a variable: from the first provider that has
// one, else from its declared default. Like Spin, providers are asked even
// for a name that is not declared (trigger addresses and channels may use
// one).
//
// # Errors
//
//   - [ErrInvalidName] for a name that breaks Spin's rules (e.g. `{{ }}`);
//   - a provider error, wrapped with the variable and provider names;
//   - [ErrRequired] for a declared variable without a default that no
//     provider supplies: `no provider resolved required variable "x"`;
//   - [ErrUndeclared] for an undeclared name no provider supplies.
func (r *Resolver) Resolve(ctx context.Context, name string) (string, error) {
	if err := ValidateName(name); err != nil {
		return "", err
	}
	for _, p := range r.providers {
		v, ok, err := p.Get(ctx, name)
		if err != nil {
			return "", diag.Errorf("variable %q: %s: %w", name, p.Name(), err)
		}
		if ok {
			return v, nil
		}
	}
	d, declared := r.decls[name]
	switch {
	case !declared:
		return "", diag.Errorf("%w %q: it is not in [variables] and no provider supplies it (set SPIN_VARIABLE_%s or pass --variable %s=...)",
			ErrUndeclared, name, strings.ToUpper(name), name)
	case d.Default == nil:
		return "", diag.Errorf("%w %q", ErrRequired, name)
	}
	return *d.Default, nil
}

// ResolveTemplate renders t, resolving each `{{ name }}` with
// [Resolver.Resolve]. The result is secret when a variable declared
// `secret = true` went into it. The error is the first Resolve error.
func (r *Resolver) ResolveTemplate(ctx context.Context, t template.Template) (template.Text, error) {
	var b strings.Builder
	out := template.Text{Source: t.String()}
	for _, p := range t.Parts() {
		if !p.IsVar {
			b.WriteString(p.Literal)
			continue
		}
		v, err := r.Resolve(ctx, p.Var)
		if err != nil {
			return template.Text{}, err
		}
		out.Secret = out.Secret || r.IsSecret(p.Var)
		b.WriteString(v)
	}
	out.Value = b.String()
	return out, nil
}

// CheckRequired checks at startup that every required variable (declared
// without a default) can be resolved by some provider. A dynamic provider
// (Vault) counts as able to resolve anything, as in Spin.
//
// # Errors
//
// A provider error, or one error wrapping [ErrRequired] that names every
// missing variable, sorted: `no provider resolved required variable(s):
// ["a", "b"]`.
func (r *Resolver) CheckRequired(ctx context.Context) error {
	for _, p := range r.providers {
		if d, ok := p.(dynamicProvider); ok && d.dynamic() {
			return nil
		}
	}
	var missing []string
	for _, name := range r.names {
		if r.decls[name].Default != nil {
			continue
		}
		found := false
		for _, p := range r.providers {
			_, ok, err := p.Get(ctx, name)
			if err != nil {
				return diag.Errorf("variable %q: %s: %w", name, p.Name(), err)
			}
			if ok {
				found = true
				break
			}
		}
		if !found {
			missing = append(missing, diag.Sprintf("%q", name))
		}
	}
	if len(missing) > 0 {
		return &requiredError{list: "[" + strings.Join(missing, ", ") + "]"}
	}
	return nil
}

type requiredError struct{ list string }

func (e *requiredError) Error() string {
	return "no provider resolved required variable(s): " + e.list
}

func (e *requiredError) Unwrap() error { return ErrRequired }

// Secret holds a variable value that must not be shown. String, GoString and
// LogValue return "****"; Reveal returns the value.
type Secret string

// String returns "****".
func (Secret) String() string { return "****" }

// GoString returns "****", so %#v does not reveal the value either.
func (Secret) GoString() string { return "****" }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("****") }

// Reveal returns the secret value.
func (s Secret) Reveal() string { return string(s) }

// Loggable returns value as something safe to log for variable name: a
// [Secret] when the variable is secret, else the value itself.
func (r *Resolver) Loggable(name, value string) any {
	if r.IsSecret(name) {
		return Secret(value)
	}
	return value
}

// Redact returns value, or "****" when name is a secret variable.
func (r *Resolver) Redact(name, value string) string {
	if r.IsSecret(name) {
		return "****"
	}
	return value
}
