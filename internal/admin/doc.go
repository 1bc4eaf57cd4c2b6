// Package admin serves redspin's operational endpoints: Prometheus metrics
// (recorded into a private registry, never the global one) and the health
// and readiness probes behind --listen-admin.
//
// The triggers record into a *Metrics through the observe.Observer
// interface it implements and report their state through
// observe.StatusSource; this package knows nothing else about them.
package admin
