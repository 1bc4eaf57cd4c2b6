package lockedapp

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/redspin/redspin/internal/manifest"
)

// WasmContentType is the content type Spin's loader gives component sources.
const WasmContentType = "application/wasm"

// Resolved is where a component's content is on this machine.
type Resolved struct {
	// WasmPath is the component's Wasm file (absolute).
	WasmPath string
	// FilesDir is the directory holding the component's files laid out as
	// the guest sees them; "" means the component has no files.
	FilesDir string
}

// FromManifest builds the locked app Spin's loader builds from spin.toml
// (with files copied into one directory per component): metadata, variables,
// the redis and redis-stream triggers whose component is in resolved, and
// those components. Triggers of other types are left out: redspin cannot
// resolve their settings. A redis-stream trigger is written as Spin's loader
// writes a trigger type it does not build in: its table's keys as
// trigger_config, and [application.trigger.redis-stream] as
// metadata.triggers.redis-stream.
//
// # Errors
//
// A component with dependencies is refused: Spin composes them on push,
// redspin cannot.
func FromManifest(m *manifest.Manifest, resolved map[string]Resolved) (*LockedApp, error) {
	md := map[string]any{}
	setString(md, "name", m.Name)
	setString(md, "version", m.Version)
	setString(md, "description", m.Description)
	setStrings(md, "authors", m.Authors)
	if f, err := filepath.Abs(m.File); err == nil && m.File != "" {
		md["origin"] = FileURL(f)
	}
	global := map[string]any{}
	for typ, addr := range map[string]string{"redis": m.RedisAddress, manifest.StreamTriggerType: m.StreamAddress} {
		if addr != "" {
			global[typ] = map[string]any{"address": addr}
		}
	}
	md["triggers"] = global

	l := &LockedApp{Metadata: md, Triggers: []Trigger{}, Components: []Component{}}
	if len(m.Variables) > 0 {
		l.Variables = map[string]Variable{}
		for name, v := range m.Variables {
			lv := Variable{Default: v.Default, Secret: v.Secret}
			if v.Description != "" {
				lv.Description = &v.Description
			}
			l.Variables[name] = lv
		}
	}
	types := map[string]bool{}
	add := func(id, typ, component string, cfg any) error {
		if _, ok := resolved[component]; !ok {
			return nil
		}
		raw, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		l.Triggers = append(l.Triggers, Trigger{ID: id, Type: typ, Config: raw})
		types[typ] = true
		return nil
	}
	for _, t := range m.RedisTriggers {
		cfg := map[string]any{"component": t.Component, "channel": t.Channel}
		if t.Address != "" {
			cfg["address"] = t.Address
		}
		if err := add(t.ID, "redis", t.Component, cfg); err != nil {
			return nil, err
		}
	}
	for _, t := range m.StreamTriggers {
		if err := add(t.ID, manifest.StreamTriggerType, t.Component, streamConfigOf(t)); err != nil {
			return nil, err
		}
	}
	if len(types) == 1 {
		// Spin sets the older single-type form when the app has one trigger type.
		for typ := range types {
			single := map[string]any{"type": typ}
			if g, ok := global[typ].(map[string]any); ok {
				single["address"] = g["address"]
			}
			md["trigger"] = single
		}
	}
	for _, id := range m.ComponentIDs {
		r, ok := resolved[id]
		if !ok {
			continue
		}
		c := m.Components[id]
		if c.HasDependencies {
			return nil, fmt.Errorf("component %q has `dependencies`: redspin cannot compose components, so it cannot push this app; use `spin registry push`, which composes them", id)
		}
		cmd := map[string]any{}
		setString(cmd, "description", c.Description)
		setStrings(cmd, "allowed_outbound_hosts", c.AllowedOutboundHosts)
		setStrings(cmd, "key_value_stores", c.KeyValueStores)
		setStrings(cmd, "databases", c.SQLiteDatabases)
		setStrings(cmd, "ai_models", c.AIModels)
		lc := Component{
			ID:       id,
			Metadata: cmd,
			Source:   Source{ContentType: WasmContentType, ContentRef: ContentRef{Source: FileURL(r.WasmPath)}},
			Env:      c.Environment,
			Config:   c.Variables,
		}
		if r.FilesDir != "" {
			lc.Files = []ContentPath{{ContentRef: ContentRef{Source: FileURL(r.FilesDir)}, Path: "/"}}
		}
		l.Components = append(l.Components, lc)
	}
	return l, nil
}

func setString(md map[string]any, k, v string) {
	if v != "" {
		md[k] = v
	}
}

func setStrings(md map[string]any, k string, v []string) {
	if len(v) > 0 {
		md[k] = v
	}
}
