package manifest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/redspin/redspin/internal/diag"
)

// table walks one decoded TOML table strictly: every key read is marked, and
// finish reports the rest as unknown fields (Spin's deny_unknown_fields).
type table struct {
	m    map[string]any
	path string // key path in the position index
	ctx  string // error context, e.g. `component "x"`
	p    *problems
	used map[string]bool
}

func newTable(p *problems, m map[string]any, path, ctx string) *table {
	return &table{m: m, path: path, ctx: ctx, p: p, used: map[string]bool{}}
}

// keyPath is the index path of key in this table.
func (t *table) keyPath(key string) string { return join(t.path, key) }

// errKey records an error located at key.
func (t *table) errKey(key string, err error) { t.p.errAt(t.keyPath(key), t.ctx, err) }

// has reports whether key is present (without marking it).
func (t *table) has(key string) bool { _, ok := t.m[key]; return ok }

// raw returns the value of key and marks it used.
func (t *table) raw(key string) (any, bool) {
	v, ok := t.m[key]
	if ok {
		t.used[key] = true
	}
	return v, ok
}

// missing records Spin's "missing field" error.
func (t *table) missing(key string) {
	t.p.errAt(t.path, t.ctx, errf(ErrMissingField, "missing field `%s`", key))
}

// str reads an optional string.
func (t *table) str(key string) (string, bool) {
	v, ok := t.raw(key)
	if !ok {
		return "", false
	}
	s, isStr := v.(string)
	if !isStr {
		t.errKey(key, typeErr(key, v, "a string"))
		return "", false
	}
	return s, true
}

// reqStr reads a required string.
func (t *table) reqStr(key string) (string, bool) {
	if !t.has(key) {
		t.missing(key)
		return "", false
	}
	return t.str(key)
}

// boolean reads an optional boolean.
func (t *table) boolean(key string) (bool, bool) {
	v, ok := t.raw(key)
	if !ok {
		return false, false
	}
	b, isBool := v.(bool)
	if !isBool {
		t.errKey(key, typeErr(key, v, "a boolean"))
		return false, false
	}
	return b, true
}

// strList reads an optional array of strings.
func (t *table) strList(key string) ([]string, bool) {
	v, ok := t.raw(key)
	if !ok {
		return nil, false
	}
	arr, isArr := v.([]any)
	if !isArr {
		t.errKey(key, typeErr(key, v, "an array of strings"))
		return nil, false
	}
	out := make([]string, 0, len(arr))
	good := true
	for i, e := range arr {
		s, isStr := e.(string)
		if !isStr {
			t.p.errAt(index(t.keyPath(key), i), t.ctx, typeErr(fmt.Sprintf("%s[%d]", key, i), e, "a string"))
			good = false
			continue
		}
		out = append(out, s)
	}
	return out, good
}

// sub reads an optional sub-table.
func (t *table) sub(key, ctx string) (*table, bool) {
	v, ok := t.raw(key)
	if !ok {
		return nil, false
	}
	m, isMap := v.(map[string]any)
	if !isMap {
		t.errKey(key, typeErr(key, v, "a table"))
		return nil, false
	}
	if ctx == "" {
		ctx = t.ctx
	}
	return newTable(t.p, m, t.keyPath(key), ctx), true
}

// keys returns the table's keys in the order they appear in the file.
func (t *table) keys() []string {
	ks := make([]string, 0, len(t.m))
	for k := range t.m {
		ks = append(ks, k)
	}
	sort.SliceStable(ks, func(i, j int) bool {
		ri, rj := t.p.idx.rank(t.keyPath(ks[i])), t.p.idx.rank(t.keyPath(ks[j]))
		if ri != rj {
			return ri < rj
		}
		return ks[i] < ks[j]
	})
	return ks
}

// strMap reads an optional table of strings, returning it and its keys in
// file order.
func (t *table) strMap(key string) (map[string]string, []string) {
	st, ok := t.sub(key, "")
	if !ok {
		return nil, nil
	}
	out := map[string]string{}
	var order []string
	for _, k := range st.keys() {
		s, ok := st.str(k)
		if ok {
			out[k] = s
			order = append(order, k)
		}
	}
	return out, order
}

// finish reports every key not read as an unknown field, naming the fields
// that are accepted (serde's wording, which Spin prints).
func (t *table) finish(allowed ...string) {
	for _, k := range t.keys() {
		if t.used[k] {
			continue
		}
		t.errKey(k, unknownField(k, allowed))
	}
}

// unknownField builds serde's "unknown field" message.
func unknownField(key string, allowed []string) error {
	switch len(allowed) {
	case 0:
		return errf(ErrUnknownField, "unknown field `%s`, there are no fields", key)
	case 1:
		return errf(ErrUnknownField, "unknown field `%s`, expected `%s`", key, allowed[0])
	}
	q := make([]string, len(allowed))
	for i, a := range allowed {
		q[i] = "`" + a + "`"
	}
	return errf(ErrUnknownField, "unknown field `%s`, expected one of %s", key, strings.Join(q, ", "))
}

// typeErr builds serde's "invalid type" message for key.
func typeErr(key string, v any, want string) error {
	return errf(ErrWrongType, "`%s`: invalid type: %s, expected %s", key, describe(v), want)
}

// describe names a decoded TOML value the way serde does.
func describe(v any) string {
	switch x := v.(type) {
	case string:
		return diag.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer `%d`", x)
	case float64:
		return fmt.Sprintf("floating point `%v`", x)
	case bool:
		return fmt.Sprintf("boolean `%t`", x)
	case []any:
		return "sequence"
	case map[string]any:
		return "map"
	case time.Time:
		return "datetime"
	default:
		return fmt.Sprintf("%T", v)
	}
}

// sortedKeys returns the keys of m, sorted.
func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
