package manifest

import (
	"github.com/redspin/redspin/internal/diag"

	"errors"
)

// Sentinel errors. Every [Error] returned by this package unwraps to one of
// them (or to a [template] error), so callers can classify with errors.Is.
var (
	// ErrNotFound: the manifest file (or directory) does not exist.
	ErrNotFound = errors.New("manifest not found")
	// ErrUnsupported: something Spin accepts that redspin does not support
	// yet (registry sources, OCI references, bare .wasm files).
	ErrUnsupported = errors.New("not supported by redspin yet")
	// ErrSyntax: the file is not valid TOML.
	ErrSyntax = errors.New("invalid TOML")
	// ErrInvalidVersion: spin_manifest_version is neither "1" nor 2.
	ErrInvalidVersion = errors.New("invalid manifest version")
	// ErrUnknownField: a key Spin's schema does not accept.
	ErrUnknownField = errors.New("unknown field")
	// ErrMissingField: a required key is absent.
	ErrMissingField = errors.New("missing field")
	// ErrWrongType: a value has the wrong TOML type.
	ErrWrongType = errors.New("invalid type")
	// ErrInvalidID: a component ID, variable name or label breaks Spin's
	// identifier rules.
	ErrInvalidID = errors.New("invalid ID")
	// ErrDuplicateComponent: two components share an ID.
	ErrDuplicateComponent = errors.New("duplicate component ID")
	// ErrUnknownComponent: a trigger names a component that is not defined.
	ErrUnknownComponent = errors.New("unknown component")
	// ErrInvalidVariable: an application variable declaration is invalid.
	ErrInvalidVariable = errors.New("invalid variable definition")
	// ErrUnknownVariable: a template names an undeclared application variable.
	ErrUnknownVariable = errors.New("unknown variable")
	// ErrInvalidTemplate: a `{{ var }}` template is malformed.
	ErrInvalidTemplate = errors.New("invalid variable template")
	// ErrInvalidAllowedHost: an allowed_outbound_hosts (or allowed_http_hosts)
	// entry is malformed.
	ErrInvalidAllowedHost = errors.New("invalid allowed host")
	// ErrInvalidSource: a component source is malformed (e.g. a digest
	// without `sha256:`).
	ErrInvalidSource = errors.New("invalid component source")
	// ErrDigestMismatch: a downloaded source does not match its digest.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrInvalidTrigger: a trigger's configuration is invalid.
	ErrInvalidTrigger = errors.New("invalid trigger config")
	// ErrInvalidValue: any other invalid value (files, dependencies...).
	ErrInvalidValue = errors.New("invalid value")
)

// Error is a problem in a manifest. Its text reads
//
//	spin.toml:12:3: component "x": unknown field `foo`, expected one of ...
//
// with the file path as given to [Load]; Err unwraps to a sentinel such as
// [ErrUnknownField].
type Error = diag.Error

// Warning is a non-fatal finding: a deprecated field, a field redspin parses
// but does not act on yet, a trigger expression naming an undeclared variable.
type Warning = diag.Warning

// kindErr is an error with a sentinel kind and a human message; its text is
// the message alone (Spin's wording), while errors.Is matches the kind.
type kindErr struct {
	kind  error
	msg   string
	cause error
}

func (e *kindErr) Error() string {
	if e.cause != nil {
		return e.msg + ": " + e.cause.Error()
	}
	return e.msg
}

func (e *kindErr) Unwrap() []error {
	if e.cause != nil {
		return []error{e.kind, e.cause}
	}
	return []error{e.kind}
}

// errf builds an error of the given kind whose text is the formatted message.
func errf(kind error, format string, args ...any) error {
	return &kindErr{kind: kind, msg: diag.Sprintf(format, args...)}
}

// wrapf builds an error of the given kind with a message and a cause.
func wrapf(kind, cause error, format string, args ...any) error {
	return &kindErr{kind: kind, msg: diag.Sprintf(format, args...), cause: cause}
}

// maxErrors bounds how many problems one Load reports.
const maxErrors = 50

// problems collects errors and warnings for one manifest.
type problems struct {
	file     string
	idx      *posIndex
	errs     []error
	warnings []Warning
}

// errAt records an error at the position of the key path (or its closest
// recorded ancestor).
func (p *problems) errAt(path, key string, err error) {
	if len(p.errs) >= maxErrors {
		return
	}
	pos := p.idx.lookup(path)
	p.errs = append(p.errs, &Error{File: p.file, Line: pos.line, Col: pos.col, Key: key, Err: err})
}

// warnAt records a warning at the line of the key path.
func (p *problems) warnAt(path, msg string) {
	p.warnings = append(p.warnings, Warning{File: p.file, Line: p.idx.lookup(path).line, Message: msg})
}

// err returns nil, the single error, or all of them joined.
func (p *problems) err() error {
	switch len(p.errs) {
	case 0:
		return nil
	case 1:
		return p.errs[0]
	default:
		return errors.Join(p.errs...)
	}
}
