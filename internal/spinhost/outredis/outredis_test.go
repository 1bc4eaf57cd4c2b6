package outredis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
)

func newInstance(t *testing.T, cfg Config) *Instance {
	t.Helper()
	if cfg.Component == "" {
		cfg.Component = "comp"
	}
	if cfg.Allowed == nil {
		cfg.Allowed = allowedhosts.MustParse("redis://127.0.0.1:*")
	}
	inst := New(cfg).NewInstance()
	t.Cleanup(func() { _ = inst.Close() })
	return inst
}

func mustOpen(t *testing.T, inst *Instance, addr string) uint32 {
	t.Helper()
	h, err := inst.Open(context.Background(), addr)
	if err != nil {
		t.Fatalf("Open(%q): %v", addr, err)
	}
	return h
}

func TestTypedOperations(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, "redis://"+m.Addr())

	if err := inst.Set(ctx, h, "k", []byte("v\x00bin")); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.Get("k"); got != "v\x00bin" {
		t.Fatalf("server has %q", got)
	}
	v, ok, err := inst.Get(ctx, h, "k")
	if err != nil || !ok || string(v) != "v\x00bin" {
		t.Fatalf("Get = %q %v %v", v, ok, err)
	}
	v, ok, err = inst.Get(ctx, h, "missing")
	if err != nil || ok || v != nil {
		t.Fatalf("Get(missing) = %q %v %v, want absent", v, ok, err)
	}
	for want := int64(1); want <= 2; want++ {
		n, err := inst.Incr(ctx, h, "counter")
		if err != nil || n != want {
			t.Fatalf("Incr = %d %v, want %d", n, err, want)
		}
	}
	n, err := inst.SAdd(ctx, h, "set", []string{"a", "b", "a"})
	if err != nil || n != 2 {
		t.Fatalf("SAdd = %d %v", n, err)
	}
	members, err := inst.SMembers(ctx, h, "set")
	if err != nil || !reflect.DeepEqual(members, []string{"a", "b"}) {
		t.Fatalf("SMembers = %q %v", members, err)
	}
	n, err = inst.SRem(ctx, h, "set", []string{"a", "zz"})
	if err != nil || n != 1 {
		t.Fatalf("SRem = %d %v", n, err)
	}
	members, err = inst.SMembers(ctx, h, "nosuchset")
	if err != nil || len(members) != 0 {
		t.Fatalf("SMembers(missing) = %q %v", members, err)
	}
	n, err = inst.Del(ctx, h, []string{"k", "counter", "nope"})
	if err != nil || n != 2 {
		t.Fatalf("Del = %d %v", n, err)
	}
	if m.Exists("k") || m.Exists("counter") {
		t.Fatal("keys still exist after Del")
	}

	// WRONGTYPE is type-error for typed operations.
	if _, err := inst.SAdd(ctx, h, "str", nil); KindOf(err) != KindOther {
		t.Fatalf("SADD without members: %v", err) // wrong number of arguments
	}
	_ = m.Set("str", "x")
	_, err = inst.SAdd(ctx, h, "str", []string{"a"})
	if KindOf(err) != KindTypeError {
		t.Fatalf("SAdd on a string: %v, want type-error", err)
	}
	if _, err := inst.Incr(ctx, h, "set"); KindOf(err) != KindTypeError {
		t.Fatalf("Incr on a set: %v, want type-error", err)
	}
	// A non-integer is a server error (ERR), not a type error.
	_ = m.Set("notnum", "abc")
	_, err = inst.Incr(ctx, h, "notnum")
	if KindOf(err) != KindOther || !strings.Contains(MessageOf(err), "not an integer") {
		t.Fatalf("Incr on a non-number: %v", err)
	}
	// The connection still works after server errors.
	if err := inst.Set(ctx, h, "after", []byte("1")); err != nil {
		t.Fatal(err)
	}
}

func TestPublishReachesSubscriber(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	sub := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer sub.Close()
	ps := sub.Subscribe(ctx, "out")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}

	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, "redis://"+m.Addr())
	if err := inst.Publish(ctx, h, "out", []byte("hello")); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	msg, err := ps.ReceiveMessage(rctx)
	if err != nil || msg.Payload != "hello" {
		t.Fatalf("subscriber got %v %v", msg, err)
	}
}

func TestExecute(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, "redis://"+m.Addr())

	res, err := inst.Execute(ctx, h, "SET", []Param{BinaryParam([]byte("k")), IntParam(42)})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultStatus, Status: "OK"}}) {
		t.Fatalf("SET: %+v %v", res, err)
	}
	res, err = inst.Execute(ctx, h, "GET", []Param{BinaryParam([]byte("k"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultBinary, Binary: []byte("42")}}) {
		t.Fatalf("GET: %+v %v", res, err)
	}
	res, err = inst.Execute(ctx, h, "GET", []Param{BinaryParam([]byte("none"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultNil}}) {
		t.Fatalf("GET missing: %+v %v", res, err)
	}
	res, err = inst.Execute(ctx, h, "APPEND", []Param{BinaryParam([]byte("k")), BinaryParam([]byte("!"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultInt64, Int64: 3}}) {
		t.Fatalf("APPEND: %+v %v", res, err)
	}
	// RESP2 (the default): HGETALL is a flat array.
	m.HSet("h", "f", "v")
	res, err = inst.Execute(ctx, h, "HGETALL", []Param{BinaryParam([]byte("h"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultBinary, Binary: []byte("f")}, {Kind: ResultBinary, Binary: []byte("v")}}) {
		t.Fatalf("HGETALL: %+v %v", res, err)
	}
	// Server errors are other(msg), WRONGTYPE included.
	_, err = inst.Execute(ctx, h, "NOSUCHCOMMAND", nil)
	if KindOf(err) != KindOther || !strings.Contains(MessageOf(err), "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	_, err = inst.Execute(ctx, h, "SADD", []Param{BinaryParam([]byte("k")), BinaryParam([]byte("x"))})
	if KindOf(err) != KindOther || !strings.HasPrefix(MessageOf(err), "WRONGTYPE") {
		t.Fatalf("execute WRONGTYPE: %v", err)
	}

	// RESP3 on request: HGETALL is a map, which execute refuses.
	h3 := mustOpen(t, inst, "redis://"+m.Addr()+"?protocol=resp3")
	_, err = inst.Execute(ctx, h3, "HGETALL", []Param{BinaryParam([]byte("h"))})
	if err == nil || !strings.Contains(err.Error(), "map") {
		t.Fatalf("RESP3 HGETALL: %v", err)
	}
	res, err = inst.Execute(ctx, h3, "GET", []Param{BinaryParam([]byte("none"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultNil}}) {
		t.Fatalf("RESP3 GET missing: %+v %v", res, err)
	}
	v, ok, err := inst.Get(ctx, h3, "none")
	if err != nil || ok || v != nil {
		t.Fatalf("RESP3 Get missing: %q %v %v", v, ok, err)
	}
}

func TestConnectionStateIsPerHandleAndInstance(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	c := New(Config{Component: "c", Allowed: allowedhosts.MustParse("redis://127.0.0.1:*")})
	a, b := c.NewInstance(), c.NewInstance()
	defer a.Close()
	defer b.Close()
	ha := mustOpen(t, a, "redis://"+m.Addr())
	hb := mustOpen(t, b, "redis://"+m.Addr())
	if _, err := a.Execute(ctx, ha, "SELECT", []Param{IntParam(3)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Set(ctx, ha, "k", []byte("db3")); err != nil {
		t.Fatal(err)
	}
	if err := b.Set(ctx, hb, "k", []byte("db0")); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.DB(3).Get("k"); got != "db3" {
		t.Fatalf("db3 has %q", got)
	}
	if got, _ := m.DB(0).Get("k"); got != "db0" {
		t.Fatalf("db0 has %q", got)
	}
	// The URL's database is selected at open.
	h2 := mustOpen(t, a, "redis://"+m.Addr()+"/5")
	if err := a.Set(ctx, h2, "k", []byte("db5")); err != nil {
		t.Fatal(err)
	}
	if got, _ := m.DB(5).Get("k"); got != "db5" {
		t.Fatalf("db5 has %q", got)
	}
}

func TestOpenErrors(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	inst := newInstance(t, Config{Component: "writer", Allowed: allowedhosts.MustParse("redis://allowed.example:6379"), Logger: log})
	_, err := inst.Open(ctx, "redis://"+m.Addr())
	if KindOf(err) != KindInvalidAddress {
		t.Fatalf("denied host: %v, want invalid-address", err)
	}
	wantFix := fmt.Sprintf(`allowed_outbound_hosts = [\"redis://%s\"]`, m.Addr())
	if !strings.Contains(logs.String(), wantFix) || !strings.Contains(logs.String(), "component=writer") {
		t.Fatalf("log does not name the component and fix %s:\n%s", wantFix, logs.String())
	}
	if !strings.Contains(err.Error(), `component "writer"`) {
		t.Fatalf("error does not name the component: %v", err)
	}

	logs.Reset()
	_, err = inst.Open(ctx, "redis://:hunter2@[bad")
	if KindOf(err) != KindInvalidAddress {
		t.Fatalf("bad URL: %v, want invalid-address", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(logs.String(), "hunter2") {
		t.Fatal("password leaked")
	}

	// No entries: nothing is allowed.
	none := New(Config{Component: "c"}).NewInstance()
	defer none.Close()
	if _, err := none.Open(ctx, "redis://"+m.Addr()); KindOf(err) != KindInvalidAddress {
		t.Fatalf("empty allow list: %v", err)
	}

	// Allowed but nothing listening: other.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	_, err = newInstance(t, Config{}).Open(ctx, "redis://"+dead)
	if KindOf(err) != KindOther || !strings.Contains(err.Error(), "connect to") {
		t.Fatalf("refused connection: %v", err)
	}

	// Authentication failures are other, without the password.
	m.RequireAuth("right")
	_, err = newInstance(t, Config{}).Open(ctx, "redis://:wrong@"+m.Addr())
	if KindOf(err) != KindOther || !strings.Contains(err.Error(), "AUTH") || strings.Contains(err.Error(), "wrong@") {
		t.Fatalf("bad password: %v", err)
	}
	good := newInstance(t, Config{})
	h := mustOpen(t, good, "redis://:right@"+m.Addr())
	if err := good.Set(ctx, h, "authed", []byte("1")); err != nil {
		t.Fatal(err)
	}
}

func TestTooManyConnectionsAndClose(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	inst := New(Config{Component: "c", Allowed: allowedhosts.MustParse("redis://127.0.0.1:*"), MaxConnections: 3}).NewInstance()
	var hs []uint32
	for range 3 {
		hs = append(hs, mustOpen(t, inst, "redis://"+m.Addr()))
	}
	_, err := inst.Open(ctx, "redis://"+m.Addr())
	if KindOf(err) != KindTooManyConnections {
		t.Fatalf("4th open: %v, want too-many-connections", err)
	}
	waitFor(t, func() bool { return m.CurrentConnectionCount() == 3 })

	// Dropping frees a slot; the dropped handle no longer works.
	inst.Drop(hs[0])
	if err := inst.Set(ctx, hs[0], "k", nil); KindOf(err) != KindOther {
		t.Fatalf("use after drop: %v", err)
	}
	h := mustOpen(t, inst, "redis://"+m.Addr())
	if h == hs[0] || h == hs[1] || h == hs[2] {
		t.Fatalf("handle %d reused while live: %v", h, hs)
	}

	// Legacy calls borrow a slot only while they run.
	if _, err := inst.Legacy().Incr(ctx, "redis://"+m.Addr(), "n"); KindOf(err) != KindTooManyConnections {
		t.Fatalf("legacy at the limit: %v", err)
	}

	if err := inst.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return m.CurrentConnectionCount() == 0 })
	if _, err := inst.Open(ctx, "redis://"+m.Addr()); err == nil {
		t.Fatal("Open after Close succeeded")
	}
	_ = inst.Close() // idempotent
}

func TestLegacy(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	inst := newInstance(t, Config{})
	l := inst.Legacy()
	addr := "redis://" + m.Addr()

	if err := l.Set(ctx, addr, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	v, err := l.Get(ctx, addr, "k")
	if err != nil || string(v) != "v" {
		t.Fatalf("Get = %q %v", v, err)
	}
	v, err = l.Get(ctx, addr, "missing")
	if err != nil || v == nil || len(v) != 0 {
		t.Fatalf("Get(missing) = %#v %v, want empty list", v, err)
	}
	if n, err := l.Incr(ctx, addr, "n"); err != nil || n != 1 {
		t.Fatalf("Incr = %d %v", n, err)
	}
	if n, err := l.SAdd(ctx, addr, "s", []string{"x", "y"}); err != nil || n != 2 {
		t.Fatalf("SAdd = %d %v", n, err)
	}
	if n, err := l.SRem(ctx, addr, "s", []string{"x"}); err != nil || n != 1 {
		t.Fatalf("SRem = %d %v", n, err)
	}
	if s, err := l.SMembers(ctx, addr, "s"); err != nil || !reflect.DeepEqual(s, []string{"y"}) {
		t.Fatalf("SMembers = %q %v", s, err)
	}
	if n, err := l.Del(ctx, addr, []string{"k", "n"}); err != nil || n != 2 {
		t.Fatalf("Del = %d %v", n, err)
	}
	if res, err := l.Execute(ctx, addr, "PING", nil); err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultStatus, Status: "PONG"}}) {
		t.Fatalf("Execute = %+v %v", res, err)
	}
	if err := l.Publish(ctx, addr, "ch", []byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := l.Set(ctx, "redis://denied.example", "k", nil); KindOf(err) != KindInvalidAddress {
		t.Fatalf("denied: %v", err)
	}
	// Every call closed its connection.
	if inst.Len() != 0 {
		t.Fatalf("%d connections left open", inst.Len())
	}
	waitFor(t, func() bool { return m.CurrentConnectionCount() == 0 })
}

func TestResultLimit(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	inst := newInstance(t, Config{MaxResultBytes: 1000})
	h := mustOpen(t, inst, "redis://"+m.Addr())
	_ = m.Set("big", strings.Repeat("x", 1001))
	_ = m.Set("small", "ok")
	_, _, err := inst.Get(ctx, h, "big")
	if err == nil || !strings.Contains(err.Error(), "query result exceeds limit of 1000 bytes") {
		t.Fatalf("Get(big): %v", err)
	}
	for i := range 200 {
		m.SetAdd("bigset", fmt.Sprint("member", i))
	}
	if _, err := inst.Execute(ctx, h, "SMEMBERS", []Param{BinaryParam([]byte("bigset"))}); err == nil {
		t.Fatal("large execute reply accepted")
	}
	// The connection is still in step.
	v, ok, err := inst.Get(ctx, h, "small")
	if err != nil || !ok || string(v) != "ok" {
		t.Fatalf("Get after limit: %q %v %v", v, ok, err)
	}
}

// A resolver that answers for one name and counts lookups.
type fakeResolver struct {
	name    string
	addr    netip.Addr
	lookups atomic.Int32
}

func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.lookups.Add(1)
	if host != r.name {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []netip.Addr{r.addr}, nil
}

func TestResolveOnceAndDialChecked(t *testing.T) {
	m := miniredis.RunT(t)
	ctx := context.Background()
	res := &fakeResolver{name: "cache.test", addr: netip.MustParseAddr("127.0.0.1")}
	inst := newInstance(t, Config{Allowed: allowedhosts.MustParse("redis://cache.test:*"), Resolver: res})
	h := mustOpen(t, inst, "redis://cache.test:"+m.Port())
	if err := inst.Set(ctx, h, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if got := res.lookups.Load(); got != 1 {
		t.Fatalf("%d lookups, want 1", got)
	}
	// The allow list matches the name as written, not the address.
	if _, err := inst.Open(ctx, "redis://"+m.Addr()); KindOf(err) != KindInvalidAddress {
		t.Fatalf("IP not in list: %v", err)
	}
	_, err := inst.Open(ctx, "redis://nosuch.test:"+m.Port())
	if KindOf(err) != KindInvalidAddress {
		t.Fatalf("not allowed name: %v", err)
	}
	inst2 := newInstance(t, Config{Allowed: allowedhosts.MustParse("redis://*.test:*"), Resolver: res})
	_, err = inst2.Open(ctx, "redis://nosuch.test:"+m.Port())
	if KindOf(err) != KindOther || !strings.Contains(err.Error(), "resolve nosuch.test") {
		t.Fatalf("unresolvable name: %v", err)
	}
}

func TestContextCancelBreaksOnlyThatCall(t *testing.T) {
	// A server that accepts and never answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = bufio.NewReader(c).ReadBytes(0); c.Close() }()
		}
	}()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, "redis://"+l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = inst.Get(ctx, h, "k")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with deadline: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Get did not stop at the deadline")
	}
	// The connection is out of step now and says so.
	_, _, err = inst.Get(context.Background(), h, "k")
	if err == nil || !strings.Contains(err.Error(), "unusable") {
		t.Fatalf("Get after a cancelled call: %v", err)
	}
}

// fakeServer answers each command with the next canned reply.
func fakeServer(t *testing.T, replies ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		rd := reader{br: bufio.NewReader(c), limit: 1 << 20}
		for _, r := range replies {
			if _, err := rd.read(); err != nil {
				return
			}
			if _, err := c.Write([]byte(r)); err != nil {
				return
			}
		}
	}()
	return l.Addr().String()
}

func TestRESP3Types(t *testing.T) {
	addr := fakeServer(t,
		"%1\r\n+server\r\n+redis\r\n", // HELLO 3
		"*4\r\n,2.5\r\n#t\r\n(12345678901234567890\r\n_\r\n",
		"=8\r\ntxt:info\r\n",
		"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n",
		">3\r\n+message\r\n+ch\r\n+x\r\n",
		"+still in step\r\n",
	)
	inst := newInstance(t, Config{})
	ctx := context.Background()
	h := mustOpen(t, inst, "redis://"+addr+"?protocol=resp3")
	res, err := inst.Execute(ctx, h, "X", nil)
	want := []Result{
		{Kind: ResultBinary, Binary: []byte("2.5")},
		{Kind: ResultInt64, Int64: 1},
		{Kind: ResultBinary, Binary: []byte("12345678901234567890")},
		{Kind: ResultNil},
	}
	if err != nil || !reflect.DeepEqual(res, want) {
		t.Fatalf("got %+v %v", res, err)
	}
	for _, what := range []string{"verbatim", "attribute", "push"} {
		if _, err := inst.Execute(ctx, h, "X", nil); err == nil || !strings.Contains(err.Error(), what) {
			t.Fatalf("%s: %v", what, err)
		}
	}
	res, err = inst.Execute(ctx, h, "X", nil)
	if err != nil || res[0].Status != "still in step" {
		t.Fatalf("after errors: %+v %v", res, err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}
