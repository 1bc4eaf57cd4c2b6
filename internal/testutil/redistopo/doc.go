// Package redistopo starts the Redis topologies production uses, on
// loopback, for tests: a Sentinel-managed primary with a replica and three
// sentinels ([Sentinel]), and a Redis Cluster of three primaries with one
// replica each ([Cluster]). They are slow to start (a cluster ~2 s), so a
// package starts each at most once through a [Shared] that its TestMain
// closes; tests that force failovers leave the topology usable for the
// next test (a killed primary is replaced by a new replica).
//
// Processes get free loopback ports and private directories (each sentinel
// has a writable copy of its config, which it rewrites), are killed by pid
// on Close, and die with the test binary (Pdeathsig on Linux). Without
// redis-server (or redis-cli for clusters) the test skips, or fails when
// REDSPIN_E2E=1 (see redisserver.Require).
package redistopo
