package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	spinwasm "github.com/redspin/redspin/internal/spinhost/wasm"
)

// spinServices builds the Spin host interfaces (outbound Redis and HTTP,
// variables, key-value) for every component of a, and the app's key-value
// manager, which the caller closes after the host. maxReply caps one
// outbound Redis reply and one HTTP response body lowered into a component
// (0 = spinwasm.DefaultMaxResultBytes): `up` passes
// --max-component-payload, since a reply crosses into a component the same
// costly way a payload does. httpObs records outbound HTTP requests (nil =
// not recorded).
func spinServices(ctx context.Context, a *app.App, logger *slog.Logger, maxReply int, httpObs observe.OutboundHTTPObserver) (map[string]host.Imports, *kv.Manager, error) {
	cfg := kv.Config{StateDir: a.StateDir, Logger: logger}
	if a.RuntimeConfig != nil {
		cfg.Stores = a.RuntimeConfig.KeyValueStores
	}
	kvm, err := kv.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	resolve := func(ctx context.Context, expr string) (string, error) {
		t, err := a.Render(ctx, expr)
		return t.Value, err
	}
	network := httpNetwork(a.RuntimeConfig)
	out := map[string]host.Imports{}
	for _, c := range a.Components {
		hosts, err := allowedHosts(c)
		if err != nil {
			kvm.Close()
			return nil, nil, err
		}
		svc, err := spinwasm.NewServices(spinwasm.ComponentConfig{
			ID:                   c.ID(),
			AllowedOutboundHosts: hosts,
			KeyValueStores:       c.Spec.KeyValueStores,
			Variables:            c.Spec.Variables,
			KV:                   kvm,
			Resolve:              resolve,
			MaxResultBytes:       maxReply,
			HTTPNetwork:          network,
			HTTPObserver:         httpObs,
			Logger:               logger,
		})
		if err != nil {
			kvm.Close()
			return nil, nil, err
		}
		out[c.ID()] = svc
	}
	return out, kvm, nil
}

// httpNetwork is the app's outbound HTTP network from the runtime config's
// [outbound_networking] and [[client_tls]]; nil config = the defaults.
func httpNetwork(rc *runtimeconfig.Config) *outhttp.Network {
	n := &outhttp.Network{}
	if rc == nil {
		return n
	}
	if on := rc.OutboundNetworking; on != nil {
		n.BlockNetworks, n.BlockPrivate, n.MaxConnections = on.BlockNetworks, on.BlockPrivate, on.MaxTotalConnections
	}
	if oh := rc.OutboundHTTP; oh != nil {
		n.DisablePooling = !oh.ConnectionPooling
		if oh.MaxConnections > 0 && (n.MaxConnections == 0 || oh.MaxConnections < n.MaxConnections) {
			n.MaxConnections = oh.MaxConnections // the tighter of the two limits
		}
	}
	for _, t := range rc.ClientTLS {
		n.TLS = append(n.TLS, outhttp.ClientTLS{
			Components:    t.ComponentIDs,
			Hosts:         t.Hosts,
			PlatformRoots: t.UsePlatformRoots || t.UseWebPKIRoots,
			Roots:         t.Roots,
			Certificate:   t.Certificate,
		})
	}
	return n
}

// allowedHosts returns the component's rendered allowed_outbound_hosts. An
// entry that a secret variable went into is checked here, alone, so that an
// error names its template and never its value; the others are checked, with
// their values quoted, when the services are built.
func allowedHosts(c *app.Component) ([]string, error) {
	hosts := make([]string, 0, len(c.AllowedOutboundHosts))
	for _, h := range c.AllowedOutboundHosts {
		if h.Source != h.Value && allowedhosts.RendersEmpty(h.Value) {
			continue // an optional endpoint left empty, as in Spin
		}
		if h.Secret {
			if _, err := allowedhosts.Parse([]string{h.Value}); err != nil {
				return nil, fmt.Errorf("component %q: allowed_outbound_hosts entry %s is not a valid host (its value comes from a secret variable, so it is not shown): want <scheme>://<host>[:<port>], e.g. \"redis://cache.example:6379\"", c.ID(), h.Quote())
			}
		}
		hosts = append(hosts, h.Value)
	}
	return hosts, nil
}

// announceKeyValue prints Spin's line about the default store when some
// component may use it.
func announceKeyValue(w io.Writer, a *app.App, kvm *kv.Manager) {
	uses := slices.ContainsFunc(a.Components, func(c *app.Component) bool {
		return slices.Contains(c.Spec.KeyValueStores, kv.DefaultLabel)
	})
	if !uses {
		return
	}
	if p := kvm.DefaultPath(); p != "" {
		fmt.Fprintf(w, "Storing default key-value data to %q\n", displayPath(p))
	} else {
		fmt.Fprintf(w, "Storing default key-value data in %s\n", kvm.Summary(kv.DefaultLabel))
	}
}

// parseKeyValues parses --key-value KEY=VALUE arguments.
func parseKeyValues(args []string) ([]kv.Pair, error) {
	var pairs []kv.Pair
	for _, a := range args {
		k, v, ok := strings.Cut(a, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("--key-value %q: expected KEY=VALUE", a)
		}
		pairs = append(pairs, kv.Pair{Key: k, Value: []byte(v)})
	}
	return pairs, nil
}
