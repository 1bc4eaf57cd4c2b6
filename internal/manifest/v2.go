package manifest

import (
	"fmt"
	"strings"
)

// model is a parsed manifest before normalisation.
type model struct {
	name, version, description string
	authors                    []string
	redisAddress               string
	redisAddressPath           string
	hasRedisAddress            bool
	streamAddress              string // [application.trigger.redis-stream] address
	streamAddressPath          string
	hasStreamAddress           bool
	variables                  map[string]Variable
	triggers                   []*rawTrigger // type order (file), then array order
	comps                      map[string]*Component
	order                      []string
	v1                         bool
}

// compSpec is a trigger's reference to a component, or an inline one.
type compSpec struct {
	ref    string
	inline *Component
	path   string
}

// rawTrigger is one trigger before normalisation.
type rawTrigger struct {
	typ, id          string
	path, ctx        string
	component        *compSpec
	components       []*compSpec
	channel, address string
	hasAddress       bool
	stream           *rawStream // redis-stream triggers only
}

func newModel() *model {
	return &model{variables: map[string]Variable{}, comps: map[string]*Component{}}
}

// addComponent adds a component, reporting duplicates.
func (m *model) addComponent(p *problems, c *Component) {
	if _, dup := m.comps[c.ID]; dup {
		p.errAt(c.path, fmt.Sprintf("component %q", c.ID), errf(ErrDuplicateComponent, "duplicate component ID %q", c.ID))
		return
	}
	m.comps[c.ID] = c
	m.order = append(m.order, c.ID)
}

var (
	v2TopFields       = []string{"spin_manifest_version", "application", "variables", "trigger", "component"}
	v2AppFields       = []string{"name", "version", "description", "authors", "targets", "trigger", "tool"}
	variableFields    = []string{"description", "required", "default", "secret"}
	v2ComponentFields = []string{"source", "description", "variables", "environment", "files", "exclude_files",
		"allowed_http_hosts", "allowed_outbound_hosts", "key_value_stores", "sqlite_databases", "ai_models",
		"targets", "build", "tool", "dependencies_inherit_configuration", "dependencies", "profile"}
	redisTriggerFields = []string{"id", "component", "channel", "address"}
)

func parseV2(p *problems, doc map[string]any) *model {
	m := newModel()
	root := newTable(p, doc, "", "")
	if _, ok := root.raw("spin_manifest_version"); !ok {
		root.missing("spin_manifest_version") // detected through the V1 alias
	}

	if app, ok := root.sub("application", "application"); ok {
		m.name, _ = app.reqStr("name")
		m.version, _ = app.str("version")
		m.description, _ = app.str("description")
		m.authors, _ = app.strList("authors")
		parseTargets(app)
		if trig, ok := app.sub("trigger", ""); ok {
			for _, typ := range trig.keys() {
				tt, ok := trig.sub(typ, fmt.Sprintf("[application.trigger.%s]", typ))
				if ok && typ == StreamTriggerType {
					parseStreamAppTrigger(tt, m)
				}
				if !ok || typ != "redis" {
					continue
				}
				if addr, ok := tt.str("address"); ok {
					m.redisAddress, m.hasRedisAddress, m.redisAddressPath = addr, true, tt.keyPath("address")
				}
				tt.finish("address")
			}
		}
		parseToolTable(app)
		app.finish(v2AppFields...)
	} else if !root.has("application") {
		root.missing("application")
	}

	parseVariables(p, root, m)

	if v, ok := root.raw("trigger"); !ok {
		root.missing("trigger")
	} else if tm, ok := v.(map[string]any); !ok {
		root.errKey("trigger", typeErr("trigger", v, "a table of trigger arrays ([[trigger.<type>]])"))
	} else {
		tt := newTable(p, tm, "trigger", "")
		for _, typ := range tt.keys() {
			arr, ok := tt.m[typ].([]any)
			tt.used[typ] = true
			if !ok {
				tt.errKey(typ, typeErr("trigger."+typ, tt.m[typ], fmt.Sprintf("an array of tables ([[trigger.%s]])", typ)))
				continue
			}
			for i, e := range arr {
				path := index(join("trigger", typ), i)
				ctx := fmt.Sprintf("[[trigger.%s]] #%d", typ, i+1)
				em, ok := e.(map[string]any)
				if !ok {
					p.errAt(path, ctx, typeErr("trigger."+typ, e, "a table"))
					continue
				}
				m.triggers = append(m.triggers, parseTrigger(p, newTable(p, em, path, ctx), typ))
			}
		}
	}

	if ct, ok := root.sub("component", ""); ok {
		for _, id := range ct.keys() {
			ctx := fmt.Sprintf("component %q", id)
			if err := checkComponentID(id); err != nil {
				ct.used[id] = true
				ct.errKey(id, wrapf(ErrInvalidID, err, "invalid component ID %q", id))
				continue
			}
			t, ok := ct.sub(id, ctx)
			if !ok {
				continue
			}
			c := parseComponent(t, id, false)
			c.finishV2(t)
			m.addComponent(p, c)
		}
	}
	root.finish(v2TopFields...)
	return m
}

// finishV2 reports unknown component fields.
func (c *Component) finishV2(t *table) { t.finish(v2ComponentFields...) }

// parseVariables reads [variables].
func parseVariables(p *problems, root *table, m *model) {
	vt, ok := root.sub("variables", "")
	if !ok {
		return
	}
	for _, name := range vt.keys() {
		ctx := fmt.Sprintf("variable %q", name)
		if err := checkVariableName(name); err != nil {
			vt.used[name] = true
			p.errAt(vt.keyPath(name), ctx, wrapf(ErrInvalidID, err, "invalid variable name %q", name))
			continue
		}
		t, ok := vt.sub(name, ctx)
		if !ok {
			continue
		}
		var v Variable
		v.Line = p.idx.lookup(t.path).line
		v.Description, _ = t.str("description")
		v.Required, _ = t.boolean("required")
		if d, ok := t.str("default"); ok {
			v.Default = &d
		}
		v.Secret, _ = t.boolean("secret")
		t.finish(variableFields...)
		if v.Required == (v.Default != nil) {
			p.errAt(t.path, ctx, errf(ErrInvalidVariable, "must be `required` OR have a `default`"))
			continue
		}
		m.variables[name] = v
	}
}

// parseTrigger reads one [[trigger.<type>]] table.
func parseTrigger(p *problems, t *table, typ string) *rawTrigger {
	tr := &rawTrigger{typ: typ, path: t.path, ctx: t.ctx}
	tr.id, _ = t.str("id")
	if v, ok := t.raw("component"); ok {
		tr.component = parseComponentSpec(p, t.keyPath("component"), t.ctx, v)
	}
	if typ == StreamTriggerType {
		parseStreamTrigger(t, tr)
		return tr
	}
	if typ != "redis" {
		if v, ok := t.raw("components"); ok {
			parseComponentsMap(p, t, tr, v)
		}
		// Everything else (including HEAD's trigger-level `dependencies`) is
		// the type's own configuration, which redspin does not read.
		for k := range t.m {
			t.used[k] = true
		}
		return tr
	}
	if tr.component == nil && !t.has("component") {
		t.missing("component")
	}
	if !t.has("channel") {
		t.missing("channel")
	} else {
		tr.channel, _ = t.str("channel")
	}
	tr.address, tr.hasAddress = t.str("address")
	t.finish(redisTriggerFields...)
	return tr
}

// parseComponentsMap reads a trigger's `components` table: each value is
// one component spec or an array of them.
func parseComponentsMap(p *problems, t *table, tr *rawTrigger, v any) {
	cm, ok := v.(map[string]any)
	if !ok {
		t.errKey("components", typeErr("components", v, "a table"))
		return
	}
	ct := newTable(p, cm, t.keyPath("components"), t.ctx)
	for _, k := range ct.keys() {
		ct.used[k] = true
		path := ct.keyPath(k)
		if arr, ok := cm[k].([]any); ok {
			for i, e := range arr {
				if s := parseComponentSpec(p, index(path, i), t.ctx, e); s != nil {
					tr.components = append(tr.components, s)
				}
			}
			continue
		}
		if s := parseComponentSpec(p, path, t.ctx, cm[k]); s != nil {
			tr.components = append(tr.components, s)
		}
	}
}

// parseComponentSpec reads a component reference (ID string) or an inline
// component table.
func parseComponentSpec(p *problems, path, ctx string, v any) *compSpec {
	switch x := v.(type) {
	case string:
		if err := checkComponentID(x); err != nil {
			p.errAt(path, ctx, wrapf(ErrInvalidID, err, "invalid component ID %q", x))
			return nil
		}
		return &compSpec{ref: x, path: path}
	case map[string]any:
		t := newTable(p, x, path, "inline component in "+ctx)
		c := parseComponent(t, "", false)
		c.finishV2(t)
		c.Inline = true
		return &compSpec{inline: c, path: path}
	}
	p.errAt(path, ctx, typeErr("component", v, "a component ID or an inline component table"))
	return nil
}

// parseComponent reads the fields V1 and V2 components share, plus the V2
// ones when v1 is false. The caller reports unknown fields.
func parseComponent(t *table, id string, v1 bool) *Component {
	p := t.p
	c := &Component{ID: id, path: t.path, Line: p.idx.lookup(t.path).line}
	parseSource(t, c)
	c.Description, _ = t.str("description")
	if !v1 {
		c.Variables = parseComponentVariables(t, "variables", false)
	}
	c.Environment, _ = t.strMap("environment")
	c.Files = parseFiles(t)
	c.ExcludeFiles, _ = t.strList("exclude_files")
	c.allowedHTTP, _ = t.strList("allowed_http_hosts")
	c.hasAllowed = t.has("allowed_outbound_hosts")
	c.AllowedOutboundHosts, _ = t.strList("allowed_outbound_hosts")
	c.KeyValueStores = parseLabels(t, "key_value_stores")
	c.SQLiteDatabases = parseLabels(t, "sqlite_databases")
	c.AIModels, _ = t.strList("ai_models")
	if b, ok := t.sub("build", ""); ok {
		parseBuild(b, false)
	}
	if v1 {
		return c
	}
	parseTargets(t)
	parseToolTable(t)
	_, hasDIC := t.boolean("dependencies_inherit_configuration")
	if dt, ok := t.sub("dependencies", ""); ok {
		perDep, refs := parseDependencies(dt)
		c.depRefs = refs
		c.deps = dt.keys()
		c.HasDependencies = len(c.deps) > 0
		if hasDIC && perDep {
			t.errKey("dependencies_inherit_configuration", errf(ErrInvalidValue,
				"Component `%s` specifies both `dependencies_inherit_configuration` and per-dependency `inherit_configuration`. These are mutually exclusive; use one or the other.", id))
		}
	}
	if pt, ok := t.sub("profile", ""); ok {
		c.hasProfile = len(pt.m) > 0
		for _, name := range pt.keys() {
			prof, ok := pt.sub(name, t.ctx+" profile "+fmt.Sprintf("%q", name))
			if !ok {
				continue
			}
			if prof.has("source") {
				var tmp Component
				parseSource(prof, &tmp)
			}
			prof.strMap("environment")
			if dt, ok := prof.sub("dependencies", ""); ok {
				_, refs := parseDependencies(dt)
				c.depRefs = append(c.depRefs, refs...)
			}
			if b, ok := prof.sub("build", ""); ok {
				parseBuild(b, true)
			}
			prof.finish("source", "environment", "dependencies", "build")
		}
	}
	return c
}

// parseSource reads `source`: a path, { url, digest } or
// { registry?, package, version }.
func parseSource(t *table, c *Component) {
	v, ok := t.raw("source")
	if !ok {
		t.missing("source")
		return
	}
	switch x := v.(type) {
	case string:
		if x == "" {
			t.errKey("source", errf(ErrInvalidSource, "`source` must not be empty: give the path of a .wasm file relative to the manifest"))
		}
		c.Source.Path = x
	case map[string]any:
		st := newTable(t.p, x, t.keyPath("source"), t.ctx)
		switch {
		case st.has("url") || st.has("digest"):
			c.Source.URL, _ = st.reqStr("url")
			c.Source.Digest, _ = st.reqStr("digest")
			st.finish("url", "digest")
			if d := c.Source.Digest; st.has("digest") && !strings.HasPrefix(d, "sha256:") {
				st.errKey("digest", errf(ErrInvalidSource, "invalid `digest` %q; must start with 'sha256:'", d))
			}
		case st.has("package") || st.has("version") || st.has("registry"):
			c.Source.Registry, _ = st.str("registry")
			c.Source.Package, _ = st.reqStr("package")
			c.Source.Version, _ = st.reqStr("version")
			st.finish("registry", "package", "version")
		default:
			t.errKey("source", errf(ErrInvalidSource,
				"`source` must be a path (\"app.wasm\"), { url = \"...\", digest = \"sha256:...\" } or { registry = \"...\", package = \"...\", version = \"...\" }"))
		}
	default:
		t.errKey("source", typeErr("source", v, "a path string or a table"))
	}
}

// parseComponentVariables reads component variables (V2 `variables`, V1
// `config`): lower_snake_case names to template strings.
func parseComponentVariables(t *table, key string, v1 bool) map[string]string {
	vars, order := t.strMap(key)
	for _, k := range order {
		if err := checkVariableName(k); err != nil {
			if v1 {
				t.p.errAt(join(t.keyPath(key), k), t.ctx, wrapf(ErrInvalidID, err, "invalid ID `%s`", k))
			} else {
				t.p.errAt(join(t.keyPath(key), k), t.ctx, wrapf(ErrInvalidID, err, "invalid variable name %q", k))
			}
			delete(vars, k)
		}
	}
	return vars
}

// parseFiles reads `files`: globs or { source, destination } placements.
func parseFiles(t *table) []FileSpec {
	v, ok := t.raw("files")
	if !ok {
		return nil
	}
	arr, ok := v.([]any)
	if !ok {
		t.errKey("files", typeErr("files", v, "an array"))
		return nil
	}
	var out []FileSpec
	for i, e := range arr {
		path := index(t.keyPath("files"), i)
		switch x := e.(type) {
		case string:
			out = append(out, FileSpec{Glob: x})
		case map[string]any:
			ft := newTable(t.p, x, path, t.ctx)
			src, _ := ft.reqStr("source")
			dst, ok := ft.reqStr("destination")
			ft.finish("source", "destination")
			if ok && !strings.HasPrefix(dst, "/") {
				t.p.errAt(join(path, "destination"), t.ctx, errf(ErrInvalidValue,
					"`files` entry { source = %q, destination = %q }: destination must be an absolute guest path (e.g. \"/%s\")", src, dst, strings.TrimLeft(dst, "./")))
			}
			out = append(out, FileSpec{Source: src, Destination: dst})
		default:
			t.p.errAt(path, t.ctx, typeErr(fmt.Sprintf("files[%d]", i), e, "a glob string or { source, destination }"))
		}
	}
	return out
}

// parseLabels reads key_value_stores or sqlite_databases.
func parseLabels(t *table, key string) []string {
	labels, _ := t.strList(key)
	for i, l := range labels {
		if err := checkLabel(l); err != nil {
			t.p.errAt(index(t.keyPath(key), i), t.ctx, wrapf(ErrInvalidID, err, "`%s`", key))
		}
	}
	return labels
}

// parseBuild reads a build table (profiles allow only `command`).
func parseBuild(b *table, profile bool) {
	if v, ok := b.raw("command"); !ok {
		b.missing("command")
	} else {
		switch x := v.(type) {
		case string:
		case []any:
			for i, e := range x {
				if _, ok := e.(string); !ok {
					b.p.errAt(index(b.keyPath("command"), i), b.ctx, typeErr("build.command", e, "a string"))
				}
			}
		default:
			b.errKey("command", typeErr("build.command", v, "a string or an array of strings"))
		}
	}
	if profile {
		b.finish("command")
		return
	}
	b.str("workdir")
	b.strList("watch")
	b.finish("command", "workdir", "watch")
}

var targetFields = []string{"registry", "id", "url", "path"}

// parseTargets checks the shape of `targets` (accepted, not acted on).
func parseTargets(t *table) {
	v, ok := t.raw("targets")
	if !ok {
		return
	}
	arr, ok := v.([]any)
	if !ok {
		t.errKey("targets", typeErr("targets", v, "an array"))
		return
	}
	for i, e := range arr {
		switch x := e.(type) {
		case string:
		case map[string]any:
			// Spin 3.x: { registry, id } / { path }; HEAD: { url } / { path }.
			et := newTable(t.p, x, index(t.keyPath("targets"), i), t.ctx)
			for _, k := range targetFields {
				et.str(k)
			}
			et.finish(targetFields...)
		default:
			t.p.errAt(index(t.keyPath("targets"), i), t.ctx, typeErr("targets", e, "a string or a table"))
		}
	}
}

// parseToolTable checks that `tool` is a table of tables (ignored by Spin).
func parseToolTable(t *table) {
	tt, ok := t.sub("tool", "")
	if !ok {
		return
	}
	for _, k := range tt.keys() {
		tt.sub(k, "")
	}
}

var dependencyFields = []string{"version", "registry", "package", "export", "inherit_configuration", "path", "url", "digest", "component"}

// parseDependencies checks a dependencies table and reports whether any
// dependency sets inherit_configuration.
func parseDependencies(dt *table) (perDep bool, refs []depRef) {
	for _, name := range dt.keys() {
		v := dt.m[name]
		dt.used[name] = true
		path := dt.keyPath(name)
		switch x := v.(type) {
		case string:
		case map[string]any:
			d := newTable(dt.p, x, path, dt.ctx+fmt.Sprintf(" dependency %q", name))
			for _, k := range []string{"version", "registry", "package", "export", "path", "url", "digest", "component"} {
				d.str(k)
			}
			if ref, ok := x["component"].(string); ok {
				refs = append(refs, depRef{name: name, component: ref, path: join(path, "component")})
			}
			if iv, ok := d.raw("inherit_configuration"); ok {
				perDep = true
				switch y := iv.(type) {
				case bool:
				case []any:
					for _, e := range y {
						if _, ok := e.(string); !ok {
							d.errKey("inherit_configuration", typeErr("inherit_configuration", e, "a string"))
						}
					}
				default:
					d.errKey("inherit_configuration", typeErr("inherit_configuration", iv, "a boolean or an array of strings"))
				}
			}
			d.finish(dependencyFields...)
			forms := 0
			for _, k := range []string{"version", "path", "url", "component"} {
				if d.has(k) {
					forms++
				}
			}
			if forms != 1 || (d.has("url") != d.has("digest")) {
				dt.p.errAt(path, d.ctx, errf(ErrInvalidValue,
					"expected a version string, { version, registry?, package? }, { path }, { url, digest } or { component } (each with optional export and inherit_configuration)"))
			}
		default:
			dt.p.errAt(path, dt.ctx, typeErr(name, v, "a version string or a table"))
		}
	}
	return perDep, refs
}

// depRef is a dependency satisfied by another component of the app.
type depRef struct{ name, component, path string }
