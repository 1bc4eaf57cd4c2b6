package manifest

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/redspin/redspin/internal/diag"
)

// pos is a 1-based line and column; zero when unknown.
type pos struct{ line, col int }

// posIndex maps key paths ("component.x.source", "trigger.redis[0].channel")
// to where they appear in the source. It is built from go-toml's unstable
// parser, which reports byte ranges, so that semantic checks made on the
// decoded tree can still point at a line.
type posIndex struct {
	at    map[string]pos
	order map[string]int // path -> order of first appearance
}

// join appends a key to a path.
func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// index appends an array index to a path.
func index(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// lookup returns the position of path or of its closest recorded ancestor.
func (x *posIndex) lookup(path string) pos {
	if x == nil {
		return pos{}
	}
	for path != "" {
		if p, ok := x.at[path]; ok {
			return p
		}
		cut := max(strings.LastIndexByte(path, '.'), strings.LastIndexByte(path, '['))
		if cut < 0 {
			break
		}
		path = path[:cut]
	}
	return pos{}
}

// rank returns the order in which path first appeared (large when unknown).
func (x *posIndex) rank(path string) int {
	if x == nil {
		return 1 << 30
	}
	if r, ok := x.order[path]; ok {
		return r
	}
	return 1 << 30
}

// buildIndex scans data (already known to be valid TOML) and records the
// position of every key, table header and array element. It never fails: on
// a parser error it returns what it has.
func buildIndex(data []byte) *posIndex {
	x := &posIndex{at: map[string]pos{}, order: map[string]int{}}
	var p unstable.Parser
	p.Reset(data)
	lines := diag.NewLines(data)
	arrays := map[string]int{} // array-of-tables path -> elements seen
	prefix := ""
	record := func(path string, n *unstable.Node) {
		if _, ok := x.at[path]; ok {
			return
		}
		x.order[path] = len(x.order)
		if n != nil && n.Raw.Length > 0 {
			line, col := lines.Position(int(n.Raw.Offset))
			x.at[path] = pos{line, col}
		} else {
			x.at[path] = x.lookup(path)
		}
	}
	// resolve turns header keys into a path, entering the last element of
	// any array of tables on the way.
	resolve := func(keys []*unstable.Node, n int) string {
		path := ""
		for _, k := range keys[:n] {
			path = join(path, string(k.Data))
			if c, ok := arrays[path]; ok {
				path = index(path, c-1)
			}
			record(path, k)
		}
		return path
	}
	var value func(path string, v *unstable.Node)
	keyValue := func(base string, kv *unstable.Node) {
		path := base
		it := kv.Key()
		for it.Next() {
			k := it.Node()
			path = join(path, string(k.Data))
			record(path, k)
		}
		value(path, kv.Value())
	}
	value = func(path string, v *unstable.Node) {
		if v == nil {
			return
		}
		switch v.Kind {
		case unstable.InlineTable:
			it := v.Children()
			for it.Next() {
				keyValue(path, it.Node())
			}
		case unstable.Array:
			it := v.Children()
			i := 0
			for it.Next() {
				c := it.Node()
				ip := index(path, i)
				record(ip, c)
				value(ip, c)
				i++
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			var keys []*unstable.Node
			it := e.Key()
			for it.Next() {
				keys = append(keys, it.Node())
			}
			if len(keys) == 0 {
				continue
			}
			if e.Kind == unstable.Table {
				prefix = resolve(keys, len(keys))
				continue
			}
			parent := resolve(keys, len(keys)-1)
			last := keys[len(keys)-1]
			arr := join(parent, string(last.Data))
			record(arr, last)
			arrays[arr]++
			prefix = index(arr, arrays[arr]-1)
			record(prefix, last)
		case unstable.KeyValue:
			keyValue(prefix, e)
		}
	}
	return x
}
