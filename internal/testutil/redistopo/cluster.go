package redistopo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of three primaries with one replica each,
// made with redis-cli --cluster create, cluster-node-timeout 1000 ms.
type Cluster struct {
	mu    sync.Mutex
	nodes []*Node
}

// StartCluster starts six nodes under dir with bin (redis-server), joins
// them with cli (redis-cli) and waits until every node reports all 16384
// slots served and every replica is in sync.
func StartCluster(bin, cli, dir string) (_ *Cluster, err error) {
	c := &Cluster{}
	defer func() {
		if err != nil {
			c.Close()
		}
	}()
	args := []string{"redis-cli", "--cluster", "create"}
	for i := range 6 {
		n, err := startNode(bin, dir, "cluster-"+strconv.Itoa(i), "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "1000",
			"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0")
		if err != nil {
			return nil, err
		}
		c.nodes = append(c.nodes, n)
		args = append(args, n.Addr())
	}
	args = append(args, "--cluster-replicas", "1", "--cluster-yes")
	cmd := exec.Command(cli, args[1:]...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("redis-cli --cluster create: %w: %s", err, out.String())
	}
	if err := c.waitStable(); err != nil {
		return nil, err
	}
	return c, nil
}

// waitStable waits until every running node says cluster_state:ok with all
// slots ok and every replica's link is up. (The nodes list the replicas in
// CLUSTER SLOTS some seconds later; ownerWithReplica waits for that when a
// failover needs it.)
func (c *Cluster) waitStable() error {
	return poll(30*time.Second, func() error {
		for _, n := range c.running() {
			cl := n.Client()
			info, err := cl.ClusterInfo(context.Background()).Result()
			if err == nil && (!strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384")) {
				err = fmt.Errorf("node %s: cluster not ready", n.Addr())
			}
			if err == nil {
				var repl string
				repl, err = cl.Info(context.Background(), "replication").Result()
				if err == nil && strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
					err = fmt.Errorf("replica %s not in sync", n.Addr())
				}
			}
			_ = cl.Close()
			if err != nil {
				return err
			}
		}
		return nil
	})
}

func (c *Cluster) running() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*Node
	for _, n := range c.nodes {
		if n.cmd != nil {
			out = append(out, n)
		}
	}
	return out
}

// URL is the redis+cluster:// URL naming every node.
func (c *Cluster) URL() string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.Addr()
	}
	return "redis+cluster://" + strings.Join(addrs, ",")
}

// Nodes returns every node, running or not.
func (c *Cluster) Nodes() []*Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*Node{}, c.nodes...)
}

// Owner returns the addresses of the primary serving key's slot and of its
// replicas, as the first running node reports them (CLUSTER SLOTS).
func (c *Cluster) Owner(key string) (primary string, replicas []string, err error) {
	nodes := c.running()
	if len(nodes) == 0 {
		return "", nil, errors.New("no running node")
	}
	cl := nodes[0].Client()
	defer cl.Close()
	ctx := context.Background()
	slot, err := cl.ClusterKeySlot(ctx, key).Result()
	if err != nil {
		return "", nil, err
	}
	ranges, err := cl.ClusterSlots(ctx).Result()
	if err != nil {
		return "", nil, err
	}
	for _, r := range ranges {
		if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
			for _, n := range r.Nodes[1:] {
				replicas = append(replicas, n.Addr)
			}
			return r.Nodes[0].Addr, replicas, nil
		}
	}
	return "", nil, fmt.Errorf("no node serves slot %d", slot)
}

// ownerWithReplica is Owner once the cluster lists a replica for key's
// slot.
func (c *Cluster) ownerWithReplica(key string) (primary string, replicas []string, err error) {
	err = poll(30*time.Second, func() error {
		primary, replicas, err = c.Owner(key)
		if err == nil && len(replicas) == 0 {
			err = fmt.Errorf("primary %s has no replica yet", primary)
		}
		return err
	})
	return primary, replicas, err
}

func (c *Cluster) node(addr string) *Node {
	for _, n := range c.running() {
		if n.Addr() == addr {
			return n
		}
	}
	return nil
}

// Failover makes the replica of key's primary take over (CLUSTER FAILOVER
// on the replica) and waits until the cluster is stable with it as the
// primary.
func (c *Cluster) Failover(key string) (sw Switch, err error) {
	old, replicas, err := c.ownerWithReplica(key)
	if err != nil {
		return sw, err
	}
	sw.Old, sw.New = old, replicas[0]
	rn := c.node(sw.New)
	if rn == nil {
		return sw, fmt.Errorf("replica %s not running", sw.New)
	}
	cl := rn.Client()
	defer cl.Close()
	sw.Forced = time.Now()
	if err := cl.Do(context.Background(), "CLUSTER", "FAILOVER").Err(); err != nil {
		return sw, fmt.Errorf("CLUSTER FAILOVER on %s: %w", sw.New, err)
	}
	err = c.waitOwner(key, sw.New)
	sw.Agreed = time.Since(sw.Forced)
	return sw, err
}

// KillPrimary kills the primary of key's slot by pid, waits until its
// replica is promoted, then restarts the killed node (it rejoins as a
// replica) and waits until the cluster is stable. Agreed is when the first
// running node reported the replica as the slot's owner.
func (c *Cluster) KillPrimary(key string) (sw Switch, err error) {
	old, replicas, err := c.ownerWithReplica(key)
	if err != nil {
		return sw, err
	}
	sw.Old, sw.New = old, replicas[0]
	n := c.node(old)
	if n == nil {
		return sw, fmt.Errorf("primary %s not running", old)
	}
	c.mu.Lock()
	sw.Forced = time.Now()
	n.Kill()
	c.mu.Unlock()
	if err := poll(30*time.Second, func() error {
		p, _, err := c.Owner(key)
		if err == nil && p != sw.New {
			err = fmt.Errorf("slot still served by %s", p)
		}
		return err
	}); err != nil {
		return sw, err
	}
	sw.Agreed = time.Since(sw.Forced)
	c.mu.Lock()
	err = n.start()
	c.mu.Unlock()
	if err != nil {
		return sw, fmt.Errorf("restart %s: %w", old, err)
	}
	return sw, c.waitOwner(key, sw.New)
}

// waitOwner waits until every running node reports primary as the owner
// of key's slot and the cluster is stable.
func (c *Cluster) waitOwner(key, primary string) error {
	if err := poll(30*time.Second, func() error {
		for _, n := range c.running() {
			cl := n.Client()
			ctx := context.Background()
			slot, err := cl.ClusterKeySlot(ctx, key).Result()
			var ranges []redis.ClusterSlot
			if err == nil {
				ranges, err = cl.ClusterSlots(ctx).Result()
			}
			_ = cl.Close()
			if err != nil {
				return err
			}
			for _, r := range ranges {
				if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 && r.Nodes[0].Addr != primary {
					return fmt.Errorf("node %s: slot %d served by %s", n.Addr(), slot, r.Nodes[0].Addr)
				}
			}
		}
		return nil
	}); err != nil {
		return err
	}
	return c.waitStable()
}

// Close kills every node.
func (c *Cluster) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, n := range c.nodes {
		n.Kill()
	}
}
