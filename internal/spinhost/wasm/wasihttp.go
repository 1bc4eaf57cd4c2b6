package wasm

import (
	"github.com/redspin/redspin/internal/spinhost/outhttp"
	"github.com/redspin/redspin/internal/spinhost/wasihttp"
	"github.com/redspin/redspin/internal/wasi"
)

// WASIInterfaces gives the host wasi:http (types, outgoing-handler) on
// internal/wasi, over the component's outbound HTTP client: with it
// *Services is a host.WASIInterfaces. nil when the component has no HTTP
// client (wasi:http then stays "not supported").
func (s *Services) WASIInterfaces() map[string]wasi.Interface {
	if s.HTTP == nil {
		return nil
	}
	return wasihttp.Interfaces(func(data any) (*outhttp.Instance, error) {
		st, err := stateOf(data)
		if err != nil {
			return nil, err
		}
		if st.http == nil {
			return nil, errNoState
		}
		return st.http, nil
	})
}
