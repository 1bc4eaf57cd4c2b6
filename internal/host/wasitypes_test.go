package host

import (
	"testing"

	"github.com/redspin/redspin/internal/wasmtime"
)

func TestWASIResourceTypes(t *testing.T) {
	e, err := wasmtime.NewEngine(wasmtime.EngineConfig{EpochInterruption: true})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	types, err := wasiResourceTypes(e)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range wasiResourceNames {
		if types[n] == nil {
			t.Errorf("no type for %s", n)
		}
	}
	if a, b := types[wasiResourceNames[0]], types[wasiResourceNames[1]]; a != nil && b != nil && a.Equal(b) {
		t.Error("input-stream and output-stream are the same type")
	}
	for _, ty := range types {
		ty.Close()
	}
}
