package componentize

import (
	"bytes"
	"strings"
	"testing"
)

// A minimal module in the SDK's shape: a memory, a data segment holding the
// arena magic, one global, the handler and cabi_realloc exports.
func sdkShapedModule() []byte {
	m := &module{}
	add := func(id byte, body ...byte) { m.sections = append(m.sections, section{id: id, body: body}) }
	add(1, 1, 0x60, 0, 0)             // type 0: () -> ()
	add(3, 2, 0, 0)                   // two functions of type 0
	add(5, 1, 0, 4)                   // memory, 4 pages
	add(6, 1, 0x7f, 1, 0x41, 0, 0x0b) // global 0: mut i32 = 0
	exports := appendU32(nil, 2)
	exports = append(appendName(exports, exportHandler), 0, 0)
	exports = append(appendName(exports, exportRealloc), 0, 1)
	add(7, exports...)
	add(10, 2, 2, 0, 0x0b, 2, 0, 0x0b) // two empty bodies
	data := []byte{1, 0, 0x41}
	data = appendS32(data, 1024)
	data = append(data, 0x0b)
	seg := append([]byte("xx"), arenaMagic...)
	data = append(appendU32(data, uint32(len(seg))), seg...)
	add(11, data...)
	return m.encode()
}

func TestModule(t *testing.T) {
	out, err := Module(sdkShapedModule())
	if err != nil {
		t.Fatal(err)
	}
	m, err := parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if !m.exports[exportAdapter] || !m.hasComponentType {
		t.Fatalf("exports %v, component-type %v", m.exports, m.hasComponentType)
	}
	if !bytes.Contains(out, []byte("wit-bindgen-redspin-go")) {
		t.Error("no producer field in the component-type payload")
	}
	// The allocator's start is the arena (1024 + 2) past the magic, 16-aligned: 1056.
	if g := m.find(6).body; !bytes.HasSuffix(g, append(appendS32([]byte{0x41}, 1056), 0x0b)) {
		t.Errorf("global section % x", g)
	}
	if _, err := Module(out); err == nil || !strings.Contains(err.Error(), "already processed") {
		t.Errorf("second run: %v", err)
	}
}

func TestModuleErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"empty":     {nil, "not a Wasm binary"},
		"component": {[]byte{0, 'a', 's', 'm', 0x0d, 0, 1, 0}, "not a core module"},
		"no export": {append(append([]byte{}, wasmMagic...), moduleVersion...), `does not export "fermyon:spin/inbound-redis#handle-message"`},
		"truncated": {append(append(append([]byte{}, wasmMagic...), moduleVersion...), 1, 10, 0), "truncated"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Module(tc.in)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Module = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestSpinDetectsBindgen applies the rule of Spin's crates/componentize
// (WitBindgenVersion::detect) to the embedded component-type payload: a
// "processed-by" producer whose name starts with "wit-bindgen" and whose
// version is 0.x with x >= 5 and at most three parts selects the path that
// encodes the module as a component with the WASI adapter.
func TestSpinDetectsBindgen(t *testing.T) {
	r := &reader{b: componentType, i: 8}
	if !bytes.Equal(componentType[:4], wasmMagic) || componentType[4] != 0x0d {
		t.Fatalf("the payload is not a component: % x", componentType[:8])
	}
	var producers []byte
	for r.i < len(r.b) && r.err == nil {
		id := r.byte()
		body := r.bytes(r.u32())
		if id != 0 {
			continue
		}
		br := &reader{b: body}
		if br.name() == "producers" {
			producers = body[br.i:]
		}
	}
	if r.err != nil || producers == nil {
		t.Fatalf("no producers section in the payload (err %v)", r.err)
	}
	pr := &reader{b: producers}
	found := ""
	for n := pr.u32(); n > 0 && pr.err == nil; n-- {
		field := pr.name()
		for m := pr.u32(); m > 0 && pr.err == nil; m-- {
			name, version := pr.name(), pr.name()
			if field == "processed-by" && strings.HasPrefix(name, "wit-bindgen") && found == "" {
				found = version
			}
		}
	}
	if pr.err != nil || found == "" {
		t.Fatalf("no processed-by wit-bindgen* producer (err %v)", pr.err)
	}
	parts := strings.Split(found, ".")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "0" || len(parts[1]) == 0 {
		t.Fatalf("version %q is not 0.x[.y]", found)
	}
	minor := 0
	for _, c := range parts[1] {
		minor = minor*10 + int(c-'0')
	}
	if minor < 5 {
		t.Errorf("version %q: Spin takes wit-bindgen < 0.5 for an old module", found)
	}
}
