package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/internal/redisurl"
	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/template"
	"github.com/redspin/redspin/internal/variables"
)

// ErrNoRedisTriggers is returned by [Load] for an app that has no Redis
// trigger (after -c filtering). `check` reports it as a finding, `up` as an error.
var ErrNoRedisTriggers = errors.New("the app has no Redis triggers: redspin runs only [[trigger.redis]] and [[trigger.redis-stream]] entries")

// ErrNoAddress is wrapped by [Load] when a Redis trigger has no address and no
// embedded Redis serves it.
var ErrNoAddress = errors.New("no Redis address")

// ErrUnknownComponentID is wrapped by Load's error when Options.ComponentIDs
// names a component the manifest does not have.
var ErrUnknownComponentID = errors.New("no such component")

// Options are the inputs of [Load] that come from the command line and the
// process environment. The zero value loads spin.toml from the working directory.
type Options struct {
	// From is -f/--from: a manifest file or a directory; "" searches upward for spin.toml.
	From string
	// Variables are the --variable arguments, in order.
	Variables []string
	// RuntimeConfigFile is --runtime-config-file; "" means none.
	RuntimeConfigFile string
	// Env are the -e/--env KEY=VALUE arguments, applied to every component.
	Env []string
	// ComponentIDs is -c/--component-id: run only these components.
	ComponentIDs []string
	// Embedded groups the triggers that have no address under one server
	// for an embedded Redis (Server.Embedded), to be pointed at it with
	// ServeEmbedded once it runs; false makes a missing address an error.
	Embedded bool
	// StateDir and LogDir are --state-dir and -L/--log-dir; nil means not given
	// and "" means explicitly unset.
	StateDir, LogDir *string
	// CacheDir holds downloaded component sources; "" uses the user cache dir.
	CacheDir string
	// SkipComponents skips reading and downloading Wasm sources (check --no-components).
	SkipComponents bool
	// AllowUnresolved makes a variable that no provider resolves a warning
	// instead of an error (check --allow-unresolved, for linting a manifest
	// without its secrets): a trigger address or channel, or an
	// allowed_outbound_hosts entry, that uses one is then kept unresolved
	// and shown as its template. false (the zero value) = error, as `up` needs.
	AllowUnresolved bool
	// AllowDependencies makes a component with `dependencies` a warning
	// (the manifest's own, with its position) instead of an error (check);
	// false (the zero value) = error, as `up` needs.
	AllowDependencies bool
	// Getenv reads the process environment (SPIN_VARIABLE_*); nil means os.Getenv.
	Getenv func(string) string
	// Cwd is the working directory for .env and relative display paths; "" means os.Getwd.
	Cwd string
}

// App is a resolved application, ready to be compiled and run.
type App struct {
	// Manifest is the loaded manifest.
	Manifest *manifest.Manifest
	// RuntimeConfig is the loaded runtime config, or nil.
	RuntimeConfig *runtimeconfig.Config
	// Resolver resolves application variables through the provider chain.
	Resolver *variables.Resolver
	// Servers are the distinct Redis servers, in first-use order.
	Servers []Server
	// Streams are the redis-stream triggers, in manifest order.
	Streams []StreamTrigger
	// Components are the components some Redis trigger runs, in manifest order.
	Components []*Component
	// IgnoredTriggerTypes are the trigger types redspin does not run.
	IgnoredTriggerTypes []string
	// Warnings are non-fatal findings, one line each.
	Warnings []string
	// StateDir is where key-value data and the embedded Redis URL live; "" means none.
	StateDir string
	// LogDir is where component stdio is written; "" means component output goes to stderr only.
	LogDir string
	// MaxInstanceMemory comes from the runtime config; 0 means not set.
	MaxInstanceMemory uint64

	stagingDir string
}

// Server is one Redis server and what is subscribed on it.
type Server struct {
	// Address is the resolved address as written; it may hold credentials,
	// so it is never printed.
	Address string
	// URL is the parsed address; nil when the address is unresolved
	// (Options.AllowUnresolved).
	URL *redisurl.URL
	// Display is host:port or the socket path; it never holds credentials.
	// When a secret variable went into the address, it is taken from the
	// address template instead (see addressDisplay), so it never holds a
	// secret either.
	Display string
	// Channels are sorted by name.
	Channels []Channel
	// Embedded marks the server of the triggers without an address
	// (Options.Embedded). Until ServeEmbedded, its Address is EmbeddedAddress
	// and its Display is "embedded".
	Embedded bool
}

// subscribe adds component to channel on s, unless it is there already
// (then it reports false).
func (s *Server) subscribe(channel Channel, component string) bool {
	i := slices.IndexFunc(s.Channels, func(c Channel) bool { return c.Name == channel.Name })
	if i < 0 {
		s.Channels = append(s.Channels, Channel{Name: channel.Name, Display: channel.Display})
		i = len(s.Channels) - 1
	}
	if slices.Contains(s.Channels[i].Components, component) {
		return false
	}
	s.Channels[i].Components = append(s.Channels[i].Components, component)
	return true
}

// EmbeddedAddress is the address of the embedded server before
// ServeEmbedded gives it the real one.
const EmbeddedAddress = "redis://embedded.invalid:6379"

// Channel is one subscribed channel and the components each message runs.
type Channel struct {
	// Name is the resolved channel name.
	Name string
	// Display is what output, logs and metrics show for the channel: Name,
	// or its template when a secret variable went into it.
	Display string
	// Components run for each message, in manifest order.
	Components []string
}

// Component is a component some Redis trigger runs.
type Component struct {
	// Spec is the manifest's component.
	Spec *manifest.Component
	// WasmPath is the local file holding the Wasm; "" when sources were skipped.
	WasmPath string
	// Env is the WASI environment: the manifest's environment, then -e overrides.
	Env map[string]string
	// Mounts are the read-only directories the guest sees.
	Mounts []Mount
	// AllowedOutboundHosts are the manifest's allowed_outbound_hosts with
	// their templates rendered; an entry that uses a secret variable is
	// secret as a whole (messages show it with [template.Text.Quote]).
	// Entries left unresolved (Options.AllowUnresolved) are not listed.
	AllowedOutboundHosts []template.Text
}

// ID returns the component ID.
func (c *Component) ID() string { return c.Spec.ID }

// Mount maps a host directory to a guest path.
type Mount struct {
	HostDir, GuestDir string
}

// Close removes the staging directory for component files.
func (a *App) Close() error {
	if a == nil || a.stagingDir == "" {
		return nil
	}
	return os.RemoveAll(a.stagingDir)
}

// ComponentIDs returns the IDs of the components that will run.
func (a *App) ComponentIDs() []string {
	ids := make([]string, len(a.Components))
	for i, c := range a.Components {
		ids[i] = c.ID()
	}
	return ids
}

// ServerFor returns the first server on which channel is subscribed.
func (a *App) ServerFor(channel string) (Server, bool) {
	for _, s := range a.Servers {
		for _, c := range s.Channels {
			if c.Name == channel {
				return s, true
			}
		}
	}
	return Server{}, false
}

// HasEmbedded reports whether some trigger needs the embedded Redis.
func (a *App) HasEmbedded() bool {
	return slices.ContainsFunc(a.Servers, func(s Server) bool { return s.Embedded }) ||
		slices.ContainsFunc(a.Streams, func(s StreamTrigger) bool { return s.Embedded })
}

// ServeEmbedded points the embedded server's triggers at the Redis at url.
// When a trigger names that same address explicitly, the two servers become
// one (one connection; a (channel, component) pair on both runs once).
func (a *App) ServeEmbedded(url string) error {
	u, err := redisurl.Parse(url)
	if err != nil {
		return fmt.Errorf("embedded Redis URL: %w", err)
	}
	if err := a.serveEmbeddedStreams(url, u); err != nil {
		return err
	}
	i := slices.IndexFunc(a.Servers, func(s Server) bool { return s.Embedded })
	if i < 0 {
		return nil
	}
	emb := a.Servers[i]
	emb.Address, emb.URL, emb.Display, emb.Embedded = url, u, u.Display(), false
	a.Servers = slices.Delete(a.Servers, i, i+1)
	j := slices.IndexFunc(a.Servers, func(s Server) bool { return s.Address == url })
	if j < 0 {
		a.Servers = slices.Insert(a.Servers, i, emb)
		return nil
	}
	into := &a.Servers[j]
	for _, ch := range emb.Channels {
		for _, comp := range ch.Components {
			if !into.subscribe(ch, comp) {
				a.Warnings = append(a.Warnings, diag.Sprintf("component %q is subscribed to channel %q on %s both explicitly and through the embedded Redis; it runs once per message", comp, ch.Display, into.Display))
			}
		}
	}
	slices.SortFunc(into.Channels, func(x, y Channel) int { return strings.Compare(x.Name, y.Name) })
	return nil
}

// Load resolves the application described by opts.
//
// # Errors
//
// Manifest and runtime-config errors carry the file, line and column. Trigger
// errors name the trigger. [ErrNoRedisTriggers] when nothing is left to run;
// the returned App is then still filled in as far as it was resolved.
func Load(ctx context.Context, opts Options) (*App, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Cwd == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, err
		}
		opts.Cwd = wd
	}
	path, err := manifest.Find(opts.From)
	if err != nil {
		return nil, err
	}
	m, mwarn, err := loadManifest(path, opts.CacheDir)
	if err != nil {
		return nil, err
	}
	a := &App{Manifest: m, IgnoredTriggerTypes: m.OtherTriggerTypes}
	for _, w := range mwarn {
		a.Warnings = append(a.Warnings, w.String())
	}
	for _, t := range m.OtherTriggerTypes {
		a.Warnings = append(a.Warnings, diag.Sprintf("trigger type %q is ignored: redspin runs only Redis triggers", t))
	}

	if opts.RuntimeConfigFile != "" {
		rc, rwarn, err := runtimeconfig.Load(opts.RuntimeConfigFile)
		if err != nil {
			return nil, err
		}
		a.RuntimeConfig = rc
		for _, w := range rwarn {
			a.Warnings = append(a.Warnings, w.String())
		}
		a.MaxInstanceMemory = rc.MaxInstanceMemory
	}
	a.StateDir = chooseDir(opts.StateDir, runtimeDir(a.RuntimeConfig, true), filepath.Join(m.Dir, ".spin"))
	a.LogDir = chooseDir(opts.LogDir, runtimeDir(a.RuntimeConfig, false), filepath.Join(a.StateDir, "logs"))
	if a.StateDir == "" && opts.LogDir == nil && runtimeDir(a.RuntimeConfig, false) == nil {
		a.LogDir = ""
	}

	cli, err := variables.ParseCLI(opts.Variables)
	if err != nil {
		return nil, err
	}
	providers, err := variables.Chain(cli, a.RuntimeConfig, opts.Getenv, opts.Cwd)
	if err != nil {
		return nil, err
	}
	a.Resolver = variables.NewResolver(declarations(m), providers)

	triggers, err := selectTriggers(m, opts.ComponentIDs)
	if err != nil {
		return a, err
	}
	streams := selectStreams(m, opts.ComponentIDs)
	if len(triggers) == 0 && len(streams) == 0 {
		return a, ErrNoRedisTriggers
	}
	if err := a.resolveServers(ctx, triggers, opts); err != nil {
		return a, err
	}
	if err := a.resolveStreams(ctx, streams, opts); err != nil {
		return a, err
	}
	if err := a.Resolver.CheckRequired(ctx); err != nil {
		if !opts.AllowUnresolved || !unresolved(err) {
			return a, err
		}
		a.Warnings = append(a.Warnings, err.Error()+" (redspin up will refuse to start)")
	}
	used := map[string]bool{}
	for _, t := range triggers {
		used[t.Component] = true
	}
	for _, t := range streams {
		used[t.Component] = true
	}
	if err := a.resolveComponents(ctx, used, opts); err != nil {
		a.Close()
		return a, err
	}
	return a, nil
}

func runtimeDir(rc *runtimeconfig.Config, state bool) *string {
	if rc == nil {
		return nil
	}
	if state {
		return rc.StateDir
	}
	return rc.LogDir
}

// chooseDir picks the flag, then the runtime config, then the default.
func chooseDir(flag, rc *string, def string) string {
	switch {
	case flag != nil:
		return *flag
	case rc != nil:
		return *rc
	}
	return def
}

func declarations(m *manifest.Manifest) []variables.Variable {
	names := make([]string, 0, len(m.Variables))
	for n := range m.Variables {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]variables.Variable, 0, len(names))
	for _, n := range names {
		v := m.Variables[n]
		out = append(out, variables.Variable{Name: n, Default: v.Default, Required: v.Required, Secret: v.Secret})
	}
	return out
}

// selectTriggers applies -c: triggers for other components are dropped.
func selectTriggers(m *manifest.Manifest, only []string) ([]manifest.RedisTrigger, error) {
	if len(only) == 0 {
		return m.RedisTriggers, nil
	}
	for _, id := range only {
		if _, ok := m.Components[id]; !ok {
			return nil, diag.Errorf("-c/--component-id %q: %w; valid ids: %s", id, ErrUnknownComponentID, strings.Join(m.ComponentIDs, ", "))
		}
	}
	var out []manifest.RedisTrigger
	for _, t := range m.RedisTriggers {
		if slices.Contains(only, t.Component) {
			out = append(out, t)
		}
	}
	return out, nil
}

func (a *App) resolveServers(ctx context.Context, triggers []manifest.RedisTrigger, opts Options) error {
	def, err := a.renderDefault(ctx, "redis", a.Manifest.RedisAddress, opts)
	if err != nil {
		return err
	}
	byServer := map[string]*Server{}
	var order []string
	for _, t := range triggers {
		srv, err := a.triggerServer(ctx, t, def, opts, byServer)
		if err != nil {
			return err
		}
		if _, seen := byServer[srv.Address]; !seen {
			byServer[srv.Address] = srv
			order = append(order, srv.Address)
		}
		channel, err := a.Render(ctx, t.Channel)
		switch {
		case err != nil && opts.AllowUnresolved && unresolved(err):
			channel = template.Text{Value: t.Channel, Source: t.Channel}
		case err != nil:
			return diag.Errorf("trigger %q: failed to resolve redis trigger channel %q for component %q: %w", t.ID, t.Channel, t.Component, err)
		case channel.Value == "":
			return diag.Errorf("trigger %q: channel %q resolves to an empty string", t.ID, t.Channel)
		}
		if !srv.subscribe(Channel{Name: channel.Value, Display: channel.Shown()}, t.Component) {
			a.Warnings = append(a.Warnings, diag.Sprintf("trigger %q: component %q is already subscribed to channel %s on %s; it runs once per message (Spin would run it twice)", t.ID, t.Component, channel.Quote(), srv.Display))
		}
	}
	for _, addr := range order {
		srv := byServer[addr]
		slices.SortFunc(srv.Channels, func(x, y Channel) int { return strings.Compare(x.Name, y.Name) })
		a.Servers = append(a.Servers, *srv)
	}
	return nil
}

// defaultAddress is the rendered [application.trigger.<type>] address.
type defaultAddress struct {
	template.Text
	// unresolved: a variable in it has no value (Options.AllowUnresolved); Source is the template.
	unresolved bool
}

// renderDefault renders the application default address expr of trigger type kind ("redis",
// "redis-stream"); "" stays empty.
func (a *App) renderDefault(ctx context.Context, kind, expr string, opts Options) (defaultAddress, error) {
	var def defaultAddress
	if expr == "" {
		return def, nil
	}
	t, err := a.Render(ctx, expr)
	switch {
	case err != nil && opts.AllowUnresolved && unresolved(err):
		def.unresolved, def.Source = true, expr
	case err != nil:
		return def, diag.Errorf("failed to resolve %s trigger default address %q: %w", kind, expr, err)
	}
	if !def.unresolved {
		def.Text = t
	}
	return def, nil
}

// triggerAddress is the resolved address of one trigger.
type triggerAddress struct {
	// Text is the address: Value what to connect to (it may hold credentials, so it is never printed),
	// Source its template; for an unresolved address Value is "unresolved:<template>".
	template.Text
	// URL is the parsed address; nil when unresolved.
	URL *redisurl.URL
	// Display is what output shows: host:port or the socket path, cut from the template when a secret
	// variable went into the address (addressDisplay), "embedded" for the embedded Redis.
	Display string
	// Embedded marks the embedded Redis (Value is EmbeddedAddress).
	Embedded bool
	// Unresolved: a variable in the address has no value (Options.AllowUnresolved).
	Unresolved bool
}

// resolveAddress resolves the address of trigger id (type kind: "redis" or "redis-stream", running
// component): its own template own, else def, the application default (which Spin renders a second
// time), else the embedded Redis when opts.Embedded. It parses the address (secret-aware: a secret's
// value never shows in an error), computes its Display, and adds a warning, once per address, when the
// URL has query parameters redspin ignores. Both trigger types resolve their addresses here, so they
// treat templates, secrets and URLs alike.
func (a *App) resolveAddress(ctx context.Context, kind, id, component, own string, def defaultAddress, opts Options) (triggerAddress, error) {
	var addr template.Text
	switch {
	case own != "":
		r, err := a.Render(ctx, own)
		if err != nil && opts.AllowUnresolved && unresolved(err) {
			return unresolvedAddress(own), nil
		}
		if err != nil {
			return triggerAddress{}, diag.Errorf("trigger %q: failed to resolve %s trigger address %q for component %q: %w", id, kind, own, component, err)
		}
		addr = r
	case def.unresolved:
		return unresolvedAddress(def.Source), nil
	case def.Value != "":
		r, err := a.Render(ctx, def.Value)
		if err != nil && def.Secret {
			// The template is part of the secret value: show neither.
			return triggerAddress{}, diag.Errorf("trigger %q: failed to resolve %s trigger default address %q a second time for component %q: its value holds a template that does not resolve", id, kind, def.Source, component)
		}
		if err != nil {
			return triggerAddress{}, diag.Errorf("trigger %q: failed to resolve %s trigger address %q for component %q: %w", id, kind, def.Value, component, err)
		}
		addr = template.Text{Value: r.Value, Source: def.Source, Secret: def.Secret || r.Secret}
	}
	if addr.Value == "" {
		if !opts.Embedded {
			return triggerAddress{}, fmt.Errorf("trigger %q (component %q): %w: set `address` in [[trigger.%s]] or [application.trigger.%s], or run with --embedded-redis to start an in-memory Redis", id, component, ErrNoAddress, kind, kind)
		}
		addr = template.Text{Value: EmbeddedAddress, Source: EmbeddedAddress}
	}
	var u *redisurl.URL
	var err error
	if addr.Secret {
		u, err = redisurl.ParseSecret(addr.Value, addr.Source)
	} else {
		u, err = redisurl.Parse(addr.Value)
	}
	if err != nil {
		return triggerAddress{}, diag.Errorf("trigger %q: address: %w", id, err)
	}
	ta := triggerAddress{Text: addr, URL: u, Display: u.Display()}
	switch {
	case addr.Value == EmbeddedAddress:
		ta.Embedded, ta.Display = true, "embedded"
	case addr.Secret:
		ta.Display = addressDisplay(addr.Source)
	}
	if len(u.Ignored) > 0 {
		if w := "Redis server " + ta.Display + ": " + ignoredMessage(u.Ignored, addr); !slices.Contains(a.Warnings, w) {
			a.Warnings = append(a.Warnings, w)
		}
	}
	return ta, nil
}

// unresolvedAddress is the address of a template that could not be resolved (Options.AllowUnresolved).
func unresolvedAddress(source string) triggerAddress {
	return triggerAddress{Text: template.Text{Value: "unresolved:" + source, Source: source},
		Display: addressDisplay(source) + " (unresolved)", Unresolved: true}
}

// triggerServer resolves the address of trigger t (resolveAddress) and returns its server from
// byServer, or a new one, which the caller records.
func (a *App) triggerServer(ctx context.Context, t manifest.RedisTrigger, def defaultAddress, opts Options, byServer map[string]*Server) (*Server, error) {
	addr, err := a.resolveAddress(ctx, "redis", t.ID, t.Component, t.Address, def, opts)
	if err != nil {
		return nil, err
	}
	if srv := byServer[addr.Value]; srv != nil {
		return srv, nil
	}
	return &Server{Address: addr.Value, URL: addr.URL, Display: addr.Display, Embedded: addr.Embedded}, nil
}

// ignoredMessage is the warning about ignored URL query parameters. For a
// secret address it names only the parameters written in its template: the
// others come from the secret value.
func ignoredMessage(names []string, addr template.Text) string {
	if !addr.Secret {
		return redisurl.IgnoredMessage(names)
	}
	var shown []string
	for _, n := range names {
		if strings.Contains(addr.Source, n+"=") {
			shown = append(shown, n)
		}
	}
	if len(shown) == len(names) {
		return redisurl.IgnoredMessage(names)
	}
	hidden := fmt.Sprintf("%d unknown query parameter(s) that a secret variable supplies (not named)", len(names)-len(shown))
	if len(shown) == 0 {
		return "ignoring " + hidden + ": redspin reads only protocol (and db, user, pass for unix sockets)"
	}
	return redisurl.IgnoredMessage(shown) + "; also " + hidden
}

// addressDisplay is what output shows for a server whose address a secret
// variable went into: the address template cut down as [redisurl.URL.Display]
// cuts a URL, to host:port or the socket path, so that neither credentials
// nor the query are shown: "redis://:{{ pw }}@cache:6379/1?x=y" shows as
// "cache:6379" and "{{ url }}" as "{{ url }}".
// "redis+sentinel://:{{ pw }}@s1,s2/mymaster/1" shows as "s1,s2/mymaster".
func addressDisplay(source string) string {
	s := source
	sentinel := false
	if i := strings.Index(s, "://"); i >= 0 {
		sentinel = strings.HasSuffix(strings.ToLower(s[:i]), "+sentinel")
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.Index(s, "/"); i > 0 {
		// The database number; a sentinel URL keeps its service name
		// ("s1:26379,s2:26379/mymaster"), as Display does.
		if j := strings.Index(s[i+1:], "/"); sentinel && j >= 0 {
			s = s[:i+1+j]
		} else if !sentinel {
			s = s[:i]
		}
	}
	if s == "" {
		return "(address hidden)"
	}
	return s
}

// unresolved reports whether err is a variable that no provider resolves.
func unresolved(err error) bool {
	return errors.Is(err, variables.ErrRequired) || errors.Is(err, variables.ErrUndeclared)
}

// Render resolves a template with the app's providers, as Load resolves
// trigger addresses and channels; the result knows whether a secret
// variable went into it.
func (a *App) Render(ctx context.Context, expr string) (template.Text, error) {
	t, err := template.Parse(expr)
	if err != nil {
		return template.Text{}, err
	}
	return a.Resolver.ResolveTemplate(ctx, t)
}

// resolveComponents resolves the components some trigger runs (used).
func (a *App) resolveComponents(ctx context.Context, used map[string]bool, opts Options) error {
	overrides, err := parseEnv(opts.Env)
	if err != nil {
		return err
	}
	cacheDir := opts.CacheDir
	if cacheDir == "" {
		cacheDir = DefaultCacheDir()
	}
	if cacheDir == "" {
		cacheDir = filepath.Join(a.StateDir, "cache")
	}
	for _, id := range a.Manifest.ComponentIDs {
		if !used[id] {
			continue
		}
		spec := a.Manifest.Components[id]
		// With AllowDependencies, the manifest's own warning (with its
		// position) is the only one.
		if spec.HasDependencies && !opts.AllowDependencies {
			return diag.Errorf("component %q has `dependencies`: redspin does not compose components yet, so its dependency imports would trap", id)
		}
		c := &Component{Spec: spec, Env: map[string]string{}}
		for k, v := range spec.Environment {
			c.Env[k] = v
		}
		for k, v := range overrides {
			c.Env[k] = v
		}
		for _, h := range spec.AllowedOutboundHosts {
			r, err := a.Render(ctx, h)
			if err != nil && opts.AllowUnresolved && unresolved(err) {
				a.Warnings = append(a.Warnings, diag.Sprintf("component %q: allowed_outbound_hosts entry %q is left out: %v", id, h, err))
				continue
			}
			if err != nil {
				return diag.Errorf("component %q: allowed_outbound_hosts entry %q: %w", id, h, err)
			}
			c.AllowedOutboundHosts = append(c.AllowedOutboundHosts, r)
		}
		if !opts.SkipComponents {
			p, err := manifest.FetchSource(ctx, a.Manifest, spec, filepath.Join(cacheDir, "sources"))
			if err != nil {
				return err
			}
			c.WasmPath = p
			if err := a.stageFiles(c); err != nil {
				return err
			}
		}
		a.Components = append(a.Components, c)
	}
	return nil
}

func parseEnv(args []string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range args {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, diag.Errorf("-e/--env %q: expected KEY=VALUE", kv)
		}
		out[k] = v
	}
	return out, nil
}
