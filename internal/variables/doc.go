// Package variables resolves Spin application variables: the `[variables]`
// a manifest declares, referenced as `{{ name }}` in trigger addresses and
// channels, allowed outbound hosts and component variables.
//
// # Providers
//
// A value comes from the first provider in the chain that has one, then from
// the declared default. [Chain] builds the chain in Spin's code order,
// highest first:
//
//  1. --variable flags ([ParseCLI]): KEY=VALUE, KEY=@file, @file.json,
//     @file.toml; the last flag for a key wins.
//  2. The runtime-config providers in file order: static, env (prefix and
//     dotenv_path) and vault (HashiCorp Vault KV v2 over HTTP).
//  3. The default environment provider: SPIN_VARIABLE_<NAME> from the
//     process environment, then from a .env file in the working directory.
//
// Spin's documentation says the environment wins over runtime-config
// providers; its code, which redspin follows, puts it after them.
//
// # Startup check and errors
//
// [Resolver.CheckRequired] reports every required variable (one without a
// default) that no provider can supply, with Spin's message
// `no provider resolved required variable(s): ["a", "b"]`. A Vault provider
// counts as able to supply anything, as in Spin, since it can only be asked
// at run time. [Resolver.Resolve] on a missing required variable returns
// Spin's `no provider resolved required variable "x"`.
//
// # Secrets
//
// Values of variables declared `secret = true` never appear in errors or
// logs: errors in this package never contain values at all, and
// [Resolver.Loggable] wraps a secret value in [Secret], whose String and
// slog LogValue are "****". A template rendered with
// [Resolver.ResolveTemplate] is a template.Text that is secret as a whole
// when a secret variable went into it, so that callers show its template
// instead of its value.
//
// # Concurrency
//
// A [Resolver] and the providers built here are safe for concurrent use;
// component variables are resolved on every guest call, so a Vault value can
// change while the app runs.
package variables
