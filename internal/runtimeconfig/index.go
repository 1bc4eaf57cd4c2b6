package runtimeconfig

import (
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"

	"github.com/redspin/redspin/internal/diag"
)

// position is a 1-based line and column in the file.
type position struct{ Line, Col int }

// maxIndexDepth bounds the key paths the index records. The deepest path
// the loader asks for is variables_provider.N.values.KEY; the bound keeps a
// pathological dotted key from costing quadratic time.
const maxIndexDepth = 6

// docIndex records where keys appear in a TOML document.
type docIndex struct {
	// pos maps each key path to where it first appears. Paths are dotted;
	// entries of an array of tables get their 0-based index as a path
	// element ("variables_provider.1.url"). Inline tables are indexed too.
	pos map[string]position
	// top lists the top-level keys in order of first appearance.
	top []string
}

// index builds the docIndex of data. A document that does not parse yields
// a partial index: the decoder reports the syntax error itself.
func index(data []byte) docIndex {
	ix := docIndex{pos: map[string]position{}}
	p := &unstable.Parser{}
	p.Reset(data)
	counts := map[string]int{}
	var table []string
	lines := diag.NewLines(data)
	at := func(n *unstable.Node) position {
		line, col := lines.Position(int(n.Raw.Offset))
		return position{Line: line, Col: col}
	}
	record := func(path []string, pos position) {
		if len(path) > maxIndexDepth {
			return
		}
		k := strings.Join(path, ".")
		if _, ok := ix.pos[k]; !ok {
			ix.pos[k] = pos
			if len(path) == 1 {
				ix.top = append(ix.top, k)
			}
		}
	}
	// keys returns the parts of a dotted key (up to the depth bound) and
	// the position of its first part.
	keys := func(prefix []string, it unstable.Iterator) ([]string, position) {
		path := append([]string(nil), prefix...)
		var first position
		for i := 0; it.Next(); i++ {
			if i == 0 {
				first = at(it.Node())
			}
			if len(path) <= maxIndexDepth {
				path = append(path, string(it.Node().Data))
				record(path, first)
			}
		}
		return path, first
	}
	// keyval records a key/value and, for inline tables, its children.
	var keyval func(prefix []string, n *unstable.Node)
	keyval = func(prefix []string, n *unstable.Node) {
		path, _ := keys(prefix, n.Key())
		if v := n.Value(); v.Kind == unstable.InlineTable && len(path) <= maxIndexDepth {
			children := v.Children()
			for children.Next() {
				if c := children.Node(); c.Kind == unstable.KeyValue {
					keyval(path, c)
				}
			}
		}
	}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			key, first := keys(nil, e.Key())
			if e.Kind == unstable.ArrayTable {
				k := strings.Join(key, ".")
				n := counts[k]
				counts[k] = n + 1
				key = append(key, strconv.Itoa(n))
				record(key, first)
			}
			table = key
		case unstable.KeyValue:
			keyval(table, e)
		}
	}
	return ix
}
