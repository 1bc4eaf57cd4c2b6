package host

import (
	"bufio"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCommittedGuestShapes is `scripts/build-guests.sh --verify` in Go:
// every committed guest and example binary imports and exports exactly what
// its expected-shape file says (X.wit, the `jco wit` text of a component;
// X.abi, a core module's imports and exports). A rebuilt or hand-edited
// binary that drifts from the WIT redspin serves fails here, without node.
func TestCommittedGuestShapes(t *testing.T) {
	var bins []string
	for _, pattern := range []string{guestsDir + "/*/*.wasm", "../../examples/*/*.wasm"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, m...)
	}
	if len(bins) < 15 {
		t.Fatalf("found %d committed binaries, want every guest and example: %v", len(bins), bins)
	}
	for _, bin := range bins {
		t.Run(strings.TrimPrefix(bin, "../../"), func(t *testing.T) {
			b, err := os.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			info, err := readBinary(b)
			if err != nil {
				t.Fatal(err)
			}
			ext := ".abi"
			if info.kind == binComponent {
				ext = ".wit"
			}
			want := strings.TrimSuffix(bin, ".wasm") + ext
			imports, exports := expectedShape(t, want, info.kind)
			gotImports, gotExports := slices.Sorted(slices.Values(info.imports)), slices.Sorted(slices.Values(info.exports))
			if !slices.Equal(gotImports, imports) {
				t.Errorf("imports differ from %s:\n got  %q\n want %q", want, gotImports, imports)
			}
			if !slices.Equal(gotExports, exports) {
				t.Errorf("exports differ from %s:\n got  %q\n want %q", want, gotExports, exports)
			}
		})
	}
}

// expectedShape reads the sorted import and export names from a .wit world
// (`import x;`, `export y;`) or a .abi listing (`import "mod" "name" ...`,
// `export "name" ...`).
func expectedShape(t *testing.T, file string, kind binKind) (imports, exports []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatalf("no expected shape: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		verb, rest, _ := strings.Cut(line, " ")
		if verb != "import" && verb != "export" {
			continue
		}
		var name string
		if kind == binComponent {
			// `export fermyon:spin/inbound-redis;` or `export run: func();`
			name, _, _ = strings.Cut(strings.TrimSuffix(rest, ";"), ": ")
		} else {
			q := strings.Split(rest, `"`) // import "mod" "name" ... / export "name" ...
			if verb == "import" && len(q) >= 4 {
				name = q[1] + "#" + q[3]
			} else if len(q) >= 2 {
				name = q[1]
			}
		}
		if verb == "import" {
			imports = append(imports, name)
		} else {
			exports = append(exports, name)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(imports)
	slices.Sort(exports)
	return imports, exports
}
