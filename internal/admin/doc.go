// Package admin serves redspin's operational endpoints: Prometheus metrics
// (recorded into a private registry, never the global one) and the health
// and readiness probes behind --listen-admin.
//
// The trigger records into a *Metrics and reports its connection state
// through the StatusSource interface; this package reads both and knows
// nothing else about the trigger.
package admin
