// Package release holds the checks of the release binary built by
// scripts/release.sh: statically linked, and working with an empty
// environment, including host name resolution and registry pulls. Its tests
// run only when REDSPIN_STATIC_BIN names the binary (scripts/check-static.sh
// sets it); the package has no other code.
package release
