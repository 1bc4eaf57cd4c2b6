// Package kubernetes holds redspin's Kubernetes manifests (a kustomize base,
// an example overlay and variants for Redis Cluster, Redis Sentinel and
// pub/sub apps) and the test that parses them strictly into the Kubernetes
// API types and checks their invariants. It has no Go code of its own.
package kubernetes
