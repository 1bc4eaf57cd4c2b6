package variables

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/runtimeconfig"
)

// StaticProvider serves a fixed map of values (--variable flags and
// runtime-config `type = "static"`).
type StaticProvider struct {
	name   string
	values map[string]string
}

// NewStatic returns a provider named name serving values. The map is copied.
func NewStatic(name string, values map[string]string) *StaticProvider {
	m := make(map[string]string, len(values))
	for k, v := range values {
		m[k] = v
	}
	return &StaticProvider{name: name, values: m}
}

// Name implements [Provider].
func (p *StaticProvider) Name() string { return p.name }

// Get implements [Provider].
func (p *StaticProvider) Get(_ context.Context, key string) (string, bool, error) {
	v, ok := p.values[key]
	return v, ok, nil
}

// EnvProvider reads PREFIX_NAME (name upper-cased) from the environment,
// then from a dotenv file when one is configured, as Spin's env provider.
type EnvProvider struct {
	prefix     string
	getenv     func(string) string
	dotenvPath string

	once   sync.Once
	dotenv map[string]string
	err    error
}

// NewEnv returns an env provider. getenv reads the environment (os.Getenv
// in production; an empty value counts as unset). dotenvPath is the dotenv
// file to fall back to ("" = none; a missing file has no values, as in Spin).
func NewEnv(prefix string, getenv func(string) string, dotenvPath string) *EnvProvider {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	return &EnvProvider{prefix: prefix, getenv: getenv, dotenvPath: dotenvPath}
}

// EnvName returns the environment variable that holds key: PREFIX_KEY.
func (p *EnvProvider) EnvName(key string) string { return p.prefix + "_" + strings.ToUpper(key) }

// Name implements [Provider].
func (p *EnvProvider) Name() string {
	if p.dotenvPath != "" {
		return fmt.Sprintf("env provider (%s_*, dotenv %s)", p.prefix, p.dotenvPath)
	}
	return fmt.Sprintf("env provider (%s_*)", p.prefix)
}

// Get implements [Provider]. The dotenv file is read once, on first need.
func (p *EnvProvider) Get(_ context.Context, key string) (string, bool, error) {
	env := p.EnvName(key)
	if v := p.getenv(env); v != "" {
		return v, true, nil
	}
	if p.dotenvPath == "" {
		return "", false, nil
	}
	p.once.Do(func() { p.dotenv, p.err = readDotenv(p.dotenvPath) })
	if p.err != nil {
		return "", false, p.err
	}
	v, ok := p.dotenv[env]
	return v, ok, nil
}

// readDotenv reads a dotenv file: KEY=VALUE lines, optional "export ",
// '#' comments, single quotes (literal) and double quotes (with \n, \t, \"
// and \\ escapes). A missing file has no values. Errors name the file and
// line and never hold values.
func readDotenv(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read dotenv file: %w", err)
	}
	return parseDotenv(path, data)
}

func parseDotenv(path string, data []byte) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	line := 0
	fail := func(reason string) error { return fmt.Errorf("dotenv file %s:%d: %s", path, line, reason) }
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if line == 1 {
			s = strings.TrimPrefix(s, "\ufeff")
		}
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		s = strings.TrimPrefix(s, "export ")
		key, val, ok := strings.Cut(s, "=")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return nil, fail("want KEY=VALUE")
		}
		if strings.ContainsAny(key, " \t\"'") {
			return nil, fail(diag.Sprintf("invalid key %q", key))
		}
		val = strings.TrimSpace(val)
		switch {
		case strings.HasPrefix(val, "'"):
			end := strings.Index(val[1:], "'")
			if end < 0 {
				return nil, fail("unterminated single quote")
			}
			val = val[1 : end+1]
		case strings.HasPrefix(val, `"`):
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(val); i++ {
				c := val[i]
				if c == '"' {
					closed = true
					break
				}
				if c == '\\' && i+1 < len(val) {
					i++
					switch val[i] {
					case 'n':
						b.WriteByte('\n')
					case 't':
						b.WriteByte('\t')
					case 'r':
						b.WriteByte('\r')
					default:
						b.WriteByte(val[i])
					}
					continue
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, fail("unterminated double quote")
			}
			val = b.String()
		default:
			if i := strings.Index(val, " #"); i >= 0 {
				val = strings.TrimSpace(val[:i])
			}
		}
		out[key] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read dotenv file %s: %w", path, err)
	}
	return out, nil
}

// VaultProvider reads variables from a HashiCorp Vault (or OpenBao) KV v2
// secrets engine: GET {url}/v1/{mount}/data/{prefix/}{key} with the token
// in X-Vault-Token, returning the field "value" of the secret. A 404 means
// "not here" and the next provider is asked; any other failure is an error.
type VaultProvider struct {
	url, token, mount, prefix string
	client                    *http.Client
}

// NewVault returns a Vault KV v2 provider. client may be nil for a client
// with a 10 s timeout.
func NewVault(vaultURL, token, mount, prefix string, client *http.Client) *VaultProvider {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &VaultProvider{url: strings.TrimRight(vaultURL, "/"), token: token, mount: strings.Trim(mount, "/"), prefix: strings.Trim(prefix, "/"), client: client}
}

// Name implements [Provider]; it never includes the token.
func (p *VaultProvider) Name() string {
	return diag.Sprintf("vault provider (%s, mount %q)", p.url, p.mount)
}

func (p *VaultProvider) dynamic() bool { return true }

func escapePath(s string) string {
	parts := strings.Split(s, "/")
	for i, part := range parts {
		parts[i] = url.PathEscape(part)
	}
	return strings.Join(parts, "/")
}

// Get implements [Provider]. When ctx carries a span (a message being
// handled, with tracing on), the lookup is a client span of that span's
// tracer provider: `vault get`, naming the variable, never its value.
func (p *VaultProvider) Get(ctx context.Context, key string) (value string, ok bool, err error) {
	ctx, span := trace.SpanFromContext(ctx).TracerProvider().Tracer(tracerName).Start(ctx, "vault get",
		trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("server.address", p.url), attribute.String("redspin.variable", key)))
	defer func() {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.SetAttributes(attribute.Bool("redspin.variable.found", ok))
		span.End()
	}()
	return p.get(ctx, key)
}

// tracerName names the tracer of the provider's spans.
const tracerName = "github.com/redspin/redspin/internal/variables"

func (p *VaultProvider) get(ctx context.Context, key string) (string, bool, error) {
	secretPath := key
	if p.prefix != "" {
		secretPath = p.prefix + "/" + key
	}
	endpoint := p.url + "/v1/" + escapePath(p.mount) + "/data/" + escapePath(secretPath)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, endpoint, nil)
	if err != nil {
		return "", false, diag.Errorf("read secret %q: %w", secretPath, err)
	}
	req.Header.Set("X-Vault-Token", p.token)
	resp, err := p.client.Do(req)
	if err != nil {
		return "", false, diag.Errorf("read secret %q: %w", secretPath, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", false, diag.Errorf("read secret %q: %w", secretPath, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return "", false, nil
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Errors []string `json:"errors"`
		}
		msg := ""
		if json.Unmarshal(body, &e) == nil && len(e.Errors) > 0 {
			msg = ": " + strings.Join(e.Errors, "; ")
		}
		return "", false, diag.Errorf("read secret %q: HTTP %s%s", secretPath, resp.Status, msg)
	}
	var out struct {
		Data struct {
			Data map[string]any `json:"data"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return "", false, diag.Errorf("read secret %q: response is not a KV v2 secret: %w", secretPath, err)
	}
	v, ok := out.Data.Data["value"].(string)
	if !ok {
		return "", false, diag.Errorf("read secret %q: it has no string field \"value\" (store the variable as value=...)", secretPath)
	}
	return v, true, nil
}

// Chain builds the provider chain, highest priority first: cli (may be nil),
// the runtime-config providers in file order (rc may be nil), then the
// default env provider (SPIN_VARIABLE_*, then cwd/.env). getenv reads the
// environment; relative dotenv paths are taken from cwd, as in Spin.
//
// # Errors
//
// An azure_key_vault provider wraps runtimeconfig.ErrNotSupported.
func Chain(cli Provider, rc *runtimeconfig.Config, getenv func(string) string, cwd string) ([]Provider, error) {
	var out []Provider
	if cli != nil {
		out = append(out, cli)
	}
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(cwd, p)
	}
	if rc != nil {
		for i, pc := range rc.VariablesProviders {
			switch pc.Type {
			case runtimeconfig.ProviderStatic:
				out = append(out, NewStatic(fmt.Sprintf("static provider #%d (runtime config)", i+1), pc.Values))
			case runtimeconfig.ProviderEnv:
				out = append(out, NewEnv(pc.Prefix, getenv, abs(pc.DotenvPath)))
			case runtimeconfig.ProviderVault:
				out = append(out, NewVault(pc.URL, pc.Token, pc.Mount, pc.Prefix, nil))
			default:
				where := rc.File
				if pc.Line > 0 {
					where = fmt.Sprintf("%s:%d", rc.File, pc.Line)
				}
				return nil, diag.Errorf("%s: variables provider type %q: %w (use static, env or vault)", where, pc.Type, runtimeconfig.ErrNotSupported)
			}
		}
	}
	out = append(out, NewEnv(runtimeconfig.DefaultEnvPrefix, getenv, filepath.Join(cwd, ".env")))
	return out, nil
}
