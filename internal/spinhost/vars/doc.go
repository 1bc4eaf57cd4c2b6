// Package vars is the host side of Spin's variable interfaces for guests:
// fermyon:spin/variables@2.0.0 get, the unversioned fermyon:spin/config
// get-config (Spin 1.x's spin-config), and wasi:config/store get and
// get-all. Adapters for each guest shape call it; it knows nothing of Wasm.
//
// A guest may read only the keys in its component's
// [component.<id>.variables] table. Each value is a template, resolved on
// every call through the injected [Resolver] (the app's provider chain), so
// values from dynamic providers such as Vault can change while the app runs.
//
//	c := vars.New("greeter", map[string]string{"greeting": "Hello {{ who }}"}, resolve)
//	v, err := c.Get(ctx, "greeting")
//
// # Errors
//
// Errors are *Error with a [Kind], in the 2.0.0 variant's order, with Spin's
// messages:
//
//   - invalid-name: the name breaks Spin's rules (lower-case ASCII letters,
//     digits and single underscores, starting with a letter, not ending with
//     an underscore), e.g. `"Foo": invalid character 'F'. ...`;
//   - undefined: the component declares no such key:
//     `no variable for "comp"."key"`;
//   - provider: the resolver failed (a provider error, or no provider and
//     no default);
//   - other: the template is invalid.
//
// [ConfigCase] and [WASICase] map these to the unversioned config variant
// and to wasi:config (where undefined and invalid-name read as none).
package vars
