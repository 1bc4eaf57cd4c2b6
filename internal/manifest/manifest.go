package manifest

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"
)

// Manifest is a loaded, normalised and statically validated Spin app
// manifest. V1 manifests are converted to this (V2) shape.
//
// Template-capable strings (addresses, channels, allowed hosts, component
// variables) are kept as written; resolve them with internal/variables.
type Manifest struct {
	// File is the manifest path as given to Load; Dir is its directory,
	// absolute.
	File, Dir string
	// SpinManifestVersion is the version the file declared: 1 or 2.
	SpinManifestVersion int
	// Name, Version and Description come from [application] (V1: top level).
	Name, Version, Description string
	// Authors comes from [application] authors.
	Authors []string
	// Variables are the application variables, by name.
	Variables map[string]Variable
	// RedisAddress is the [application.trigger.redis] address template; ""
	// when unset.
	RedisAddress string
	// RedisAddressLine is the line of that address; 0 when unset.
	RedisAddressLine int
	// RedisTriggers are the [[trigger.redis]] entries in manifest order.
	RedisTriggers []RedisTrigger
	// StreamAddress is the [application.trigger.redis-stream] address
	// template; "" when unset.
	StreamAddress string
	// StreamTriggers are the [[trigger.redis-stream]] entries in manifest order.
	StreamTriggers []StreamTrigger
	// OtherTriggerTypes are the trigger types other than redis and redis-stream, sorted
	// (e.g. ["http"]). redspin ignores those triggers.
	OtherTriggerTypes []string
	// Triggers lists every trigger of every type, in manifest order, after
	// ID normalisation.
	Triggers []Trigger
	// ComponentIDs are the component IDs in manifest order (inline components
	// last, as Spin orders them).
	ComponentIDs []string
	// Components are all components, by ID, including former inline ones.
	Components map[string]*Component
}

// Variable is an application variable declared in [variables].
type Variable struct {
	// Description is free text.
	Description string
	// Required is set for `required = true`; exactly one of Required and
	// Default is set.
	Required bool
	// Default is the value used when no provider resolves the variable.
	Default *string
	// Secret marks a value that must never be logged.
	Secret bool
	// Line is where the variable is declared.
	Line int
}

// RedisTrigger is one [[trigger.redis]] entry. Channel and Address are
// templates; Address is "" when the trigger falls back to the app default.
type RedisTrigger struct {
	// ID is the trigger's `id`, or its normalised ID.
	ID string
	// Component is the ID of the component to run (inline components have
	// been given IDs).
	Component string
	// Channel is the channel template.
	Channel string
	// Address is the address template; "" means Manifest.RedisAddress.
	Address string
	// Line is the line of the trigger's table header.
	Line int
}

// Trigger is a trigger of any type, as normalised.
type Trigger struct {
	// ID is the trigger's (normalised) ID; Type is e.g. "redis" or "http".
	ID, Type string
	// Components are the component IDs the trigger references (`component`
	// first, then `components` entries).
	Components []string
	Line       int
}

// Component is one [component.<id>] table.
type Component struct {
	// ID is the component ID (kebab-case; V1 IDs are fixed on conversion).
	ID string
	// Line is the line of the component's table header (or inline table).
	Line int
	// Source is where the Wasm comes from; see FetchSource.
	Source Source
	// Description is free text.
	Description string
	// Variables are the component variables: name → template.
	Variables map[string]string
	// Environment are the WASI environment variables.
	Environment map[string]string
	// Files are the files mounted into the guest.
	Files []FileSpec
	// ExcludeFiles are globs excluded from Files.
	ExcludeFiles []string
	// AllowedOutboundHosts are templates; deprecated allowed_http_hosts are
	// converted into it, and V1 components without the field get
	// ["redis://*:*", "mysql://*:*", "postgres://*:*"].
	AllowedOutboundHosts []string
	// KeyValueStores, SQLiteDatabases and AIModels are labels.
	KeyValueStores, SQLiteDatabases, AIModels []string
	// HasDependencies reports a non-empty [component.x.dependencies] table.
	HasDependencies bool
	// Inline reports a component that was written inline in a trigger.
	Inline bool

	path        string // position-index path of the table
	allowedHTTP []string
	hasAllowed  bool // allowed_outbound_hosts was written
	hasProfile  bool
	deps        []string // dependency names, file order
	depRefs     []depRef // dependencies on other components
}

// Source is where a component's Wasm comes from; exactly one form is set:
// Path; URL and Digest; or Package and Version (Registry optional).
type Source struct {
	Path     string `json:",omitempty"`
	URL      string `json:",omitempty"`
	Digest   string `json:",omitempty"`
	Registry string `json:",omitempty"`
	Package  string `json:",omitempty"`
	Version  string `json:",omitempty"`
}

// String describes the source as Spin does in messages.
func (s Source) String() string {
	switch {
	case s.URL != "":
		return fmt.Sprintf("%q with digest %q", s.URL, s.Digest)
	case s.Package != "":
		reg := "default registry"
		if s.Registry != "" {
			reg = fmt.Sprintf("registry %q", s.Registry)
		}
		return fmt.Sprintf("\"%s@%s\" from %s", s.Package, s.Version, reg)
	}
	return strconv.Quote(s.Path)
}

// FileSpec is one `files` entry: a Glob, or a Source directory placed at an
// absolute Destination in the guest.
type FileSpec struct {
	Glob        string `json:",omitempty"`
	Source      string `json:",omitempty"`
	Destination string `json:",omitempty"`
}

// Load reads, converts (V1), normalises and validates the manifest at path.
// It does not read component sources (see [FetchSource]).
//
// # Errors
//
// A *[Error] (or several joined with errors.Join) naming the file, line and
// context; each unwraps to a sentinel such as [ErrUnknownField],
// [ErrInvalidVersion] or [ErrUnknownComponent]. Warnings are returned even
// when the error is not nil.
func Load(path string) (*Manifest, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &Error{File: path, Err: wrapf(ErrNotFound, err, "cannot read manifest")}
		}
		return nil, nil, &Error{File: path, Err: fmt.Errorf("cannot read manifest: %w", err)}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, nil, &Error{File: path, Err: err}
	}
	m, warnings, err := parse(path, data)
	if m != nil {
		m.Dir = dir
	}
	return m, warnings, err
}

// Parse is [Load] for manifest content already in memory; file names the
// manifest in messages and Dir is left empty.
func Parse(file string, data []byte) (*Manifest, []Warning, error) {
	return parse(file, data)
}

func parse(file string, data []byte) (m *Manifest, warnings []Warning, err error) {
	var doc map[string]any
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, col := de.Position()
			msg := strings.TrimPrefix(de.Error(), "toml: ")
			return nil, nil, &Error{File: file, Line: line, Col: col, Err: errf(ErrSyntax, "TOML parse error: %s", msg)}
		}
		return nil, nil, &Error{File: file, Err: wrapf(ErrSyntax, err, "TOML parse error")}
	}
	p := &problems{file: file, idx: buildIndex(data)}
	version, ok := detectVersion(p, doc)
	if !ok {
		return nil, nil, p.err()
	}
	var mod *model
	if version == 1 {
		mod = parseV1(p, doc)
	} else {
		mod = parseV2(p, doc)
	}
	if err := p.err(); err != nil {
		return nil, p.warnings, err
	}
	m = finalize(p, mod)
	m.File = file
	m.SpinManifestVersion = version
	if err := p.err(); err != nil {
		return nil, p.warnings, err
	}
	return m, p.warnings, nil
}

// detectVersion applies Spin's probe: `spin_manifest_version` (alias
// `spin_version`) must be the string "1" or the integer 2.
func detectVersion(p *problems, doc map[string]any) (int, bool) {
	key := "spin_manifest_version"
	v, ok := doc[key]
	if alt, altOK := doc["spin_version"]; altOK {
		if ok {
			p.errAt("spin_version", "", errf(ErrUnknownField, "duplicate field `spin_manifest_version`"))
			return 0, false
		}
		key, v, ok = "spin_version", alt, true
	}
	if !ok {
		p.errAt("", "", errf(ErrMissingField, "missing field `spin_manifest_version`"))
		return 0, false
	}
	switch x := v.(type) {
	case string:
		if x == "1" {
			return 1, true
		}
	case int64:
		if x == 2 {
			return 2, true
		}
	}
	p.errAt(key, "", errf(ErrInvalidVersion, "invalid manifest version: %s", tomlValueString(v)))
	return 0, false
}

// tomlValueString renders a scalar as TOML would (strings quoted).
func tomlValueString(v any) string {
	switch x := v.(type) {
	case string:
		return strconv.Quote(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		s := strconv.FormatFloat(x, 'f', -1, 64)
		if !strings.ContainsAny(s, ".eE") {
			s += ".0"
		}
		return s
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "[...]"
	case map[string]any:
		return "{...}"
	}
	return fmt.Sprint(v)
}
