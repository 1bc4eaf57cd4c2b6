// Package wasm adapts the Spin host interfaces (packages outredis, kv and
// vars) to Wasm guests through the wasmtime binding: it defines their
// functions on a component linker and on a core-module linker, lifting
// arguments and lowering results. It holds no Spin behaviour of its own.
//
// # Interfaces
//
// Components ([Services.LinkComponent]):
//
//	fermyon:spin/redis@2.0.0        connection resource
//	fermyon:spin/redis              unversioned, address per call
//	fermyon:spin/variables@2.0.0    get
//	fermyon:spin/config             get-config
//	fermyon:spin/key-value@2.0.0    store resource
//	fermyon:spin/key-value          unversioned, u32 handles
//	wasi:config/store@0.2.0-draft-2024-09-27
//	wasi:keyvalue/store@0.2.0-draft2
//	fermyon:spin/postgres@2.0.0, spin:postgres/postgres@3.0.0, @4.0.0, @4.1.0,
//	@4.2.0 (sync functions), unversioned fermyon:spin/postgres
//	fermyon:spin/mysql@2.0.0, unversioned fermyon:spin/mysql
//
// The database interfaces' values are built once as Val trees (rdbms_component.go)
// and, for core modules, written to and read from linear memory by the
// canonical ABI from a description of their WIT types (cabi_types.go).
//
// Component-model async (postgres@4.2.0's *-async functions, which return
// streams and futures, and the all-async spin:mysql/mysql@3.0.0) is not
// available in Wasmtime 39's C API: a component whose types use it fails to
// compile ("`stream` requires the component model async feature"), before
// any linking. wit-component keeps only the functions a guest calls, so a
// 4.2.0 guest that calls only the sync functions compiles and is served.
//
// Core modules ([Services.LinkModule]): the same interfaces lowered by hand
// with the canonical ABI (module = interface name, field = function name,
// e.g. fermyon:spin/redis@2.0.0 "[static]connection.open", results through
// the return area passed last), and Spin 1.x's imports, which are the
// unversioned interfaces under other names: outbound-redis →
// fermyon:spin/redis, spin-config → fermyon:spin/config, key-value →
// fermyon:spin/key-value, outbound-pg → fermyon:spin/postgres,
// outbound-mysql → fermyon:spin/mysql. Resource handles of core modules are the host's
// table indices. Lists and strings returned to a core module are allocated
// with its cabi_realloc (canonical_abi_realloc for Spin 1.x modules).
//
// # Using it from the host
//
// At load, per component:
//
//	svc, err := wasm.NewServices(wasm.ComponentConfig{ID: id, AllowedOutboundHosts: hosts, ...})
//	done, err := svc.LinkComponent(clinker, comp.Imports()) // or svc.LinkModule(linker, imports)
//	// then link WASI and trap the imports not in done
//
// Per message:
//
//	st := svc.NewInstance(ctx)   // ctx bounds every host call
//	defer st.Close()             // closes the message's Redis connections
//	store.SetData(st)            // or store data implementing wasm.Holder
//
// # Errors and traps
//
// Guest-visible failures become the interface's error value. Bad pointers,
// invalid UTF-8 in string arguments, a missing realloc, an unknown
// key-value@2.0.0 store handle (as in Spin) or a store without an Instance
// trap the guest; the host reports the trap for that message only.
package wasm
