package redistopo

import (
	"context"
	"os"
	"testing"
)

var shared Shared

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func TestSentinelFailover(t *testing.T) {
	s := shared.Sentinel(t)
	old, primary, err := s.Failover()
	if err != nil || old == primary {
		t.Fatalf("Failover: %s -> %s, %v", old, primary, err)
	}
	old2, primary2, err := s.KillPrimary()
	if err != nil || old2 != primary || primary2 == old2 {
		t.Fatalf("KillPrimary: %s -> %s, %v", old2, primary2, err)
	}
}

func TestClusterFailover(t *testing.T) {
	c := shared.Cluster(t)
	p, reps, err := c.Owner("k")
	if err != nil || len(reps) != 1 {
		t.Fatalf("Owner: %s %v %v", p, reps, err)
	}
	old, primary, err := c.Failover("k")
	if err != nil || old != p || primary != reps[0] {
		t.Fatalf("Failover: %s -> %s, %v", old, primary, err)
	}
	old, primary, err = c.KillPrimary("k")
	if err != nil || old != reps[0] || primary != p {
		t.Fatalf("KillPrimary: %s -> %s, %v", old, primary, err)
	}
	_ = context.Background()
}
