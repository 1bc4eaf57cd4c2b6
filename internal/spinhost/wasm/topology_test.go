package wasm

import (
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/spinhost/kv"
	"github.com/redspin/redspin/internal/testutil/redistopo"
)

// topo holds the Sentinel and Cluster topologies, started once for the
// package.
var topo redistopo.Shared

// TestGuestTopologies runs the C guest against Sentinel and Cluster: its
// outbound Redis on a redis+sentinel:// address reaches the new primary
// after a failover (the data written before is there); on a
// redis+cluster:// address its commands route by key and a multi-key
// command across slots returns Redis's CROSSSLOT error to the guest; a
// key-value store of type redis on the cluster routes by key and lists the
// keys of every primary.
func TestGuestTopologies(t *testing.T) {
	s := topo.Sentinel(t)
	c := topo.Cluster(t)
	svc := testServices(t)
	m, err := kv.New(kv.Config{Stores: map[string]runtimeconfig.KeyValueStore{
		"cluster": {Type: runtimeconfig.StoreRedis, URL: c.URL()}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	svc.KV = m.Component("guest", []string{"cluster"})
	r := newCoreRunner(t, svc, "c-host/c-host.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message")

	sen := s.URL()
	runSteps(t, r, []guestStep{
		{"redis2:set:" + sen + "|guest-k|before", true, "redis2:set ok\n", ""},
		{"redis2:execute:" + sen + "|WAIT|int:1|int:5000", true, "int64:1\n", ""},
	})
	sw, err := s.Failover()
	if err != nil {
		t.Fatal(err)
	}
	res := r.run(t, "redis2:execute:"+sen+"|ROLE")
	if !res.ok || !strings.HasPrefix(res.stdout, "binary:master\n") {
		t.Fatalf("ROLE after the failover: %+v", res)
	}
	runSteps(t, r, []guestStep{
		{"redis2:get:" + sen + "|guest-k", true, "before\n", ""},
		{"redis2:set:" + sen + "|guest-k|after", true, "redis2:set ok\n", ""},
	})
	nc := s.Node(sw.New).Client()
	defer nc.Close()
	if v, err := nc.Get(t.Context(), "guest-k").Result(); err != nil || v != "after" {
		t.Fatalf("the new primary %s holds %q, %v", sw.New, v, err)
	}

	cl := c.URL()
	runSteps(t, r, []guestStep{
		{"redis2:set:" + cl + "|a|1", true, "redis2:set ok\n", ""},
		{"redis2:set:" + cl + "|b|2", true, "redis2:set ok\n", ""},
		{"redis2:get:" + cl + "|b", true, "2\n", ""},
		{"redis2:execute:" + cl + "|MGET|a|b", false, "", "redis2:execute: other: CROSSSLOT Keys in request don't hash to the same slot"},
		{"redis2:execute:" + cl + "|MSET|{t}a|1|{t}b|2", true, "status:OK\n", ""},
		{"redis2:execute:" + cl + "|MGET|{t}a|{t}b", true, "binary:1\nbinary:2\n", ""},
		{"kv:set:cluster|x|1", true, "kv:set ok\n", ""},
		{"kv:set:cluster|y|2", true, "kv:set ok\n", ""},
		{"kv:get:cluster|y", true, "2\n", ""},
	})
	res = r.run(t, "kv:keys:cluster")
	if keys := strings.Fields(res.stdout); !res.ok || !sameSet(keys, []string{"a", "b", "{t}a", "{t}b", "x", "y"}) {
		t.Fatalf("kv keys on the cluster: %+v", res)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}
