// Package dbserver starts real PostgreSQL and MariaDB servers for end-to-end
// tests: one of each per test binary (so once per package), on free loopback
// ports, with private data directories and durability off (fsync,
// synchronous commit) so that start-up stays around a second.
//
// A test calls [Postgres] or [MariaDB]; the first call starts the server and
// later calls share it, so tests use their own tables or databases. The
// package's TestMain must call [Main] (or [StopAll] after m.Run), which kills
// the servers by pid and removes their directories. The servers also die with the test
// process (Linux parent-death signal).
//
// A missing server binary skips the test with the reason, unless
// REDSPIN_E2E=1, which turns the skip into a failure. Running as root, the
// servers run as the postgres and mysql system users (PostgreSQL refuses
// root).
package dbserver
