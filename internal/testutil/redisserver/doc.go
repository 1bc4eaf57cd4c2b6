// Package redisserver starts real redis-server processes for end-to-end
// tests: on random loopback ports, with persistence off, optionally with TLS
// (a generated CA and server certificate), ACL users and a unix socket. Each
// server is killed by pid when the test ends.
//
// A test that needs redis-server calls Start (or Require), which skips the
// test when redis-server is not installed, unless REDSPIN_E2E=1, which turns
// the skip into a failure.
package redisserver
