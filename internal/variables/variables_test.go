package variables

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/template"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func ptr(s string) *string { return &s }

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeVault is an in-test HTTP fake of the Vault KV v2 read API.
type fakeVault struct {
	*httptest.Server
	token string
	mu    sync.Mutex
	data  map[string]map[string]any // "mount/path" -> secret data
	fail  int                       // when non-zero, answer every request with this status
	paths []string
}

func newFakeVault(t *testing.T, token string) *fakeVault {
	t.Helper()
	v := &fakeVault{token: token, data: map[string]map[string]any{}}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(v.serve))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.Start()
	v.Server = srv
	t.Cleanup(srv.Close)
	return v
}

func (v *fakeVault) put(mountPath string, data map[string]any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.data[mountPath] = data
}

func (v *fakeVault) serve(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.paths = append(v.paths, r.URL.Path)
	w.Header().Set("Content-Type", "application/json")
	if v.fail != 0 {
		w.WriteHeader(v.fail)
		fmt.Fprint(w, `{"errors":["internal error"]}`)
		return
	}
	if r.Header.Get("X-Vault-Token") != v.token {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"errors":["permission denied"]}`)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	mount, path, ok2 := strings.Cut(rest, "/data/")
	if !ok || !ok2 || r.Method != http.MethodGet {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":["bad request"]}`)
		return
	}
	data, found := v.data[mount+"/"+path]
	if !found {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":[]}`)
		return
	}
	fmt.Fprintf(w, `{"data":{"data":%s,"metadata":{"version":1}}}`, mustJSON(data))
}

func mustJSON(v any) string {
	var b bytes.Buffer
	fmt.Fprint(&b, "{")
	first := true
	for k, val := range v.(map[string]any) {
		if !first {
			b.WriteString(",")
		}
		first = false
		switch x := val.(type) {
		case string:
			fmt.Fprintf(&b, "%q:%q", k, x)
		default:
			fmt.Fprintf(&b, "%q:%v", k, x)
		}
	}
	b.WriteString("}")
	return b.String()
}

func envMap(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestPrecedence(t *testing.T) {
	ctx := context.Background()
	cwd := t.TempDir()
	vault := newFakeVault(t, "root")
	// Each provider sets the variable named after itself and every variable
	// named after a provider above it, so v_X is set by X and by everything
	// below X: each case shows that X beats all providers below it.
	levels := []string{"cli", "static", "env_rc", "vault", "env", "dotenv", "default"}
	valuesFor := func(level string) map[string]string {
		m := map[string]string{}
		idx := 0
		for i, l := range levels {
			if l == level {
				idx = i
			}
		}
		for _, l := range levels[:idx+1] {
			m["v_"+l] = level
		}
		return m
	}
	var cliArgs []string
	for k, v := range valuesFor("cli") {
		cliArgs = append(cliArgs, k+"="+v)
	}
	cli, err := ParseCLI(cliArgs)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for k, v := range valuesFor("env_rc") {
		env["MYAPP_"+strings.ToUpper(k)] = v
	}
	for k, v := range valuesFor("vault") {
		vault.put("secret/app/"+k, map[string]any{"value": v})
	}
	for k, v := range valuesFor("env") {
		env["SPIN_VARIABLE_"+strings.ToUpper(k)] = v
	}
	var dotenv strings.Builder
	for k, v := range valuesFor("dotenv") {
		fmt.Fprintf(&dotenv, "SPIN_VARIABLE_%s=%s\n", strings.ToUpper(k), v)
	}
	writeFile(t, cwd, ".env", dotenv.String())
	rc := &runtimeconfig.Config{File: "rc.toml", VariablesProviders: []runtimeconfig.ProviderConfig{
		{Type: "static", Values: valuesFor("static")},
		{Type: "env", Prefix: "MYAPP"},
		{Type: "vault", URL: vault.URL, Token: "root", Mount: "secret", Prefix: "app"},
	}}
	chain, err := Chain(cli, rc, envMap(env), cwd)
	if err != nil {
		t.Fatal(err)
	}
	var decls []Variable
	for _, l := range levels {
		decls = append(decls, Variable{Name: "v_" + l, Default: ptr("default")})
	}
	r := NewResolver(decls, chain)
	for _, l := range levels {
		t.Run(l, func(t *testing.T) {
			got, err := r.Resolve(ctx, "v_"+l)
			if err != nil {
				t.Fatal(err)
			}
			if got != l {
				t.Errorf("v_%s = %q, want %q", l, got, l)
			}
		})
	}
	if err := r.CheckRequired(ctx); err != nil {
		t.Errorf("CheckRequired: %v", err)
	}
}

func TestCLILastWinsAndFiles(t *testing.T) {
	dir := t.TempDir()
	jsonFile := writeFile(t, dir, "vars.json", `{"a": "from-json", "b": "json-b"}`)
	tomlFile := writeFile(t, dir, "vars.TOML", "a = \"from-toml\"\nc = \"toml-c\"\n")
	valFile := writeFile(t, dir, "secret.txt", "line1\nline2\n")
	p, err := ParseCLI([]string{"a=first", "@" + jsonFile, "@" + tomlFile, "d=@" + valFile, "e=x=y", "f=", "b=last"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "from-toml", "b": "last", "c": "toml-c", "d": "line1\nline2\n", "e": "x=y", "f": ""}
	for k, w := range want {
		got, ok, err := p.Get(context.Background(), k)
		if err != nil || !ok || got != w {
			t.Errorf("%s = %q, %v, %v; want %q", k, got, ok, err, w)
		}
	}
	if _, ok, _ := p.Get(context.Background(), "zz"); ok {
		t.Error("zz found")
	}
	if p.Name() != "--variable" {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	nonString := writeFile(t, dir, "bad.json", `{"a": "ok", "n": 3}`)
	nested := writeFile(t, dir, "bad.toml", "[t]\nx = \"Sup3rSecret\"\n")
	notObject := writeFile(t, dir, "arr.json", `["Sup3rSecret"]`)
	yaml := writeFile(t, dir, "vars.yaml", "a: b\n")
	badName := writeFile(t, dir, "name.json", `{"API_KEY": "Sup3rSecret"}`)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"novalue"}, `--variable "novalue": want KEY=VALUE, KEY=@file, @file.json or @file.toml`},
		{[]string{"API_KEY=Sup3rSecret"}, `--variable API_KEY=...: invalid variable name: "API_KEY": invalid character 'A'. Variable names may contain only lower-case letters, numbers, and underscores.`},
		{[]string{"=Sup3rSecret"}, `invalid variable name: "": must not be empty`},
		{[]string{"@" + nonString}, "--variable @" + nonString + `: value of "n" must be a string, not a number`},
		{[]string{"@" + nested}, "--variable @" + nested + `: value of "t" must be a string, not a table`},
		{[]string{"@" + notObject}, "--variable @" + notObject + ": not a JSON object of string values"},
		{[]string{"@" + yaml}, `unsupported file type ".yaml": use a .json or .toml file`},
		{[]string{"@" + filepath.Join(dir, "missing.json")}, "missing.json: open "},
		{[]string{"x=@" + filepath.Join(dir, "missing.txt")}, "--variable x=...: read value file: open "},
		{[]string{"@" + badName}, `--variable @` + badName + `: invalid variable name: "API_KEY"`},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := ParseCLI(tc.args)
			if err == nil {
				t.Fatalf("want error containing %q", tc.want)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "Sup3rSecret") {
				t.Errorf("error leaks a value: %v", err)
			}
		})
	}
}

func TestValidateName(t *testing.T) {
	for _, good := range []string{"a", "abc", "a1b2c3", "a_1", "a_1_b_3", "api_key"} {
		if err := ValidateName(good); err != nil {
			t.Errorf("ValidateName(%q) = %v", good, err)
		}
	}
	for bad, want := range map[string]string{
		"":     `invalid variable name: "": must not be empty`,
		"aX":   `invalid variable name: "aX": invalid character 'X'. Variable names may contain only lower-case letters, numbers, and underscores.`,
		"x.y":  `invalid character '.'`,
		"x-y":  `invalid character '-'`,
		"1bc":  `invalid variable name: "1bc": must start with a lowercase ASCII letter`,
		"_x":   "must start with a lowercase ASCII letter",
		"x_":   `invalid variable name: "x_": must end with a lowercase ASCII letter or digit`,
		"a__b": `invalid variable name: "a__b": must not contain multiple consecutive underscores`,
		"é":    `invalid character 'é'`,
	} {
		err := ValidateName(bad)
		if err == nil || !errors.Is(err, ErrInvalidName) || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateName(%q) = %v, want %q", bad, err, want)
		}
	}
}

func TestResolveErrorsAndDefaults(t *testing.T) {
	ctx := context.Background()
	chain, err := Chain(nil, nil, envMap(map[string]string{"SPIN_VARIABLE_UNDECLARED": "u"}), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver([]Variable{
		{Name: "host", Default: ptr("localhost")},
		{Name: "empty", Default: ptr("")},
		{Name: "password", Required: true, Secret: true},
		{Name: "zeta", Required: true},
	}, chain)
	if v, err := r.Resolve(ctx, "host"); err != nil || v != "localhost" {
		t.Errorf("host = %q, %v", v, err)
	}
	if v, err := r.Resolve(ctx, "empty"); err != nil || v != "" {
		t.Errorf("empty = %q, %v", v, err)
	}
	_, err = r.Resolve(ctx, "password")
	if err == nil || err.Error() != `no provider resolved required variable "password"` || !errors.Is(err, ErrRequired) {
		t.Errorf("password: %v", err)
	}
	// Quirk 1.10-6: an undeclared name a provider supplies resolves.
	if v, err := r.Resolve(ctx, "undeclared"); err != nil || v != "u" {
		t.Errorf("undeclared = %q, %v", v, err)
	}
	_, err = r.Resolve(ctx, "nothing")
	if !errors.Is(err, ErrUndeclared) || !strings.Contains(err.Error(), `undeclared variable "nothing": it is not in [variables]`) {
		t.Errorf("nothing: %v", err)
	}
	if _, err := r.ResolveTemplate(ctx, template.MustParse("x{{ }}")); !errors.Is(err, ErrInvalidName) || err.Error() != `invalid variable name: "": must not be empty` {
		t.Errorf("empty name: %v", err)
	}
	err = r.CheckRequired(ctx)
	if err == nil || err.Error() != `no provider resolved required variable(s): ["password", "zeta"]` || !errors.Is(err, ErrRequired) {
		t.Errorf("CheckRequired = %v", err)
	}

	tpl := template.MustParse("redis://:{{ password }}@{{host}}:6379")
	if _, err := r.ResolveTemplate(ctx, tpl); err == nil || !strings.Contains(err.Error(), `required variable "password"`) {
		t.Errorf("ResolveTemplate = %v", err)
	}
	cli, _ := ParseCLI([]string{"password=Sup3rSecret", "zeta=z"})
	r2 := NewResolver([]Variable{{Name: "host", Default: ptr("localhost")}, {Name: "password", Required: true, Secret: true}, {Name: "zeta", Required: true}},
		append([]Provider{cli}, chain...))
	got, err := r2.ResolveTemplate(ctx, tpl)
	if err != nil || got != (template.Text{Value: "redis://:Sup3rSecret@localhost:6379", Source: tpl.String(), Secret: true}) {
		t.Errorf("ResolveTemplate = %+v, %v", got, err)
	}
	if got.Shown() != tpl.String() || got.Quote() != `"redis://:{{ password }}@{{host}}:6379"` {
		t.Errorf("a secret text shows %q", got.Quote())
	}
	plain, err := r2.ResolveTemplate(ctx, template.MustParse("{{ host }}/{{ zeta }}"))
	if err != nil || plain.Secret || plain.Shown() != "localhost/z" {
		t.Errorf("non-secret text = %+v, %v", plain, err)
	}
	if err := r2.CheckRequired(ctx); err != nil {
		t.Errorf("CheckRequired = %v", err)
	}
}

func TestSecretsNeverLogged(t *testing.T) {
	r := NewResolver([]Variable{{Name: "token", Required: true, Secret: true}, {Name: "plain", Default: ptr("p")}}, nil)
	if !r.IsSecret("token") || r.IsSecret("plain") || r.IsSecret("unknown") {
		t.Error("IsSecret")
	}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("resolved", "token", r.Loggable("token", "Sup3rSecret"), "plain", r.Loggable("plain", "visible"))
	out := buf.String()
	if strings.Contains(out, "Sup3rSecret") || !strings.Contains(out, `"token":"****"`) || !strings.Contains(out, `"plain":"visible"`) {
		t.Errorf("log = %s", out)
	}
	s := Secret("Sup3rSecret")
	if got := fmt.Sprintf("%v %s %#v %+v", s, s, s, s); strings.Contains(got, "Sup3rSecret") {
		t.Errorf("formatting leaks: %s", got)
	}
	if s.Reveal() != "Sup3rSecret" {
		t.Error("Reveal")
	}
	if r.Redact("token", "Sup3rSecret") != "****" || r.Redact("plain", "p") != "p" {
		t.Error("Redact")
	}
}

func TestEnvProvider(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dotenv := writeFile(t, dir, "conf/app.env", `# comment
export APP_EXPORTED=yes
APP_PLAIN = plain value # trailing comment
APP_SINGLE='a \n # not a comment'
APP_DOUBLE="line1\nline2 \"q\""
APP_EMPTY=
APP_HASH=a#b

APP_ENV_WINS=dotenv
`)
	p := NewEnv("APP", envMap(map[string]string{"APP_ENV_WINS": "env", "APP_API_KEY": "k"}), dotenv)
	for key, want := range map[string]string{
		"api_key":  "k",
		"exported": "yes",
		"plain":    "plain value",
		"single":   `a \n # not a comment`,
		"double":   "line1\nline2 \"q\"",
		"empty":    "",
		"hash":     "a#b",
		"env_wins": "env",
	} {
		got, ok, err := p.Get(ctx, key)
		if err != nil || !ok || got != want {
			t.Errorf("%s = %q, %v, %v; want %q", key, got, ok, err, want)
		}
	}
	if _, ok, err := p.Get(ctx, "missing"); ok || err != nil {
		t.Errorf("missing: %v %v", ok, err)
	}
	if p.EnvName("api_key") != "APP_API_KEY" {
		t.Error(p.EnvName("api_key"))
	}

	// A missing dotenv file has no values; a malformed one is an error that
	// names the file and line but not the values.
	p = NewEnv("APP", nil, filepath.Join(dir, "none.env"))
	if _, ok, err := p.Get(ctx, "x"); ok || err != nil {
		t.Errorf("missing file: %v %v", ok, err)
	}
	bad := writeFile(t, dir, "bad.env", "OK=1\nSup3rSecret\n")
	p = NewEnv("APP", nil, bad)
	_, _, err := p.Get(ctx, "x")
	if err == nil || !strings.Contains(err.Error(), "bad.env:2: want KEY=VALUE") || strings.Contains(err.Error(), "Sup3rSecret") {
		t.Errorf("bad dotenv: %v", err)
	}
	for _, content := range []string{"A='x\n", "A=\"x\n"} {
		p = NewEnv("APP", nil, writeFile(t, dir, "q.env", content))
		if _, _, err := p.Get(ctx, "a"); err == nil || !strings.Contains(err.Error(), "unterminated") {
			t.Errorf("%q: %v", content, err)
		}
	}
}

func TestChainDotenvPaths(t *testing.T) {
	ctx := context.Background()
	cwd := t.TempDir()
	writeFile(t, cwd, "conf/my.env", "MYAPP_FROM_RC_DOTENV=rc\n")
	writeFile(t, cwd, ".env", "SPIN_VARIABLE_FROM_CWD_DOTENV=cwd\nMYAPP_NOT_DEFAULT=x\n")
	rc := &runtimeconfig.Config{VariablesProviders: []runtimeconfig.ProviderConfig{{Type: "env", Prefix: "MYAPP", DotenvPath: "conf/my.env"}}}
	chain, err := Chain(nil, rc, nil, cwd)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 2 {
		t.Fatalf("chain = %v", chain)
	}
	r := NewResolver([]Variable{{Name: "from_rc_dotenv", Required: true}, {Name: "from_cwd_dotenv", Required: true}, {Name: "not_default", Required: true}}, chain)
	if v, err := r.Resolve(ctx, "from_rc_dotenv"); v != "rc" || err != nil {
		t.Errorf("from_rc_dotenv = %q %v", v, err)
	}
	if v, err := r.Resolve(ctx, "from_cwd_dotenv"); v != "cwd" || err != nil {
		t.Errorf("from_cwd_dotenv = %q %v", v, err)
	}
	// The rc env provider has no dotenv entry for it, and the default
	// provider's .env key has the wrong prefix.
	if _, err := r.Resolve(ctx, "not_default"); !errors.Is(err, ErrRequired) {
		t.Errorf("not_default: %v", err)
	}
}

func TestChainAzureNotSupported(t *testing.T) {
	rc := &runtimeconfig.Config{File: "rc.toml", VariablesProviders: []runtimeconfig.ProviderConfig{{Type: "azure_key_vault", Line: 7, VaultURL: "https://x", ClientSecret: "Sup3rSecret"}}}
	_, err := Chain(nil, rc, nil, "")
	if err == nil || !errors.Is(err, runtimeconfig.ErrNotSupported) || !strings.Contains(err.Error(), `rc.toml:7: variables provider type "azure_key_vault": not supported by redspin`) || strings.Contains(err.Error(), "Sup3rSecret") {
		t.Errorf("err = %v", err)
	}
}

func TestVault(t *testing.T) {
	ctx := context.Background()
	v := newFakeVault(t, "Sup3rToken")
	v.put("secret/app/api_key", map[string]any{"value": "from-vault"})
	v.put("secret/app/no_value", map[string]any{"other": "x"})
	v.put("secret/app/number", map[string]any{"value": 3})
	v.put("kv/top", map[string]any{"value": "no-prefix"})

	p := NewVault(v.URL+"/", "Sup3rToken", "secret", "app", nil)
	if got, ok, err := p.Get(ctx, "api_key"); err != nil || !ok || got != "from-vault" {
		t.Errorf("api_key = %q %v %v", got, ok, err)
	}
	if _, ok, err := p.Get(ctx, "absent"); ok || err != nil {
		t.Errorf("absent (404 falls through) = %v %v", ok, err)
	}
	for _, key := range []string{"no_value", "number"} {
		if _, _, err := p.Get(ctx, key); err == nil || !strings.Contains(err.Error(), `has no string field "value"`) {
			t.Errorf("%s: %v", key, err)
		}
	}
	if got, ok, err := NewVault(v.URL, "Sup3rToken", "kv", "", nil).Get(ctx, "top"); err != nil || !ok || got != "no-prefix" {
		t.Errorf("top = %q %v %v", got, ok, err)
	}
	if want := "/v1/secret/data/app/api_key"; v.paths[0] != want {
		t.Errorf("first request path = %q, want %q", v.paths[0], want)
	}

	// A bad token is an error (not a fall-through) and never shows the token.
	_, _, err := NewVault(v.URL, "wrong-Sup3rToken", "secret", "app", nil).Get(ctx, "api_key")
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "permission denied") || strings.Contains(err.Error(), "Sup3rToken") {
		t.Errorf("bad token: %v", err)
	}

	// Through a resolver: the provider error stops resolution and names
	// the variable and provider.
	r := NewResolver([]Variable{{Name: "api_key", Default: ptr("d")}}, []Provider{p})
	v.mu.Lock()
	v.fail = http.StatusInternalServerError
	v.mu.Unlock()
	_, err = r.Resolve(ctx, "api_key")
	if err == nil || !strings.Contains(err.Error(), `variable "api_key": vault provider (`+v.URL) || !strings.Contains(err.Error(), "500") {
		t.Errorf("resolve with failing vault: %v", err)
	}

	// A dead server is an error too.
	dead := NewVault("http://127.0.0.1:1", "t", "secret", "", nil)
	if _, _, err := dead.Get(ctx, "x"); err == nil {
		t.Error("dead vault: no error")
	}

	// Vault counts as able to supply required variables at startup.
	r = NewResolver([]Variable{{Name: "needed", Required: true}}, []Provider{dead, NewEnv("SPIN_VARIABLE", nil, "")})
	if err := r.CheckRequired(ctx); err != nil {
		t.Errorf("CheckRequired with vault = %v", err)
	}
}

func TestCheckRequiredProviderError(t *testing.T) {
	bad := writeFile(t, t.TempDir(), ".env", "broken line\n")
	r := NewResolver([]Variable{{Name: "x", Required: true}}, []Provider{NewEnv("SPIN_VARIABLE", nil, bad)})
	if err := r.CheckRequired(context.Background()); err == nil || !strings.Contains(err.Error(), `variable "x": env provider`) {
		t.Errorf("CheckRequired = %v", err)
	}
}

// A Vault lookup made while a message's span is in the context is a child
// client span of it, naming the variable and never its value; without a
// span (tracing off) nothing is recorded.
func TestVaultSpan(t *testing.T) {
	v := newFakeVault(t, "Sup3rToken")
	v.put("secret/api_key", map[string]any{"value": "from-vault"})
	p := NewVault(v.URL, "Sup3rToken", "secret", "", nil)
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	ctx, parent := tp.Tracer("test").Start(context.Background(), "message")
	if got, ok, err := p.Get(ctx, "api_key"); err != nil || !ok || got != "from-vault" {
		t.Fatalf("Get = %q %v %v", got, ok, err)
	}
	if _, _, err := NewVault(v.URL, "wrong", "secret", "", nil).Get(ctx, "api_key"); err == nil {
		t.Fatal("bad token: no error")
	}
	parent.End()
	if _, _, err := p.Get(context.Background(), "api_key"); err != nil {
		t.Fatal(err)
	}
	spans := rec.Ended()
	if len(spans) != 3 {
		t.Fatalf("%d spans ended, want 2 vault spans and the parent", len(spans))
	}
	for i, s := range spans[:2] {
		if s.Name() != "vault get" || s.Parent().SpanID() != parent.SpanContext().SpanID() || s.SpanKind() != trace.SpanKindClient {
			t.Errorf("span %d: %q, parent %v, kind %v", i, s.Name(), s.Parent().SpanID(), s.SpanKind())
		}
		for _, a := range s.Attributes() {
			if strings.Contains(a.Value.Emit(), "from-vault") || strings.Contains(a.Value.Emit(), "Sup3rToken") {
				t.Errorf("span %d attribute %s leaks a secret: %s", i, a.Key, a.Value.Emit())
			}
		}
	}
	if spans[0].Status().Code != codes.Unset || spans[1].Status().Code != codes.Error {
		t.Errorf("statuses %v, %v; want unset, error", spans[0].Status(), spans[1].Status())
	}
}
