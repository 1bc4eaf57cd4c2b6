//go:build unix

package e2e

import (
	"fmt"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// TestStreamScaleOutAndCrash: three `redspin up` processes share one app and
// consumer group; 6,000 entries are added; one process is killed with
// SIGKILL mid-run and a replacement (same replica label, new consumer name,
// as a restarted pod gets) is started. The stream guest records every entry
// it handles with outbound Redis: SADD jobs:ids <entry ID>, INCR jobs:handled,
// INCR jobs:handled:<replica>. Then:
//   - every entry was handled at least once (SCARD = 6,000);
//   - duplicates (handled − distinct) are at most the entries pending on the
//     killed consumer when it died: the ones it had read but not acked;
//   - nothing is pending at the end (the killed consumer's entries were
//     claimed with XAUTOCLAIM by the live replicas after claim_idle);
//   - every replica handled a share of the entries.
func TestStreamScaleOutAndCrash(t *testing.T) {
	const (
		entries     = 6000
		concurrency = 4
		group       = "jobs-workers"
	)
	srv := redisserver.Start(t, redisserver.Options{})
	rdb := srv.Client()
	addr := "redis://" + srv.Addr()
	dir := app(t, fmt.Sprintf(`spin_manifest_version = 2
[application]
name = "scale"
[variables]
replica = { default = "unlabelled" }
[application.trigger.redis-stream]
address = %[1]q
[[trigger.redis-stream]]
component = "worker"
stream = "jobs"
group = %[4]q
field = "action"
concurrency = %[3]d
claim_idle = "3s"
[component.worker]
source = %[2]q
allowed_outbound_hosts = [%[1]q]
[component.worker.variables]
replica = "{{ replica }}"
`, addr, guestPath("stream", "stream.wasm"), concurrency, group))
	c := ctx(t)

	action := "record:" + addr + "|jobs"
	p := rdb.Pipeline()
	for i := range entries {
		p.XAdd(c, &redis.XAddArgs{Stream: "jobs", Values: []any{"action", action, "n", i}})
		if i%500 == 499 {
			if _, err := p.Exec(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := p.Exec(c); err != nil {
		t.Fatal(err)
	}

	replica := func(label, consumer string) *proc {
		return startRedspin(t, runOpts{env: []string{"SPIN_VARIABLE_REPLICA=" + label}},
			upArgs(dir, "--quiet", "--consumer", consumer, "--handler-timeout", "2s")...)
	}
	procs := map[string]*proc{"r1": replica("r1", "r1"), "r2": replica("r2", "r2"), "r3": replica("r3", "r3")}
	for name, p := range procs {
		p.waitStdout(`consumer "` + name + `"`)
	}
	handled := func() int64 { n, _ := rdb.Get(c, "jobs:handled").Int64(); return n }
	perReplica := func(r string) int64 { n, _ := rdb.Get(c, "jobs:handled:"+r).Int64(); return n }

	// Kill r2 mid-run, once it has done some of the work.
	waitUntil(t, "r2 to handle 300 entries and everyone 1,500", func() bool {
		return perReplica("r2") >= 300 && handled() >= 1500
	})
	procs["r2"].signal(syscall.SIGKILL)
	if code := procs["r2"].wait(exitTimeout); code != -1 {
		t.Fatalf("r2 exit code %d, want -1 (killed)", code)
	}
	killedAt := handled()
	// What r2 had read and not acked when it died: an upper bound on the
	// entries handled twice.
	inFlight, err := rdb.XPendingExt(c, &redis.XPendingExtArgs{Stream: "jobs", Group: group, Start: "-", End: "+",
		Count: 10 * entries, Consumer: "r2"}).Result()
	if err != nil {
		t.Fatal(err)
	}
	if killedAt >= entries-500 {
		t.Fatalf("the kill came too late to be mid-run: %d of %d handled", killedAt, entries)
	}
	procs["r2b"] = replica("r2", "r2b")

	waitUntil(t, "every entry handled", func() bool { return rdb.SCard(c, "jobs:ids").Val() == entries })
	waitUntil(t, "nothing pending", func() bool { return rdb.XPending(c, "jobs", group).Val().Count == 0 })

	distinct, total := rdb.SCard(c, "jobs:ids").Val(), handled()
	dups := total - distinct
	t.Logf("handled %d (distinct %d, duplicates %d); r2 had %d entries pending when killed after %d handled in all; per replica: r1 %d, r2 %d, r3 %d",
		total, distinct, dups, len(inFlight), killedAt, perReplica("r1"), perReplica("r2"), perReplica("r3"))
	if dups < 0 || dups > int64(len(inFlight)) {
		t.Errorf("%d duplicates, more than the %d entries in flight in the killed process", dups, len(inFlight))
	}
	var sum int64
	for _, r := range []string{"r1", "r2", "r3"} {
		n := perReplica(r)
		sum += n
		if n < entries/20 {
			t.Errorf("replica %s handled %d entries: the work was not shared (want at least %d)", r, n, entries/20)
		}
	}
	// Each entry's last, acked handling counted for its replica; a handling
	// killed between the guest's INCRs counted in jobs:handled only.
	if sum < distinct || sum > total || perReplica("unlabelled") != 0 {
		t.Errorf("per-replica counts add up to %d (unlabelled %d), want between %d and %d", sum, perReplica("unlabelled"), distinct, total)
	}
	// The dead consumer's entries were claimed by the survivors (XAUTOCLAIM).
	claimed := 0
	for _, name := range []string{"r1", "r3", "r2b"} {
		if code := procs[name].stop(syscall.SIGTERM); code != 0 {
			t.Errorf("%s: exit code %d\n%s", name, code, procs[name].output())
		}
		claimed += claimedIn(t, procs[name].stderr.String())
	}
	if claimed < len(inFlight) {
		t.Errorf("the survivors claimed %d entries, want at least the %d pending on the killed consumer", claimed, len(inFlight))
	}
	if n := rdb.XPending(c, "jobs", group).Val().Count; n != 0 {
		t.Errorf("%d entries pending after the replicas stopped", n)
	}
}

var claimedRe = regexp.MustCompile(`redspin: streams: .*, (\d+) claimed,`)

// claimedIn reads "N claimed" from the stream exit summary.
func claimedIn(t *testing.T, stderr string) int {
	t.Helper()
	m := claimedRe.FindStringSubmatch(stderr)
	if m == nil {
		t.Errorf("no stream exit summary in stderr:\n%s", stderr)
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}
