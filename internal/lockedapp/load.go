package lockedapp

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/manifest"
)

// Load reads the locked app at path and converts it with
// [LockedApp.Manifest]. Inline content goes to store, and digest-only
// content is looked up there.
func Load(path string, store *blobstore.Store) (*manifest.Manifest, []manifest.Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, &diag.Error{File: path, Err: fmt.Errorf("cannot read locked app: %w", err)}
	}
	l, err := Decode(data)
	if err != nil {
		return nil, nil, &diag.Error{File: path, Err: err}
	}
	dir, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, nil, &diag.Error{File: path, Err: err}
	}
	m, warnings, err := l.Manifest(path, dir, store)
	if err != nil {
		return nil, warnings, err
	}
	return m, warnings, nil
}

// converter carries what one conversion needs.
type converter struct {
	file, dir string
	store     *blobstore.Store
	warnings  []manifest.Warning
}

func (cv *converter) fail(key string, err error) error {
	return &diag.Error{File: cv.file, Key: key, Err: err}
}

func (cv *converter) warn(msg string) {
	cv.warnings = append(cv.warnings, manifest.Warning{File: cv.file, Message: msg})
}

// Manifest converts the locked app into the manifest shape redspin runs.
// file names the app in messages and becomes Manifest.File; dir (absolute)
// is Manifest.Dir and the base of relative file:// URIs. Redis triggers
// become RedisTriggers, redis-stream triggers StreamTriggers; other trigger
// types are listed, as for spin.toml.
//
// # Errors
//
// Errors name the trigger or component and wrap the manifest sentinels
// (manifest.ErrUnknownComponent, manifest.ErrInvalidTrigger,
// manifest.ErrInvalidSource, manifest.ErrInvalidValue) or
// [ErrUnsupportedFeature] for a required host feature of the app or of a
// component a Redis trigger runs.
func (l *LockedApp) Manifest(file, dir string, store *blobstore.Store) (*manifest.Manifest, []manifest.Warning, error) {
	cv := &converter{file: file, dir: dir, store: store}
	m := &manifest.Manifest{
		File: file, Dir: dir, SpinManifestVersion: 2,
		Name:          metaString(l.Metadata, "name"),
		Version:       metaString(l.Metadata, "version"),
		Description:   metaString(l.Metadata, "description"),
		Authors:       metaStrings(l.Metadata, "authors"),
		RedisAddress:  appAddress(l.Metadata, "redis"),
		StreamAddress: appAddress(l.Metadata, manifest.StreamTriggerType),
		Variables:     map[string]manifest.Variable{},
		Components:    map[string]*manifest.Component{},
	}
	if len(l.HostRequirements) > 0 {
		return nil, nil, cv.fail("", fmt.Errorf("%w: the app requires %s, which redspin does not implement", ErrUnsupportedFeature, keys(l.HostRequirements)))
	}
	for name, v := range l.Variables {
		mv := manifest.Variable{Default: v.Default, Required: v.Default == nil, Secret: v.Secret}
		if v.Description != nil {
			mv.Description = *v.Description
		}
		m.Variables[name] = mv
	}
	for i := range l.Components {
		c := &l.Components[i]
		if _, dup := m.Components[c.ID]; dup || c.ID == "" {
			return nil, nil, cv.fail(fmt.Sprintf("component %q", c.ID), fmt.Errorf("%w: component IDs must be unique and non-empty", manifest.ErrDuplicateComponent))
		}
		mc, err := cv.component(c)
		if err != nil {
			return nil, cv.warnings, err
		}
		m.ComponentIDs = append(m.ComponentIDs, c.ID)
		m.Components[c.ID] = mc
	}
	other := map[string]bool{}
	runs := map[string]bool{}
	for _, t := range l.Triggers {
		mt, rt, st, err := cv.trigger(t, m.Components)
		if err != nil {
			return nil, cv.warnings, err
		}
		m.Triggers = append(m.Triggers, mt)
		switch {
		case rt != nil:
			m.RedisTriggers = append(m.RedisTriggers, *rt)
			runs[rt.Component] = true
		case st != nil:
			m.StreamTriggers = append(m.StreamTriggers, *st)
			runs[st.Component] = true
		default:
			other[t.Type] = true
		}
	}
	for t := range other {
		m.OtherTriggerTypes = append(m.OtherTriggerTypes, t)
	}
	slices.Sort(m.OtherTriggerTypes)
	for _, c := range l.Components {
		if !runs[c.ID] {
			continue
		}
		key := fmt.Sprintf("component %q", c.ID)
		if len(c.HostRequirements) > 0 {
			return nil, cv.warnings, cv.fail(key, fmt.Errorf("%w: the component requires %s, which redspin does not implement", ErrUnsupportedFeature, keys(c.HostRequirements)))
		}
		mc := m.Components[c.ID]
		if mc.HasDependencies {
			cv.warn(key + ": component `dependencies` are not composed by redspin; `redspin up` refuses to run this component (push it with `spin registry push`, which composes them)")
		}
		if len(mc.AIModels) > 0 {
			cv.warn(key + ": `ai_models` are not supported by redspin yet; such calls will fail")
		}
	}
	return m, cv.warnings, nil
}

// trigger converts one trigger: rt is set for a redis trigger, st for a redis-stream trigger, neither
// for other types.
func (cv *converter) trigger(t Trigger, comps map[string]*manifest.Component) (mt manifest.Trigger, rt *manifest.RedisTrigger, st *manifest.StreamTrigger, err error) {
	key := fmt.Sprintf("trigger %q", t.ID)
	mt = manifest.Trigger{ID: t.ID, Type: t.Type}
	var cfg map[string]any
	if len(t.Config) > 0 && string(t.Config) != "null" {
		if err := json.Unmarshal(t.Config, &cfg); err != nil {
			return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: trigger_config must be an object: %v", manifest.ErrInvalidTrigger, err))
		}
	}
	comp, _ := cfg["component"].(string)
	if comp != "" {
		mt.Components = []string{comp}
		if _, ok := comps[comp]; !ok {
			return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: component %q is not defined in the locked app", manifest.ErrUnknownComponent, comp))
		}
	}
	if t.Type != "redis" && t.Type != manifest.StreamTriggerType {
		return mt, nil, nil, nil
	}
	if comp == "" {
		return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: a %s trigger needs a `component` in trigger_config", manifest.ErrInvalidTrigger, t.Type))
	}
	if len(t.Dependencies) > 0 {
		return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: trigger dependencies (middleware) are not supported by redspin", ErrUnsupportedFeature))
	}
	if t.Type == manifest.StreamTriggerType {
		st, err := streamTrigger(t.ID, t.Config)
		if err != nil {
			return mt, nil, nil, cv.fail(key, err)
		}
		return mt, nil, st, nil
	}
	channel, ok := cfg["channel"].(string)
	if !ok {
		return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: a Redis trigger needs a string `channel` in trigger_config", manifest.ErrInvalidTrigger))
	}
	addr, ok := cfg["address"].(string)
	if _, present := cfg["address"]; present && !ok {
		return mt, nil, nil, cv.fail(key, fmt.Errorf("%w: `address` must be a string", manifest.ErrInvalidTrigger))
	}
	return mt, &manifest.RedisTrigger{ID: t.ID, Component: comp, Channel: channel, Address: addr}, nil, nil
}

// component converts one component, resolving its source and files.
func (cv *converter) component(c *Component) (*manifest.Component, error) {
	key := fmt.Sprintf("component %q", c.ID)
	mc := &manifest.Component{
		ID:                   c.ID,
		Description:          metaString(c.Metadata, "description"),
		Variables:            c.Config,
		Environment:          c.Env,
		AllowedOutboundHosts: metaStrings(c.Metadata, "allowed_outbound_hosts"),
		KeyValueStores:       metaStrings(c.Metadata, "key_value_stores"),
		SQLiteDatabases:      metaStrings(c.Metadata, "databases"),
		AIModels:             metaStrings(c.Metadata, "ai_models"),
		HasDependencies:      len(c.Dependencies) > 0 || len(c.TriggerDependencies) > 0,
	}
	if mc.AllowedOutboundHosts == nil {
		mc.AllowedOutboundHosts = []string{}
	}
	src, err := cv.content(c.Source.ContentRef, true)
	if err != nil {
		return nil, cv.fail(key, fmt.Errorf("source: %w", err))
	}
	mc.Source = src
	for _, f := range c.Files {
		dest, err := GuestPath(f.Path)
		if err != nil {
			return nil, cv.fail(key, fmt.Errorf("files: %w", err))
		}
		s, err := cv.content(f.ContentRef, false)
		if err != nil {
			return nil, cv.fail(key, fmt.Errorf("files %q: %w", f.Path, err))
		}
		mc.Files = append(mc.Files, manifest.FileSpec{Source: s.Path, Destination: dest})
	}
	return mc, nil
}

// content resolves a ContentRef to a local path, or (for a Wasm source
// only) to a URL with its digest that manifest.FetchSource downloads.
func (cv *converter) content(ref ContentRef, wasm bool) (manifest.Source, error) {
	switch {
	case ref.Inline != nil:
		digest, p, err := cv.store.PutBytes(ref.Inline)
		if err != nil {
			return manifest.Source{}, err
		}
		if ref.Digest != "" && !strings.EqualFold(ref.Digest, digest) {
			return manifest.Source{}, fmt.Errorf("%w: inline content hashes to %s, not %s", manifest.ErrDigestMismatch, digest, ref.Digest)
		}
		return manifest.Source{Path: p}, nil
	case strings.HasPrefix(ref.Source, "file:"):
		p, err := FilePath(ref.Source)
		if err != nil {
			return manifest.Source{}, err
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(cv.dir, p)
		}
		return manifest.Source{Path: p}, nil
	case ref.Source != "":
		u, err := url.Parse(ref.Source)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return manifest.Source{}, fmt.Errorf("%w: unsupported source URI %q (want file://, http:// or https://)", manifest.ErrInvalidSource, ref.Source)
		}
		if !wasm {
			return manifest.Source{}, fmt.Errorf("%w: file content from %q: only file:// URIs, inline content and digests are supported for files", manifest.ErrInvalidSource, ref.Source)
		}
		if ref.Digest == "" {
			return manifest.Source{}, fmt.Errorf("%w: source %q has no digest", manifest.ErrInvalidSource, ref.Source)
		}
		return manifest.Source{URL: ref.Source, Digest: ref.Digest}, nil
	case ref.Digest != "":
		if _, err := blobstore.ParseDigest(ref.Digest); err != nil {
			return manifest.Source{}, fmt.Errorf("%w: %v", manifest.ErrInvalidSource, err)
		}
		p, ok := cv.store.Lookup(ref.Digest)
		if !ok {
			return manifest.Source{}, fmt.Errorf("%w: content %s is not in the cache (%s); pull the app from its registry again", manifest.ErrNotFound, ref.Digest, cv.store.Dir())
		}
		return manifest.Source{Path: p}, nil
	}
	return manifest.Source{}, fmt.Errorf("%w: content has no source, inline content or digest", manifest.ErrInvalidSource)
}

// GuestPath checks a files mount path and returns it as an absolute guest
// path. "/" and relative or absolute paths of plain names are accepted;
// "." and ".." segments, which could escape the mount root, are refused.
func GuestPath(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%w: empty mount path", manifest.ErrInvalidValue)
	}
	var segs []string
	for s := range strings.SplitSeq(strings.TrimPrefix(p, "/"), "/") {
		switch s {
		case "":
			continue
		case ".", "..":
			return "", fmt.Errorf("%w: mount path %q is not safe to join (no '.' or '..' segments)", manifest.ErrInvalidValue, p)
		}
		if strings.ContainsRune(s, '\\') || strings.ContainsRune(s, 0) {
			return "", fmt.Errorf("%w: mount path %q is not safe to join", manifest.ErrInvalidValue, p)
		}
		segs = append(segs, s)
	}
	return "/" + strings.Join(segs, "/"), nil
}

// FilePath returns the local path of a file:// URI (percent-decoded).
func FilePath(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "file" {
		return "", fmt.Errorf("%w: invalid file URI %q", manifest.ErrInvalidSource, s)
	}
	if u.Host != "" && u.Host != "localhost" {
		return "", fmt.Errorf("%w: file URI %q names host %q; only local files are supported", manifest.ErrInvalidSource, s, u.Host)
	}
	p := u.Path
	if p == "" {
		p = u.Opaque
	}
	if p == "" {
		return "", fmt.Errorf("%w: file URI %q has no path", manifest.ErrInvalidSource, s)
	}
	return filepath.FromSlash(p), nil
}

// FileURL returns the file:// URI of an absolute path.
func FileURL(p string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(p)}).String()
}

// appAddress reads the application default address of trigger type typ:
// metadata.triggers.<typ>.address, or the older metadata.trigger {type =
// typ, address}.
func appAddress(md map[string]any, typ string) string {
	if ts, ok := md["triggers"].(map[string]any); ok {
		if r, ok := ts[typ].(map[string]any); ok {
			if a, ok := r["address"].(string); ok {
				return a
			}
		}
	}
	if t, ok := md["trigger"].(map[string]any); ok && t["type"] == typ {
		if a, ok := t["address"].(string); ok {
			return a
		}
	}
	return ""
}

func metaString(md map[string]any, key string) string {
	s, _ := md[key].(string)
	return s
}

func metaStrings(md map[string]any, key string) []string {
	arr, ok := md[key].([]any)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(arr))
	for _, v := range arr {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func keys(m map[string]any) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}
