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
	sw, err := s.Failover()
	if err != nil || sw.Old == sw.New {
		t.Fatalf("Failover: %+v, %v", sw, err)
	}
	sw2, err := s.KillPrimary()
	if err != nil || sw2.Old != sw.New || sw2.New == sw2.Old {
		t.Fatalf("KillPrimary: %+v, %v", sw2, err)
	}
	t.Logf("sentinels agreed after %s (SENTINEL FAILOVER), %s (primary killed)", sw.Agreed, sw2.Agreed)
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
