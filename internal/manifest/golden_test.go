package manifest

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/manifests golden files")

const fixtureDir = "../../testdata/manifests"

// golden is what a loadable fixture's x.golden.json holds.
type golden struct {
	Manifest *Manifest
	Warnings []string
}

// TestGolden loads every testdata/manifests/x.toml. A fixture with x.err
// must fail, and every non-empty line of x.err must appear in the error; a
// fixture with x.golden.json must load to exactly that manifest and those
// warnings. -update rewrites both kinds from the current output.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".toml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			m, warnings, lerr := Parse(filepath.Base(f), data)
			errFile := strings.TrimSuffix(f, ".toml") + ".err"
			jsonFile := strings.TrimSuffix(f, ".toml") + ".golden.json"
			_, statErr := os.Stat(errFile)
			wantErr := statErr == nil
			if *update {
				_, jsonErr := os.Stat(jsonFile)
				if !wantErr && jsonErr != nil && lerr != nil {
					wantErr = true // new fixture that fails: record its error
				}
			}
			if wantErr {
				if lerr == nil {
					t.Fatalf("loaded, want an error (%s)", errFile)
				}
				if *update {
					if err := os.WriteFile(errFile, []byte(lerr.Error()+"\n"), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, _ := os.ReadFile(errFile)
				for line := range strings.SplitSeq(string(want), "\n") {
					if line = strings.TrimSpace(line); line != "" && !strings.Contains(lerr.Error(), line) {
						t.Errorf("error does not contain %q:\n%v", line, lerr)
					}
				}
				return
			}
			if lerr != nil {
				t.Fatalf("Parse: %v", lerr)
			}
			g := golden{Manifest: m}
			for _, w := range warnings {
				g.Warnings = append(g.Warnings, w.String())
			}
			got, err := json.MarshalIndent(g, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			if *update {
				if err := os.WriteFile(jsonFile, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(jsonFile)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("manifest differs from %s (go test -update rewrites it):\n%s", jsonFile, got)
			}
		})
	}
}
