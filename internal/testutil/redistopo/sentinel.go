package redistopo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MasterName is the Sentinel service name of [Sentinel]'s primary.
const MasterName = "mymaster"

// Sentinel is a primary, its replica and three sentinels (quorum 2) that
// detect a dead primary within down-after-milliseconds 400.
type Sentinel struct {
	// Sentinels are the three sentinels.
	Sentinels []*Node

	mu    sync.Mutex
	nodes []*Node // data nodes; killed ones stay with cmd == nil
	bin   string
	dir   string
}

// StartSentinel starts the topology under dir (which must exist) and waits
// until every sentinel knows the primary, the replica and the other two.
func StartSentinel(bin, dir string) (_ *Sentinel, err error) {
	s := &Sentinel{bin: bin, dir: dir}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	primary, err := startNode(bin, dir, "node-0", "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")
	if err != nil {
		return nil, err
	}
	s.nodes = append(s.nodes, primary)
	if _, err := s.addReplica(primary.Addr()); err != nil {
		return nil, err
	}
	for i := range 3 {
		sdir := filepath.Join(dir, "sentinel-"+strconv.Itoa(i))
		if err := os.MkdirAll(sdir, 0o700); err != nil {
			return nil, err
		}
		conf := filepath.Join(sdir, "sentinel.conf")
		text := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
			"sentinel down-after-milliseconds %[1]s 400\n"+
			"sentinel failover-timeout %[1]s 2000\n"+
			"sentinel parallel-syncs %[1]s 1\n", MasterName, primary.Port)
		if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
			return nil, err
		}
		n, err := startNode(bin, dir, "sentinel-"+strconv.Itoa(i), conf, "--sentinel")
		if err != nil {
			return nil, err
		}
		s.Sentinels = append(s.Sentinels, n)
	}
	err = poll(20*time.Second, func() error {
		for _, sn := range s.Sentinels {
			m, err := sentinelMaster(sn)
			if err != nil {
				return err
			}
			if m["num-other-sentinels"] != "2" || m["num-slaves"] != "1" {
				return fmt.Errorf("sentinel %s sees %s other sentinels and %s replicas", sn.Addr(), m["num-other-sentinels"], m["num-slaves"])
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sentinels not ready: %w", err)
	}
	return s, nil
}

func sentinelMaster(sn *Node) (map[string]string, error) {
	c := sn.Client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := c.Do(ctx, "SENTINEL", "MASTER", MasterName).Result()
	if err != nil {
		return nil, err
	}
	return pairs(v), nil
}

// addReplica starts a new data node replicating primary and waits for its
// link to be up.
func (s *Sentinel) addReplica(primary string) (*Node, error) {
	host, port, _ := net.SplitHostPort(primary)
	n, err := startNode(s.bin, s.dir, "node-"+strconv.Itoa(len(s.nodes)), "--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0",
		"--replicaof", host, port)
	if err != nil {
		return nil, err
	}
	s.nodes = append(s.nodes, n)
	err = poll(10*time.Second, func() error {
		c := n.Client()
		defer c.Close()
		info, err := c.Info(context.Background(), "replication").Result()
		if err == nil && !strings.Contains(info, "master_link_status:up") {
			err = errors.New("replica link not up")
		}
		return err
	})
	return n, err
}

// URL is the redis+sentinel:// URL naming the three sentinels.
func (s *Sentinel) URL() string {
	addrs := make([]string, len(s.Sentinels))
	for i, n := range s.Sentinels {
		addrs[i] = n.Addr()
	}
	return "redis+sentinel://" + strings.Join(addrs, ",") + "/" + MasterName
}

// Primary returns the primary's address as the first sentinel reports it.
func (s *Sentinel) Primary() (string, error) {
	c := s.Sentinels[0].Client()
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	a, err := c.Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", MasterName).StringSlice()
	if err != nil {
		return "", err
	}
	if len(a) != 2 {
		return "", fmt.Errorf("sentinel reply %q", a)
	}
	return net.JoinHostPort(a[0], a[1]), nil
}

// Node returns the running data node at addr, or nil.
func (s *Sentinel) Node(addr string) *Node {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.nodes {
		if n.cmd != nil && n.Addr() == addr {
			return n
		}
	}
	return nil
}

// Switch describes one forced failover (Sentinel or Cluster).
type Switch struct {
	// Old and New are the primaries' addresses before and after.
	Old, New string
	// Forced is when the failover was forced (the command sent, the
	// process killed), after the topology was found healthy.
	Forced time.Time
	// Agreed is how long after Forced every sentinel named New and New
	// answered ROLE as master.
	Agreed time.Duration
}

// Failover asks the sentinels for a failover (SENTINEL FAILOVER) and waits
// until every sentinel names the new primary and it answers ROLE as master
// (the sentinels turn the old primary into a replica up to 10 s later).
func (s *Sentinel) Failover() (sw Switch, err error) {
	if err := s.waitHealthyReplica(); err != nil {
		return sw, err
	}
	if sw.Old, err = s.Primary(); err != nil {
		return sw, err
	}
	c := s.Sentinels[0].Client()
	defer c.Close()
	// A failover that just ended may still be in progress for the
	// sentinels (reconfiguring replicas): INPROG, retried.
	err = poll(20*time.Second, func() error {
		sw.Forced = time.Now()
		err := c.Do(context.Background(), "SENTINEL", "FAILOVER", MasterName).Err()
		if err != nil && !strings.HasPrefix(err.Error(), "INPROG") {
			return stopPolling{err}
		}
		return err
	})
	var stop stopPolling
	if errors.As(err, &stop) {
		err = stop.err
	}
	if err != nil {
		return sw, fmt.Errorf("SENTINEL FAILOVER: %w", err)
	}
	sw.New, err = s.waitNewPrimary(sw.Old)
	sw.Agreed = time.Since(sw.Forced)
	return sw, err
}

// KillPrimary kills the primary by pid and waits until the sentinels agree
// on the replica they promoted; then it starts a new replica of the new
// primary, so that the topology can fail over again (Agreed does not
// include that).
func (s *Sentinel) KillPrimary() (sw Switch, err error) {
	if err := s.waitHealthyReplica(); err != nil {
		return sw, err
	}
	if sw.Old, err = s.Primary(); err != nil {
		return sw, err
	}
	n := s.Node(sw.Old)
	if n == nil {
		return sw, fmt.Errorf("primary %s is not one of the topology's running nodes", sw.Old)
	}
	s.mu.Lock()
	sw.Forced = time.Now()
	n.Kill()
	s.mu.Unlock()
	if sw.New, err = s.waitNewPrimary(sw.Old); err != nil {
		return sw, err
	}
	sw.Agreed = time.Since(sw.Forced)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err = s.addReplica(sw.New)
	return sw, err
}

// waitNewPrimary waits until every sentinel names a primary other than old
// and that node answers ROLE as master.
func (s *Sentinel) waitNewPrimary(old string) (string, error) {
	var primary string
	err := poll(30*time.Second, func() error {
		primary = ""
		for _, sn := range s.Sentinels {
			m, err := sentinelMaster(sn)
			if err != nil {
				return err
			}
			a := net.JoinHostPort(m["ip"], m["port"])
			if a == old || primary != "" && a != primary {
				return fmt.Errorf("sentinel %s still names %s", sn.Addr(), a)
			}
			primary = a
		}
		n := s.Node(primary)
		if n == nil {
			return fmt.Errorf("new primary %s is not running", primary)
		}
		c := n.Client()
		defer c.Close()
		role, err := c.Do(context.Background(), "ROLE").Slice()
		if err == nil && (len(role) == 0 || role[0] != "master") {
			err = fmt.Errorf("%s has role %v", primary, role)
		}
		return err
	})
	return primary, err
}

// waitHealthyReplica waits until the first sentinel knows a replica it can
// promote (a new replica is found by the sentinels' INFO polling, up to
// 10 s).
func (s *Sentinel) waitHealthyReplica() error {
	return poll(20*time.Second, func() error {
		c := s.Sentinels[0].Client()
		defer c.Close()
		reps, err := c.Do(context.Background(), "SENTINEL", "REPLICAS", MasterName).Slice()
		if err != nil {
			return err
		}
		var seen []string
		for _, r := range reps {
			m := pairs(r)
			seen = append(seen, m["name"]+" flags="+m["flags"]+" link="+m["master-link-status"])
			if !strings.Contains(m["flags"], "down") && !strings.Contains(m["flags"], "disconnected") &&
				m["master-link-status"] == "ok" {
				return nil
			}
		}
		return fmt.Errorf("no healthy replica known to the sentinels (replicas: %s)", strings.Join(seen, "; "))
	})
}

// pairs turns a RESP2 [k, v, k, v...] reply into a map.
func pairs(v any) map[string]string {
	m := map[string]string{}
	switch x := v.(type) {
	case []any:
		for i := 0; i+1 < len(x); i += 2 {
			m[fmt.Sprint(x[i])] = fmt.Sprint(x[i+1])
		}
	case map[any]any:
		for k, v := range x {
			m[fmt.Sprint(k)] = fmt.Sprint(v)
		}
	}
	return m
}

// Close kills every process.
func (s *Sentinel) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range append(append([]*Node{}, s.Sentinels...), s.nodes...) {
		n.Kill()
	}
}
