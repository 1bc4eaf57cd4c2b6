package manifest

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redspin/redspin/internal/diag"
	"github.com/redspin/redspin/internal/template"
)

// finalize normalises the model (trigger IDs, inline components), runs the
// cross-checks (component references, templates, allowed hosts) and builds
// the Manifest.
func finalize(p *problems, mod *model) *Manifest {
	normalizeTriggerIDs(mod)
	normalizeInlineComponents(p, mod)

	m := &Manifest{
		Name: mod.name, Version: mod.version, Description: mod.description, Authors: mod.authors,
		Variables:    mod.variables,
		RedisAddress: mod.redisAddress,
		ComponentIDs: mod.order,
		Components:   mod.comps,
	}
	if mod.hasRedisAddress {
		m.RedisAddressLine = p.idx.lookup(mod.redisAddressPath).line
		checkTriggerTemplate(p, mod, mod.redisAddressPath, "[application.trigger.redis]", "address", mod.redisAddress)
	}
	m.StreamAddress = mod.streamAddress
	if mod.hasStreamAddress {
		checkTriggerTemplate(p, mod, mod.streamAddressPath, "[application.trigger.redis-stream]", "address", mod.streamAddress)
	}

	redisComps := map[string]bool{}
	other := map[string]bool{}
	for _, tr := range mod.triggers {
		t := Trigger{ID: tr.id, Type: tr.typ, Line: p.idx.lookup(tr.path).line}
		ctx := diag.Sprintf("trigger %q", tr.id)
		for _, s := range append([]*compSpec{tr.component}, tr.components...) {
			if s == nil {
				continue
			}
			t.Components = append(t.Components, s.ref)
			if _, ok := mod.comps[s.ref]; !ok {
				p.errAt(s.path, ctx, errf(ErrUnknownComponent,
					"component %q is not defined; define [component.%s] or use one of: %s", s.ref, s.ref, listOrNone(mod.order)))
			}
		}
		m.Triggers = append(m.Triggers, t)
		if tr.typ == StreamTriggerType {
			finalizeStream(p, mod, m, tr, t.Line)
			if tr.component != nil {
				redisComps[tr.component.ref] = true
			}
			continue
		}
		if tr.typ != "redis" {
			other[tr.typ] = true
			continue
		}
		rt := RedisTrigger{ID: tr.id, Channel: tr.channel, Address: tr.address, Line: t.Line}
		if tr.component != nil {
			rt.Component = tr.component.ref
			redisComps[rt.Component] = true
		}
		checkTriggerTemplate(p, mod, join(tr.path, "channel"), ctx, "channel", tr.channel)
		if tr.hasAddress {
			checkTriggerTemplate(p, mod, join(tr.path, "address"), ctx, "address", tr.address)
		}
		m.RedisTriggers = append(m.RedisTriggers, rt)
	}
	m.OtherTriggerTypes = sortedKeys(other)

	for _, id := range mod.order {
		c := mod.comps[id]
		finalizeComponent(p, mod, c, redisComps[id])
	}
	return m
}

func listOrNone(ids []string) string {
	if len(ids) == 0 {
		return "(no components are defined)"
	}
	return "[" + strings.Join(ids, ", ") + "]"
}

// normalizeTriggerIDs gives every trigger without an ID
// "<component>-<type>-trigger", or "<type>-trigger<N>" when that is taken or
// the component is inline, as Spin does.
func normalizeTriggerIDs(mod *model) {
	taken := map[string]bool{}
	for _, tr := range mod.triggers {
		taken[tr.id] = true
	}
	counter := map[string]int{}
	for _, tr := range mod.triggers {
		if tr.id != "" {
			continue
		}
		if tr.component != nil && tr.component.inline == nil {
			cand := tr.component.ref + "-" + tr.typ + "-trigger"
			if !taken[cand] {
				tr.id = cand
				taken[cand] = true
				continue
			}
		}
		n := max(counter[tr.typ], 1)
		for taken[fmt.Sprintf("%s-trigger%d", tr.typ, n)] {
			n++
		}
		counter[tr.typ] = n
		tr.id = fmt.Sprintf("%s-trigger%d", tr.typ, n)
		taken[tr.id] = true
	}
	for _, tr := range mod.triggers {
		tr.ctx = diag.Sprintf("trigger %q", tr.id)
	}
}

// normalizeInlineComponents moves inline components into the component map
// as "<trigger-id>-component", or "inline-component<N>" when that ID is
// invalid or taken or the trigger has several component specs.
func normalizeInlineComponents(p *problems, mod *model) {
	for _, tr := range mod.triggers {
		specs := tr.components
		if tr.component != nil {
			specs = append([]*compSpec{tr.component}, specs...)
		}
		multiple := len(specs) > 1
		counter := 1
		for _, s := range specs {
			if s.inline == nil {
				continue
			}
			id := tr.id + "-component"
			if _, taken := mod.comps[id]; multiple || checkComponentID(id) != nil || taken {
				for {
					id = fmt.Sprintf("inline-component%d", counter)
					if _, taken := mod.comps[id]; !taken {
						break
					}
					counter++
				}
			}
			s.inline.ID = id
			s.ref = id
			mod.addComponent(p, s.inline)
			s.inline = nil
		}
	}
}

// checkTriggerTemplate parses a trigger address or channel template. Names
// must be valid; undeclared ones are allowed (a provider may supply them,
// Spin quirk 1.10-6) with a warning.
func checkTriggerTemplate(p *problems, mod *model, path, ctx, field, s string) {
	t, err := template.Parse(s)
	if err != nil {
		p.errAt(path, ctx, wrapf(ErrInvalidTemplate, err, "`%s` %q", field, s))
		return
	}
	for _, name := range t.Vars() {
		if err := checkKey(name); err != nil {
			p.errAt(path, ctx, wrapf(ErrInvalidTemplate, err, "`%s` %q", field, s))
			continue
		}
		if _, ok := mod.variables[name]; !ok {
			p.warnAt(path, diag.Sprintf("%s: `%s` uses undeclared variable %q; it must be supplied by a provider (e.g. SPIN_VARIABLE_%s) — declare it in [variables] to be safe",
				ctx, field, name, strings.ToUpper(name)))
		}
	}
}

// checkAppTemplate parses a template that may name only declared application
// variables (component variables, allowed hosts).
func checkAppTemplate(mod *model, s string) (template.Template, error) {
	t, err := template.Parse(s)
	if err != nil {
		return t, wrapf(ErrInvalidTemplate, err, "invalid variable template %q", s)
	}
	for _, name := range t.Vars() {
		if _, ok := mod.variables[name]; !ok {
			return t, errf(ErrUnknownVariable, "invalid variable template %q: unknown variable %q (declare it in [variables])", s, name)
		}
	}
	return t, nil
}

// finalizeComponent converts deprecated fields and validates templates and
// allowed hosts. Warnings about fields redspin does not act on are given
// only for components a Redis trigger runs.
func finalizeComponent(p *problems, mod *model, c *Component, used bool) {
	ctx := diag.Sprintf("component %q", c.ID)
	for _, d := range c.depRefs {
		if _, ok := mod.comps[d.component]; !ok {
			p.errAt(d.path, ctx, errf(ErrUnknownComponent, "dependency %q: dependency ID %s does not exist", d.name, d.component))
		}
	}
	convertHosts(p, mod, c, ctx)
	if used {
		warnUnsupported(p, c, ctx)
	}

	for _, k := range sortedKeys(c.Variables) {
		if _, err := checkAppTemplate(mod, c.Variables[k]); err != nil {
			p.errAt(join(join(c.path, "variables"), k), ctx, diag.Errorf("variable %q: %w", k, err))
		}
	}

	hostsPath := join(c.path, "allowed_outbound_hosts")
	if len(c.AllowedOutboundHosts) == 1 && c.AllowedOutboundHosts[0] == allowAll {
		p.errAt(hostsPath, ctx, errf(ErrInvalidAllowedHost,
			"'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to allow all outbound traffic'"))
	} else {
		for i, h := range c.AllowedOutboundHosts {
			if err := checkHostEntry(mod, h); err != nil {
				p.errAt(index(hostsPath, i), ctx, err)
			}
		}
	}
}

// checkHostEntry validates one allowed_outbound_hosts entry, substituting
// variable defaults; entries with a variable that has no default are
// checked only for their template syntax.
func checkHostEntry(mod *model, h string) error {
	t, err := checkAppTemplate(mod, h)
	if err != nil {
		return wrapf(ErrInvalidAllowedHost, err, "allowed_outbound_hosts entry %q", h)
	}
	if t.IsLiteral() {
		if err := checkAllowedHost(h); err != nil {
			return wrapf(ErrInvalidAllowedHost, err, "allowed_outbound_hosts entry %q", h)
		}
		return nil
	}
	errNoDefault := errors.New("no default")
	secret := false
	resolved, err := t.Render(func(name string) (string, error) {
		v := mod.variables[name]
		secret = secret || v.Secret
		if v.Default != nil {
			return *v.Default, nil
		}
		return "", errNoDefault
	})
	if err != nil || resolved == "" || resolved == "http://" || resolved == "https://" {
		return nil
	}
	if err := checkAllowedHost(resolved); err != nil {
		if secret {
			// The value, and so the reason, would show the secret default.
			return errf(ErrInvalidAllowedHost,
				"allowed_outbound_hosts entry %q: using default variable value(s) with template %q results in invalid config (not shown: a secret variable went into it)", h, h)
		}
		return wrapf(ErrInvalidAllowedHost, err,
			"allowed_outbound_hosts entry %q: using default variable value(s) with template %q results in invalid config %q", h, h, resolved)
	}
	return nil
}

// convertHosts folds deprecated allowed_http_hosts into
// AllowedOutboundHosts: silently for V1 (which also gets Spin's database
// default when allowed_outbound_hosts is absent), with Spin's deprecation
// warning for V2.
func convertHosts(p *problems, mod *model, c *Component, ctx string) {
	path := join(c.path, "allowed_http_hosts")
	databases := mod.v1 && !c.hasAllowed
	conv, err := convertAllowedHTTPHosts(c.allowedHTTP, databases)
	if err != nil {
		p.errAt(path, ctx, wrapf(ErrInvalidAllowedHost, err, "`allowed_http_hosts` is malformed"))
		return
	}
	if !mod.v1 && len(conv) > 0 {
		q := make([]string, len(conv))
		for i, h := range conv {
			q[i] = diag.Sprintf("%q", h)
		}
		p.warnAt(path, fmt.Sprintf("%s: Use of the deprecated field `allowed_http_hosts` - to fix, replace `allowed_http_hosts` with `allowed_outbound_hosts = [%s]`",
			ctx, strings.Join(q, ", ")))
	}
	c.AllowedOutboundHosts = append(slices.Clone(c.AllowedOutboundHosts), conv...)
	if c.AllowedOutboundHosts == nil {
		c.AllowedOutboundHosts = []string{}
	}
}

// warnUnsupported gives one warning per field that redspin parses but does
// not act on yet.
func warnUnsupported(p *problems, c *Component, ctx string) {
	if len(c.AIModels) > 0 {
		p.warnAt(join(c.path, "ai_models"), ctx+": `ai_models` is not supported by redspin yet; the component's LLM calls will fail")
	}
	if c.HasDependencies {
		p.warnAt(join(c.path, "dependencies"), ctx+": component `dependencies` are not supported by redspin yet (they are not composed, so imports they satisfy would trap); `redspin up` refuses to run this component")
	}
	if c.hasProfile {
		p.warnAt(join(c.path, "profile"), ctx+": component `profile` overrides are not supported by redspin yet; the default settings are used")
	}
}
