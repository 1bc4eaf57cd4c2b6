package manifest

import (
	"fmt"

	"github.com/redspin/redspin/internal/diag"
)

var (
	v1TopFields       = []string{"spin_manifest_version", "name", "version", "description", "authors", "trigger", "variables", "component"}
	v1ComponentFields = []string{"id", "source", "trigger", "description", "config", "environment", "files", "exclude_files",
		"allowed_http_hosts", "allowed_outbound_hosts", "key_value_stores", "sqlite_databases", "ai_models", "build"}
)

// parseV1 reads a V1 manifest and converts it to the V2 model as Spin's
// compat layer does: the app `trigger` table becomes
// [application.trigger.<type>], each [component.trigger] a trigger with ID
// `trigger-<component>`, `config` becomes component `variables`, and
// invalid component IDs are fixed (`_` → `-`, lower-cased).
func parseV1(p *problems, doc map[string]any) *model {
	m := newModel()
	m.v1 = true
	root := newTable(p, doc, "", "")
	root.raw("spin_manifest_version")
	if root.has("spin_version") {
		root.raw("spin_version")
	}
	m.name, _ = root.reqStr("name")
	m.version, _ = root.str("version")
	m.description, _ = root.str("description")
	m.authors, _ = root.strList("authors")

	typ := ""
	if tt, ok := root.sub("trigger", "trigger"); ok {
		typ, _ = tt.reqStr("type")
		if typ == "redis" {
			if addr, ok := tt.str("address"); ok {
				m.redisAddress, m.hasRedisAddress, m.redisAddressPath = addr, true, tt.keyPath("address")
			}
			tt.finish("type", "address")
		}
	} else if !root.has("trigger") {
		root.missing("trigger")
	}

	parseVariablesV1(p, root, m)

	if v, ok := root.raw("component"); ok {
		arr, isArr := v.([]any)
		if !isArr {
			root.errKey("component", typeErr("component", v, "an array of tables ([[component]])"))
		}
		for i, e := range arr {
			path := index("component", i)
			em, ok := e.(map[string]any)
			if !ok {
				p.errAt(path, "", typeErr("component", e, "a table"))
				continue
			}
			parseComponentV1(p, newTable(p, em, path, fmt.Sprintf("[[component]] #%d", i+1)), typ, m)
		}
	}
	root.finish(v1TopFields...)
	return m
}

func parseVariablesV1(p *problems, root *table, m *model) {
	vt, ok := root.sub("variables", "")
	if !ok {
		return
	}
	// V1 names are checked on conversion, with Spin's "invalid ID" text.
	for _, name := range vt.keys() {
		if err := checkVariableName(name); err != nil {
			vt.used[name] = true
			p.errAt(vt.keyPath(name), diag.Sprintf("variable %q", name), wrapf(ErrInvalidID, err, "invalid ID `%s`", name))
			delete(vt.m, name)
		}
	}
	parseVariables(p, root, m)
}

func parseComponentV1(p *problems, t *table, typ string, m *model) {
	rawID, ok := t.reqStr("id")
	if !ok {
		parseComponent(t, "", true)
		t.finish(v1ComponentFields...)
		return
	}
	id, err := fixV1ComponentID(rawID)
	if err != nil {
		t.errKey("id", wrapf(ErrInvalidID, err, "invalid ID `%s`", id))
		return
	}
	t.ctx = diag.Sprintf("component %q", id)
	c := parseComponent(t, id, true)
	c.Variables = parseComponentVariables(t, "config", true)
	trig, hasTrig := t.sub("trigger", "")
	if !hasTrig && !t.has("trigger") {
		t.missing("trigger")
	}
	t.finish(v1ComponentFields...)

	tr := &rawTrigger{typ: typ, id: "trigger-" + id, path: t.keyPath("trigger"),
		ctx: diag.Sprintf("trigger %q", "trigger-"+id), component: &compSpec{ref: id, path: t.path}}
	if hasTrig {
		trig.ctx = diag.Sprintf("component %q [component.trigger]", id)
		if typ == "redis" {
			if !trig.has("channel") {
				trig.missing("channel")
			} else {
				tr.channel, _ = trig.str("channel")
			}
			tr.address, tr.hasAddress = trig.str("address")
			trig.finish("channel", "address")
		}
	} else {
		tr.path = t.path
	}
	m.addComponent(p, c)
	if typ != "" {
		m.triggers = append(m.triggers, tr)
	}
}
