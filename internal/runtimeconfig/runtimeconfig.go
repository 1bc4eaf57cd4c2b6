package runtimeconfig

import (
	"github.com/redspin/redspin/internal/diag"

	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/redspin/redspin/internal/redisurl"
)

// Provider types accepted in [[variables_provider]].
const (
	ProviderStatic        = "static"
	ProviderEnv           = "env"
	ProviderVault         = "vault"
	ProviderAzureKeyVault = "azure_key_vault"
)

// Key-value store types accepted in [key_value_store.<label>].
const (
	StoreSpin        = "spin"
	StoreRedis       = "redis"
	StoreAzureCosmos = "azure_cosmos"
	StoreAWSDynamo   = "aws_dynamo"
)

// DefaultEnvPrefix is the prefix of the env provider when none is given:
// variable api_key is read from SPIN_VARIABLE_API_KEY.
const DefaultEnvPrefix = "SPIN_VARIABLE"

// Config is a loaded runtime-config file. The zero value is "no file": no
// providers, no stores, nothing set.
type Config struct {
	// File is the path the config was loaded from, as given to [Load].
	File string
	// StateDir and LogDir are nil when the file does not set them, point to
	// "" when it sets them to "" (explicitly unset), and hold an absolute
	// path otherwise.
	StateDir, LogDir *string
	// MaxInstanceMemory is the per-instance memory cap in bytes; 0 = none.
	MaxInstanceMemory uint64
	// VariablesProviders are the configured variable providers in file order.
	VariablesProviders []ProviderConfig
	// KeyValueStores maps a store label to its configuration.
	KeyValueStores map[string]KeyValueStore
	// OutboundNetworking is [outbound_networking]; nil when absent.
	OutboundNetworking *OutboundNetworking
	// OutboundHTTP is [outbound_http]; nil when absent.
	OutboundHTTP *OutboundHTTP
	// ClientTLS are the [[client_tls]] entries in file order.
	ClientTLS []ClientTLS

	// extra holds summary entries for sections redspin does not implement
	// but Spin would mention ("sqlite_database.x: spin").
	extra []string
}

// ProviderConfig is one [[variables_provider]] entry. Which fields are
// meaningful depends on Type.
type ProviderConfig struct {
	// Type is one of the Provider* constants ("open_bao" is read as vault).
	Type string
	// Line is the line of the entry's header in the file (0 if unknown).
	Line int

	// Values holds a static provider's variables.
	Values map[string]string

	// Prefix is the env provider's prefix (default [DefaultEnvPrefix];
	// joined to the upper-cased name with "_"), or the Vault key prefix
	// ("" = none; the key path is "{prefix}/{key}").
	Prefix string
	// DotenvPath is the env provider's dotenv file, as written ("" = none).
	// Like Spin, a relative path is read from the working directory.
	DotenvPath string

	// URL, Token and Mount configure a vault provider (KV v2).
	URL, Token, Mount string

	// VaultURL, ClientID, ClientSecret, TenantID and AuthorityHost configure
	// an azure_key_vault provider, which redspin parses but cannot build.
	VaultURL, ClientID, ClientSecret, TenantID, AuthorityHost string
}

// String describes the provider without its secrets (Vault token, Azure
// client secret, static values).
func (p ProviderConfig) String() string {
	switch p.Type {
	case ProviderStatic:
		return fmt.Sprintf("static provider (%d values)", len(p.Values))
	case ProviderEnv:
		s := diag.Sprintf("env provider (prefix %q", p.Prefix)
		if p.DotenvPath != "" {
			s += diag.Sprintf(", dotenv_path %q", p.DotenvPath)
		}
		return s + ")"
	case ProviderVault:
		return diag.Sprintf("vault provider (%s, mount %q, prefix %q)", p.URL, p.Mount, p.Prefix)
	case ProviderAzureKeyVault:
		return fmt.Sprintf("azure_key_vault provider (%s)", p.VaultURL)
	}
	return p.Type + " provider"
}

// LogValue implements slog.LogValuer with [ProviderConfig.String], so that
// logging a provider never logs its secrets.
func (p ProviderConfig) LogValue() slog.Value { return slog.StringValue(p.String()) }

// KeyValueStore is one [key_value_store.<label>] table.
type KeyValueStore struct {
	// Type is one of the Store* constants.
	Type string
	// Path is a spin store's SQLite file, absolute (resolved against the
	// runtime-config file's directory); "" = in-memory, as in Spin.
	Path string
	// URL is a redis store's URL (already checked by redisurl.Parse).
	URL string
	// Line is the line of the table in the file (0 if unknown).
	Line int
}

// Supported reports whether redspin can open a store of this type.
func (s KeyValueStore) Supported() bool { return s.Type == StoreSpin || s.Type == StoreRedis }

// Warning is a non-fatal finding, such as a section redspin ignores.
type Warning = diag.Warning

// Error is a problem in a runtime-config file. Error() reads
// "file:line:col: key: reason", Key being the dotted key path, e.g.
// "variables_provider[1].url"; position and key are left out when unknown.
type Error = diag.Error

// ErrNotSupported is wrapped by errors for features redspin parses but does
// not implement (for example building an azure_key_vault provider).
var ErrNotSupported = errors.New("not supported by redspin")

// Summary returns one entry per configured store or service Spin would list
// at startup, e.g. "key_value_store.cache: redis", sorted as Spin prints them.
func (c *Config) Summary() []string {
	if c == nil {
		return nil
	}
	var out []string
	labels := make([]string, 0, len(c.KeyValueStores))
	for l := range c.KeyValueStores {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	for _, l := range labels {
		out = append(out, fmt.Sprintf("key_value_store.%s: %s", l, c.KeyValueStores[l].Type))
	}
	return append(out, c.extra...)
}

// SummaryLine returns Spin's startup line, `Using runtime config
// [key_value_store.x: redis], [...] from "file"`, or "" when there is
// nothing to mention.
func (c *Config) SummaryLine() string {
	s := c.Summary()
	if len(s) == 0 {
		return ""
	}
	return diag.Sprintf("Using runtime config [%s] from %q", strings.Join(s, "], ["), c.File)
}

// maxFileSize bounds the runtime-config file; real ones are a few hundred
// bytes.
const maxFileSize = 1 << 20

// knownTopLevel lists the keys of rawConfig.
var knownTopLevel = map[string]bool{
	"state_dir": true, "log_dir": true, "max_instance_memory": true,
	"variables_provider": true, "config_provider": true, "key_value_store": true,
	"sqlite_database": true, "llm_compute": true, "outbound_networking": true, "outbound_http": true,
	"outbound_redis": true, "client_tls": true, "blob_store": true,
}

// rawConfig is the top level of the file; any other key is an error (see
// knownTopLevel). The polymorphic sections are checked by hand.
type rawConfig struct {
	StateDir           *string                   `toml:"state_dir"`
	LogDir             *string                   `toml:"log_dir"`
	MaxInstanceMemory  *int64                    `toml:"max_instance_memory"`
	VariablesProvider  []map[string]any          `toml:"variables_provider"`
	ConfigProvider     []map[string]any          `toml:"config_provider"`
	KeyValueStore      map[string]map[string]any `toml:"key_value_store"`
	SQLiteDatabase     map[string]map[string]any `toml:"sqlite_database"`
	LLMCompute         map[string]any            `toml:"llm_compute"`
	OutboundNetworking map[string]any            `toml:"outbound_networking"`
	OutboundHTTP       map[string]any            `toml:"outbound_http"`
	OutboundRedis      map[string]any            `toml:"outbound_redis"`
	ClientTLS          []map[string]any          `toml:"client_tls"`
	BlobStore          map[string]map[string]any `toml:"blob_store"`
}

// Load reads and validates the runtime-config file at path.
//
// # Errors
//
// An [*Error] naming the file, and where possible the line, column and key,
// for: a file that cannot be read, TOML syntax errors, unknown keys, values
// of the wrong type, an unknown provider or store type, missing required
// fields and an invalid Redis URL.
func Load(path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &Error{File: path, Err: fmt.Errorf("read runtime config: %w", err)}
	}
	return parse(path, data)
}

func parse(path string, data []byte) (*Config, []Warning, error) {
	if len(data) > maxFileSize {
		return nil, nil, &Error{File: path, Err: fmt.Errorf("file is larger than %d bytes; is it a runtime config?", maxFileSize)}
	}
	ix := index(data)
	l := &loader{file: path, dir: filepath.Dir(path), pos: ix.pos}
	var raw rawConfig
	// Unknown keys are checked below against the index: go-toml's strict
	// mode costs quadratic time on files with many unknown keys.
	if err := toml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, nil, l.decodeError(err)
	}
	for _, k := range ix.top {
		if !knownTopLevel[k] {
			return nil, nil, l.errAt(k, "", diag.Errorf("unknown key %q (known keys: state_dir, log_dir, max_instance_memory, "+
				"[[variables_provider]], [key_value_store.<label>] and Spin's other sections)", k))
		}
	}
	cfg := &Config{File: path}
	var err error
	if cfg.StateDir, err = l.absDir("state_dir", raw.StateDir); err != nil {
		return nil, nil, err
	}
	if cfg.LogDir, err = l.absDir("log_dir", raw.LogDir); err != nil {
		return nil, nil, err
	}
	if raw.MaxInstanceMemory != nil {
		if *raw.MaxInstanceMemory < 0 {
			return nil, nil, l.errAt("max_instance_memory", "max_instance_memory", fmt.Errorf("must be a number of bytes, not %d", *raw.MaxInstanceMemory))
		}
		cfg.MaxInstanceMemory = uint64(*raw.MaxInstanceMemory)
	}

	provs, key := raw.VariablesProvider, "variables_provider"
	if raw.ConfigProvider != nil {
		if raw.VariablesProvider != nil {
			return nil, nil, l.errAt("config_provider", "config_provider",
				errors.New("[[config_provider]] is the older name of [[variables_provider]]; use one of them, not both"))
		}
		provs, key = raw.ConfigProvider, "config_provider"
	}
	for i, m := range provs {
		p, err := l.provider(key, i, m)
		if err != nil {
			return nil, nil, err
		}
		cfg.VariablesProviders = append(cfg.VariablesProviders, p)
	}

	var warnings []Warning
	if len(raw.KeyValueStore) > 0 {
		cfg.KeyValueStores = map[string]KeyValueStore{}
	}
	for _, label := range sortedKeys(raw.KeyValueStore) {
		s, err := l.store(label, raw.KeyValueStore[label])
		if err != nil {
			return nil, nil, err
		}
		if !s.Supported() {
			warnings = append(warnings, l.warn("key_value_store."+label,
				diag.Sprintf("[key_value_store.%s]: type %q is not supported by redspin; a component that opens store %q will fail", label, s.Type, label)))
		}
		if u, err := redisurl.Parse(s.URL); s.Type == StoreRedis && err == nil && len(u.Ignored) > 0 {
			warnings = append(warnings, l.warn("key_value_store."+label+".url",
				"[key_value_store."+label+"] url: "+redisurl.IgnoredMessage(u.Ignored)))
		}
		cfg.KeyValueStores[label] = s
	}

	for _, label := range sortedKeys(raw.SQLiteDatabase) {
		warnings = append(warnings, l.warn("sqlite_database."+label,
			fmt.Sprintf("[sqlite_database.%s] is not supported by redspin and is ignored", label)))
		if ty, ok := raw.SQLiteDatabase[label]["type"].(string); ok {
			cfg.extra = append(cfg.extra, fmt.Sprintf("sqlite_database.%s: %s", label, ty))
		}
	}
	if raw.LLMCompute != nil {
		warnings = append(warnings, l.warn("llm_compute", "[llm_compute] is not supported by redspin and is ignored"))
		if ty, ok := raw.LLMCompute["type"].(string); ok {
			cfg.extra = append(cfg.extra, "llm_compute: "+ty)
		}
	}
	if raw.OutboundNetworking != nil {
		if cfg.OutboundNetworking, err = l.outboundNetworking(raw.OutboundNetworking); err != nil {
			return nil, nil, err
		}
	}
	if raw.OutboundHTTP != nil {
		var w []Warning
		if cfg.OutboundHTTP, w, err = l.outboundHTTP(raw.OutboundHTTP); err != nil {
			return nil, nil, err
		}
		warnings = append(warnings, w...)
	}
	for i, m := range raw.ClientTLS {
		c, err := l.clientTLS(i, m)
		if err != nil {
			return nil, nil, err
		}
		cfg.ClientTLS = append(cfg.ClientTLS, c)
	}
	for _, s := range []struct {
		key, header string
		set         bool
	}{
		{"outbound_redis", "[outbound_redis]", raw.OutboundRedis != nil},
		{"blob_store", "[blob_store.*]", raw.BlobStore != nil},
	} {
		if s.set {
			warnings = append(warnings, l.warn(s.key, s.header+" is not supported by redspin and is ignored"))
		}
	}
	return cfg, warnings, nil
}

type loader struct {
	file, dir string
	pos       map[string]position
}

// errAt builds an error positioned at the key path p (see index).
func (l *loader) errAt(p, key string, err error) *Error {
	e := &Error{File: l.file, Key: key, Err: err}
	if at, ok := l.pos[p]; ok {
		e.Line, e.Col = at.Line, at.Col
	}
	return e
}

func (l *loader) warn(p, msg string) Warning {
	return Warning{File: l.file, Line: l.pos[p].Line, Message: msg}
}

// decodeError turns a go-toml error into an *Error with its position.
func (l *loader) decodeError(err error) error {
	var de *toml.DecodeError
	if errors.As(err, &de) {
		line, col := de.Position()
		msg := friendlyTypeError(strings.TrimPrefix(de.Error(), "toml: "))
		return &Error{File: l.file, Line: line, Col: col, Key: strings.Join(de.Key(), "."), Err: errors.New(msg)}
	}
	return &Error{File: l.file, Err: fmt.Errorf("parse runtime config: %w", err)}
}

func (l *loader) absDir(key string, v *string) (*string, error) {
	if v == nil || *v == "" {
		return v, nil
	}
	abs, err := filepath.Abs(*v)
	if err != nil {
		return nil, l.errAt(key, key, diag.Errorf("make %q absolute: %w", *v, err))
	}
	return &abs, nil
}

// fields gives typed access to a table decoded as map[string]any, with
// errors positioned at the offending key.
type fields struct {
	l    *loader
	m    map[string]any
	path string // index path of the table, e.g. "variables_provider.0"
	name string // display name, e.g. "variables_provider[1]"
	typ  string // the table's type, for error messages
}

func (f *fields) err(key string, err error) error {
	p, n := f.path, f.name
	if key != "" {
		p, n = p+"."+key, n+"."+key
	}
	return f.l.errAt(p, n, err)
}

// check rejects keys other than "type" and the allowed ones.
func (f *fields) check(allowed ...string) error {
	for _, k := range sortedKeys(f.m) {
		if k == "type" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == k
		}
		if !ok {
			known := "no other keys"
			if len(allowed) > 0 {
				known = "known keys: " + strings.Join(allowed, ", ")
			}
			return f.err(k, diag.Errorf("unknown key %q for type %q (%s)", k, f.typ, known))
		}
	}
	return nil
}

// str returns a string field; required fields must be present and non-empty.
func (f *fields) str(key string, required bool) (string, error) {
	v, ok := f.m[key]
	if !ok {
		if required {
			return "", f.err("", diag.Errorf("type %q requires %s", f.typ, key))
		}
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", f.err(key, fmt.Errorf("must be a string, not %s", tomlType(v)))
	}
	if required && s == "" {
		return "", f.err(key, errors.New("must not be empty"))
	}
	return s, nil
}

func (l *loader) provider(section string, i int, m map[string]any) (ProviderConfig, error) {
	f := &fields{l: l, m: m, path: fmt.Sprintf("%s.%d", section, i), name: fmt.Sprintf("%s[%d]", section, i)}
	p := ProviderConfig{Line: l.pos[f.path].Line}
	ty, ok := m["type"]
	if !ok {
		return p, f.err("", errors.New(`missing type (one of "static", "env", "vault", "azure_key_vault")`))
	}
	s, ok := ty.(string)
	if !ok {
		return p, f.err("type", fmt.Errorf("must be a string, not %s", tomlType(ty)))
	}
	f.typ = s
	var err error
	switch s {
	case ProviderStatic:
		p.Type = s
		if err = f.check("values"); err != nil {
			return p, err
		}
		p.Values = map[string]string{}
		if v, ok := m["values"]; ok {
			tbl, ok := v.(map[string]any)
			if !ok {
				return p, f.err("values", fmt.Errorf("must be a table of strings, not %s", tomlType(v)))
			}
			for k, v := range tbl {
				sv, ok := v.(string)
				if !ok {
					return p, f.err("values."+k, fmt.Errorf("must be a string, not %s", tomlType(v)))
				}
				p.Values[k] = sv
			}
		}
	case ProviderEnv:
		p.Type = s
		if err = f.check("prefix", "dotenv_path"); err != nil {
			return p, err
		}
		p.Prefix = DefaultEnvPrefix
		if _, set := m["prefix"]; set {
			if p.Prefix, err = f.str("prefix", false); err != nil {
				return p, err
			}
		}
		if p.DotenvPath, err = f.str("dotenv_path", false); err != nil {
			return p, err
		}
	case ProviderVault, "open_bao":
		p.Type = ProviderVault
		if err = f.check("url", "token", "mount", "prefix"); err != nil {
			return p, err
		}
		for _, fl := range []struct {
			key string
			dst *string
			req bool
		}{{"url", &p.URL, true}, {"token", &p.Token, true}, {"mount", &p.Mount, true}, {"prefix", &p.Prefix, false}} {
			if *fl.dst, err = f.str(fl.key, fl.req); err != nil {
				return p, err
			}
		}
	case ProviderAzureKeyVault:
		p.Type = s
		if err = f.check("vault_url", "client_id", "client_secret", "tenant_id", "authority_host"); err != nil {
			return p, err
		}
		for _, fl := range []struct {
			key string
			dst *string
			req bool
		}{{"vault_url", &p.VaultURL, true}, {"client_id", &p.ClientID, false}, {"client_secret", &p.ClientSecret, false},
			{"tenant_id", &p.TenantID, false}, {"authority_host", &p.AuthorityHost, false}} {
			if *fl.dst, err = f.str(fl.key, fl.req); err != nil {
				return p, err
			}
		}
		set := 0
		for _, v := range []string{p.ClientID, p.ClientSecret, p.TenantID} {
			if v != "" {
				set++
			}
		}
		if set != 0 && set != 3 {
			return p, f.err("", errors.New("client_id, client_secret and tenant_id must be given all together, or none of them"))
		}
		switch p.AuthorityHost {
		case "", "AzurePublicCloud", "AzureChina", "AzureGermany", "AzureGovernment":
		default:
			return p, f.err("authority_host", diag.Errorf("unknown authority host %q (one of AzurePublicCloud, AzureChina, AzureGermany, AzureGovernment)", p.AuthorityHost))
		}
	default:
		return p, f.err("type", diag.Errorf(`unknown variables provider type %q (one of "static", "env", "vault", "azure_key_vault")`, s))
	}
	return p, nil
}

func (l *loader) store(label string, m map[string]any) (KeyValueStore, error) {
	f := &fields{l: l, m: m, path: "key_value_store." + label, name: "key_value_store." + label}
	s := KeyValueStore{Line: l.pos[f.path].Line}
	ty, ok := m["type"]
	if !ok {
		return s, f.err("", errors.New(`missing type (one of "spin", "redis", "azure_cosmos", "aws_dynamo")`))
	}
	s.Type, ok = ty.(string)
	if !ok {
		return s, f.err("type", fmt.Errorf("must be a string, not %s", tomlType(ty)))
	}
	f.typ = s.Type
	var err error
	switch s.Type {
	case StoreSpin:
		if err = f.check("path"); err != nil {
			return s, err
		}
		if s.Path, err = f.str("path", false); err != nil {
			return s, err
		}
		if s.Path != "" && !filepath.IsAbs(s.Path) {
			s.Path = filepath.Join(l.dir, s.Path)
		}
		if s.Path != "" {
			if s.Path, err = filepath.Abs(s.Path); err != nil {
				return s, f.err("path", err)
			}
		}
	case StoreRedis:
		if err = f.check("url"); err != nil {
			return s, err
		}
		if s.URL, err = f.str("url", true); err != nil {
			return s, err
		}
		if _, err := redisurl.Parse(s.URL); err != nil {
			return s, f.err("url", err)
		}
	case StoreAzureCosmos, StoreAWSDynamo:
		// Not implemented: their fields are not checked here.
	default:
		return s, f.err("type", diag.Errorf(`unknown key-value store type %q (one of "spin", "redis", "azure_cosmos", "aws_dynamo")`, s.Type))
	}
	return s, nil
}

var typeErrorRE = regexp.MustCompile(`^cannot decode TOML (\w+) into (?:struct field \S+ of type )?(.+)$`)

// friendlyTypeError rewrites go-toml's type mismatch text, which names Go
// types, into what the file should hold.
func friendlyTypeError(msg string) string {
	m := typeErrorRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	want := "a table"
	switch {
	case m[2] == "int64":
		want = "an integer"
	case m[2] == "string":
		want = "a string"
	case strings.HasPrefix(m[2], "map[string]map"):
		want = "a table of named tables"
	case strings.HasPrefix(m[2], "[]"):
		want = "an array of tables ([[...]])"
	}
	return fmt.Sprintf("must be %s, not a TOML %s", want, m[1])
}

func tomlType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case bool:
		return "a boolean"
	case map[string]any:
		return "a table"
	case []any:
		return "an array"
	}
	return "a date or time"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
