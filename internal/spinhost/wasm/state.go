package wasm

import (
	"context"
	"errors"

	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/spinhost/mqtt"
	"github.com/redspin/redspin/internal/spinhost/mysql"
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/spinhost/outredis"
	"github.com/redspin/redspin/internal/spinhost/pg"
	"github.com/redspin/redspin/internal/spinhost/sqlite"
	"github.com/redspin/redspin/internal/spinhost/vars"
)

// Services are the Spin host interfaces of one component, built once at
// load. A nil field leaves its interfaces undefined (the host then links
// them as unsupported).
type Services struct {
	// Component is the component ID, used in messages.
	Component string
	Redis     *outredis.Client
	KV        *kv.Access
	Vars      *vars.Component
	// HTTP serves fermyon:spin/http and wasi-outbound-http.
	HTTP *outhttp.Client

	// httpMaxComponentBody caps a response body lowered into a component
	// (0 = DefaultMaxResultBytes).
	httpMaxComponentBody int
	// Postgres and MySQL are the outbound database hosts.
	Postgres *pg.Client
	MySQL    *mysql.Client
	SQLite   *sqlite.Access
	MQTT     *mqtt.Client
}

// Instance is the per-message state of the Spin host interfaces: the
// message's context, its Redis connections and its open stores. The host
// creates one per store with [Services.NewInstance], makes it reachable
// from the store's data (see [Holder]) and closes it when the store ends.
type Instance struct {
	ctx    context.Context
	svc    *Services
	redis  *outredis.Instance
	kv     *kv.Instance
	http   *outhttp.Instance
	pg     *pg.Instance
	mysql  *mysql.Instance
	sqlite *sqlite.Instance
	mqtt   *mqtt.Instance
}

// Holder is implemented by store data that carries an Instance; the
// adapters find their state through it. A *Instance is itself a Holder, so
// a host without other store data can set the Instance directly.
type Holder interface {
	SpinInstance() *Instance
}

// SpinInstance returns i.
func (i *Instance) SpinInstance() *Instance { return i }

// NewInstance returns the state for one message; ctx bounds every host
// call the guest makes (Redis commands, key-value operations, variable
// providers).
func (s *Services) NewInstance(ctx context.Context) *Instance {
	i := &Instance{ctx: ctx, svc: s}
	if s.Redis != nil {
		i.redis = s.Redis.NewInstance()
	}
	if s.KV != nil {
		i.kv = s.KV.NewInstance()
	}
	if s.HTTP != nil {
		i.http = s.HTTP.NewInstance(ctx)
	}
	if s.Postgres != nil {
		i.pg = s.Postgres.NewInstance()
	}
	if s.MySQL != nil {
		i.mysql = s.MySQL.NewInstance()
	}
	if s.SQLite != nil {
		i.sqlite = s.SQLite.NewInstance()
	}
	if s.MQTT != nil {
		i.mqtt = s.MQTT.NewInstance()
	}
	return i
}

// Close closes the instance's connections and store handles. Idempotent.
func (i *Instance) Close() error {
	var errs []error
	if i.redis != nil {
		errs = append(errs, i.redis.Close())
	}
	if i.kv != nil {
		errs = append(errs, i.kv.Close())
	}
	if i.http != nil {
		errs = append(errs, i.http.Close())
	}
	if i.pg != nil {
		errs = append(errs, i.pg.Close())
	}
	if i.mysql != nil {
		errs = append(errs, i.mysql.Close())
	}
	if i.sqlite != nil {
		errs = append(errs, i.sqlite.Close())
	}
	if i.mqtt != nil {
		errs = append(errs, i.mqtt.Close())
	}
	return errors.Join(errs...)
}

// errNoState is the trap for a host call in a store without an Instance.
var errNoState = errors.New("spin host interfaces: the store has no per-message state (host bug)")

// stateOf finds the Instance in a store's data.
func stateOf(data any) (*Instance, error) {
	if h, ok := data.(Holder); ok {
		if i := h.SpinInstance(); i != nil {
			return i, nil
		}
	}
	return nil, errNoState
}

// NewStoreData gives the host the per-message state for one store: an
// [Instance] bound to ctx, and the function that closes it once the store
// is gone. prev is the previous message's data on the same store (instance
// reuse; nil for none): the new Instance's handles continue after prev's,
// so that a handle the guest kept from that message is invalid here rather
// than another resource. With LinkComponent and LinkModule it makes
// *Services a host.Imports.
func (s *Services) NewStoreData(ctx context.Context, prev any) (any, func()) {
	i := s.NewInstance(ctx)
	if p, ok := prev.(*Instance); ok {
		i.continueAfter(p)
	}
	return i, func() { i.Close() }
}

// continueAfter makes every handle table of i continue after prev's.
func (i *Instance) continueAfter(prev *Instance) {
	if i.redis != nil && prev.redis != nil {
		i.redis.ContinueAfter(prev.redis)
	}
	if i.kv != nil && prev.kv != nil {
		i.kv.ContinueAfter(prev.kv)
	}
	if i.pg != nil && prev.pg != nil {
		i.pg.ContinueAfter(prev.pg)
	}
	if i.mysql != nil && prev.mysql != nil {
		i.mysql.ContinueAfter(prev.mysql)
	}
	if i.sqlite != nil && prev.sqlite != nil {
		i.sqlite.ContinueAfter(prev.sqlite)
	}
	if i.mqtt != nil && prev.mqtt != nil {
		i.mqtt.ContinueAfter(prev.mqtt)
	}
}
