// Package spinhost is the root of the host side of Spin's guest interfaces:
// outbound Redis, key-value, variables, PostgreSQL, MySQL and the
// outbound-host allow list.
//
// Each interface is implemented once, in plain Go with no Wasm types, in a
// subpackage:
//
//   - [github.com/redspin/redspin/internal/spinhost/allowedhosts]: parses
//     a component's allowed_outbound_hosts and checks addresses against it.
//   - [github.com/redspin/redspin/internal/spinhost/outredis]: outbound Redis
//     (fermyon:spin/redis@2.0.0 and the unversioned fermyon:spin/redis).
//   - [github.com/redspin/redspin/internal/spinhost/kv]: key-value stores
//     (fermyon:spin/key-value@2.0.0, the unversioned key-value, wasi:keyvalue).
//   - [github.com/redspin/redspin/internal/spinhost/vars]: component
//     variables (fermyon:spin/variables@2.0.0, fermyon:spin/config,
//     wasi:config/store).
//   - [github.com/redspin/redspin/internal/spinhost/pg] and
//     [github.com/redspin/redspin/internal/spinhost/mysql]: outbound
//     PostgreSQL and MySQL, sharing
//     [github.com/redspin/redspin/internal/spinhost/rdbms] (values per
//     rdbms-types version, errors, the connection table).
//   - [github.com/redspin/redspin/internal/spinhost/hosterr]: reads the kind
//     and message of those packages' classified errors for the adapters.
//   - [github.com/redspin/redspin/internal/spinhost/handles]: hands out the
//     guest-visible handles of per-instance resource tables.
//
// Adapters for each guest shape (components, canonical-ABI core modules,
// Spin 1.x core modules) translate Wasm values to and from these Go calls;
// they hold no behaviour of their own.
//
// Each package follows Spin's three phases: something built once per app
// (a Client, a Manager, a Component), checked at startup, and a small
// per-instance value (an Instance) created for each message and closed when
// the message's store ends. Nothing per-instance is shared between instances.
package spinhost
