package wasm

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/redspin/redspin/internal/observe"
	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/spinhost/vars"
)

// DefaultMaxResultBytes is NewServices' default outbound Redis reply cap:
// the host's default component payload cap (host.DefaultMaxComponentPayload,
// `--max-component-payload`), since a reply is lowered into a component
// the same way a payload is (~74 bytes of memory per byte).
const DefaultMaxResultBytes = 8 << 20

// ComponentConfig is what [NewServices] needs to know about one component.
type ComponentConfig struct {
	// ID is the component ID.
	ID string
	// AllowedOutboundHosts are the component's allowed_outbound_hosts, with
	// templates resolved.
	AllowedOutboundHosts []string
	// KeyValueStores are the component's key_value_stores labels.
	KeyValueStores []string
	// Variables are the component's [component.<id>.variables] templates.
	Variables map[string]string
	// KV is the app's key-value manager; nil leaves key-value unsupported.
	KV *kv.Manager
	// Resolve renders variable templates with the app's providers; nil
	// leaves the variables interfaces unsupported.
	Resolve vars.Resolver
	// MaxResultBytes caps one outbound Redis reply; `redspin up` passes its
	// component payload cap (lists cross the C API one value per byte).
	// 0 or negative = DefaultMaxResultBytes.
	MaxResultBytes int
	// HTTPNetwork is the app's outbound network configuration (runtime
	// config [outbound_networking] and [[client_tls]]), shared by every
	// component; nil = nothing blocked, platform roots, no limit.
	HTTPNetwork *outhttp.Network
	// HTTPObserver records outbound HTTP requests for /metrics; nil = none.
	HTTPObserver observe.OutboundHTTPObserver
	// Logger receives refused-address and refused-store warnings.
	// default: discard.
	Logger *slog.Logger
}

// NewServices builds the host interfaces of one component, checking its
// configuration: every allowed_outbound_hosts entry must parse and every
// key_value_stores label must name a store. All problems are returned,
// joined, each naming the component.
func NewServices(c ComponentConfig) (*Services, error) {
	if c.MaxResultBytes <= 0 {
		c.MaxResultBytes = DefaultMaxResultBytes
	}
	var errs []error
	allowed, err := allowedhosts.Parse(c.AllowedOutboundHosts)
	if err != nil {
		errs = append(errs, fmt.Errorf("component %q: %w", c.ID, err))
	}
	var access *kv.Access
	if c.KV != nil {
		if err := c.KV.Check(c.ID, c.KeyValueStores); err != nil {
			errs = append(errs, err)
		}
		access = c.KV.Component(c.ID, c.KeyValueStores)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Services{
		Component: c.ID,
		Redis: outredis.New(outredis.Config{
			Component:      c.ID,
			Allowed:        allowed,
			MaxResultBytes: c.MaxResultBytes,
			Logger:         c.Logger,
		}),
		KV: access,
		HTTP: outhttp.New(outhttp.Config{
			Component: c.ID,
			Allowed:   allowed,
			Network:   c.HTTPNetwork,
			Observer:  c.HTTPObserver,
			Logger:    c.Logger,
		}),
		// A component's response body is lowered one value per byte, like
		// an outbound Redis reply: the same cap.
		httpMaxComponentBody: c.MaxResultBytes,
	}
	if c.Resolve != nil {
		s.Vars = vars.New(c.ID, c.Variables, c.Resolve)
	}
	return s, nil
}
