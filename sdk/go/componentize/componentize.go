// Package componentize is the post-link step of the Go SDK: it turns the
// core module that `GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared`
// writes for an SDK guest into a module that redspin runs and that Spin (or
// any wit-component tool) turns into a component.
//
// Go's linker writes no custom sections of ours, so [Module] adds two
// things:
//
//   - A `component-type` custom section: the encoded WIT world the SDK
//     targets (wit/world.wit: fermyon:spin/redis@2.0.0, key-value@2.0.0,
//     variables@2.0.0 and the unversioned fermyon:spin/http imports, the
//     fermyon:spin/inbound-redis export) whose
//     producers say processed-by wit-bindgen-redspin-go 0.5.0. Spin's
//     componentize step reads that field: a "wit-bindgen*" processor of
//     version 0.5 or newer makes it encode the module as a component with
//     the WASI preview1 adapter, as it does for modules from wit-bindgen.
//     Without it, Spin takes the module for a Spin 1.x module and looks for
//     exports this one does not have. The payload (component-type.bin) was
//     encoded once by wit-component through jco (gen-component-type.sh).
//   - `cabi_realloc_adapter`, a bump allocator over the SDK's adapter arena
//     (a Go array found by its magic bytes in the data section). The WASI
//     adapter allocates its state through this export on the first WASI
//     call, which Go makes inside _initialize, before any Go export may be
//     called; see package internal/cabi.
//
// The command redspin-componentize (../cmd/redspin-componentize) runs it.
package componentize

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
)

// componentType is the payload of the component-type section.
//
//go:embed component-type.bin
var componentType []byte

// SectionName is the name of the custom section Module adds (wit-component
// reads every custom section whose name starts with "component-type").
const SectionName = "component-type:redspin-go-sdk:redis-handler"

// arenaMagic and arenaSize describe the adapter arena as package internal/cabi declares it.
var (
	arenaMagic = []byte("SPIN-ADAPTER-ARN")
	arenaSize  = 192 << 10
)

// The exports an SDK guest has.
const (
	exportHandler = "fermyon:spin/inbound-redis#handle-message"
	exportRealloc = "cabi_realloc"
	exportAdapter = "cabi_realloc_adapter"
)

var (
	wasmMagic     = []byte{0x00, 'a', 's', 'm'}
	moduleVersion = []byte{0x01, 0x00, 0x00, 0x00}
)

// Module returns raw, a core module built from an SDK guest, with the
// component-type section and the adapter allocator added. It fails, naming
// the problem, if raw is not such a module or was already processed.
func Module(raw []byte) ([]byte, error) {
	if len(raw) < 8 || !bytes.Equal(raw[:4], wasmMagic) {
		return nil, errors.New("not a Wasm binary")
	}
	if !bytes.Equal(raw[4:8], moduleVersion) {
		return nil, errors.New("not a core module (a component already?); give the output of `go build -buildmode=c-shared`")
	}
	m, err := parse(raw)
	if err != nil {
		return nil, err
	}
	for _, want := range []string{exportHandler, exportRealloc} {
		if !m.exports[want] {
			return nil, fmt.Errorf("the module does not export %q: is it built from a package that calls redis.Handle (github.com/redspin/redspin/sdk/go/redis) with -buildmode=c-shared?", want)
		}
	}
	if m.exports[exportAdapter] || m.hasComponentType {
		return nil, errors.New("the module was already processed (it has cabi_realloc_adapter or a component-type section); give the output of `go build`")
	}
	if err := m.addAdapterRealloc(); err != nil {
		return nil, err
	}
	m.sections = append(m.sections, section{id: 0, body: customBody(SectionName, componentType)})
	return m.encode(), nil
}
