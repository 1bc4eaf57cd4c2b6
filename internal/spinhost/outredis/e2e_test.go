package outredis

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

func TestE2ERealRedis(t *testing.T) {
	addr := redisserver.Start(t, redisserver.Options{}).Addr()
	ctx := context.Background()
	inst := newInstance(t, Config{})
	h := mustOpen(t, inst, "redis://"+addr)

	sub := redis.NewClient(&redis.Options{Addr: addr})
	defer sub.Close()
	ps := sub.Subscribe(ctx, "events")
	defer ps.Close()
	if _, err := ps.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	if err := inst.Publish(ctx, h, "events", []byte("ping")); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if msg, err := ps.ReceiveMessage(rctx); err != nil || msg.Payload != "ping" {
		t.Fatalf("subscriber: %v %v", msg, err)
	}

	if err := inst.Set(ctx, h, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	if v, ok, err := inst.Get(ctx, h, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("Get: %q %v %v", v, ok, err)
	}
	if n, err := inst.Incr(ctx, h, "n"); err != nil || n != 1 {
		t.Fatalf("Incr: %d %v", n, err)
	}
	if _, err := inst.SAdd(ctx, h, "k", []string{"x"}); KindOf(err) != KindTypeError {
		t.Fatalf("SAdd on a string: %v", err)
	}

	// RESP2: MULTI/EXEC on one connection, HGETALL flattened.
	for _, c := range []string{"MULTI"} {
		if _, err := inst.Execute(ctx, h, c, nil); err != nil {
			t.Fatal(err)
		}
	}
	if res, err := inst.Execute(ctx, h, "INCR", []Param{BinaryParam([]byte("n"))}); err != nil || res[0].Status != "QUEUED" {
		t.Fatalf("queued: %+v %v", res, err)
	}
	res, err := inst.Execute(ctx, h, "EXEC", nil)
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultInt64, Int64: 2}}) {
		t.Fatalf("EXEC: %+v %v", res, err)
	}
	if _, err := inst.Execute(ctx, h, "HSET", []Param{BinaryParam([]byte("hash")), BinaryParam([]byte("f")), IntParam(1)}); err != nil {
		t.Fatal(err)
	}
	res, err = inst.Execute(ctx, h, "HGETALL", []Param{BinaryParam([]byte("hash"))})
	if err != nil || len(res) != 2 || string(res[0].Binary) != "f" || string(res[1].Binary) != "1" {
		t.Fatalf("HGETALL: %+v %v", res, err)
	}
	// CLIENT SETNAME stays on this connection.
	if _, err := inst.Execute(ctx, h, "CLIENT", []Param{BinaryParam([]byte("SETNAME")), BinaryParam([]byte("spin-guest"))}); err != nil {
		t.Fatal(err)
	}
	res, err = inst.Execute(ctx, h, "CLIENT", []Param{BinaryParam([]byte("GETNAME"))})
	if err != nil || string(res[0].Binary) != "spin-guest" {
		t.Fatalf("GETNAME: %+v %v", res, err)
	}

	// RESP3: doubles and booleans map, maps and verbatim strings fail.
	h3 := mustOpen(t, inst, "redis://"+addr+"?protocol=resp3")
	if _, err := inst.Execute(ctx, h3, "ZADD", []Param{BinaryParam([]byte("z")), BinaryParam([]byte("1.5")), BinaryParam([]byte("m"))}); err != nil {
		t.Fatal(err)
	}
	res, err = inst.Execute(ctx, h3, "ZSCORE", []Param{BinaryParam([]byte("z")), BinaryParam([]byte("m"))})
	if err != nil || !reflect.DeepEqual(res, []Result{{Kind: ResultBinary, Binary: []byte("1.5")}}) {
		t.Fatalf("RESP3 ZSCORE: %+v %v", res, err)
	}
	if _, err := inst.Execute(ctx, h3, "HGETALL", []Param{BinaryParam([]byte("hash"))}); err == nil || !strings.Contains(err.Error(), "map") {
		t.Fatalf("RESP3 HGETALL: %v", err)
	}
	if _, err := inst.Execute(ctx, h3, "INFO", []Param{BinaryParam([]byte("server"))}); err == nil || !strings.Contains(err.Error(), "verbatim") {
		t.Fatalf("RESP3 INFO: %v", err)
	}
	if v, ok, err := inst.Get(ctx, h3, "k"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("RESP3 Get: %q %v %v", v, ok, err)
	}
	if m, err := inst.SMembers(ctx, h3, "nosuch"); err != nil || len(m) != 0 {
		t.Fatalf("RESP3 SMembers: %q %v", m, err)
	}
}

func TestE2ETLSUsersAndSockets(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{TLS: true, Unix: true, Password: "top secret",
		Users: []redisserver.User{{Name: "app", Password: "app-pw"}}})
	ctx := context.Background()
	allowed, err := allowedhosts.Parse([]string{"redis://127.0.0.1:*", "rediss://127.0.0.1:*", "unix://*"})
	if err != nil {
		t.Fatal(err)
	}
	inst := New(Config{Component: "c", Allowed: allowed, TLSConfig: srv.TLSConfig()}).NewInstance()
	defer inst.Close()

	for name, url := range map[string]string{
		"password": srv.URL(),
		"acl user": srv.UserURL(redisserver.User{Name: "app", Password: "app-pw"}),
		"tls":      srv.TLSURL(),
		"socket":   "unix://" + srv.Socket + "?pass=top%20secret",
	} {
		h, err := inst.Open(ctx, url)
		if err != nil {
			t.Errorf("%s: Open: %v", name, err)
			continue
		}
		if err := inst.Set(ctx, h, "via", []byte(name)); err != nil {
			t.Errorf("%s: Set: %v", name, err)
		}
		if v, _, err := inst.Get(ctx, h, "via"); err != nil || string(v) != name {
			t.Errorf("%s: Get = %q %v", name, v, err)
		}
	}
	_, err = inst.Open(ctx, strings.Replace(srv.UserURL(redisserver.User{Name: "app", Password: "app-pw"}), "app-pw", "wrong", 1))
	if KindOf(err) != KindOther || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("bad ACL password: %v", err)
	}
	// Without the CA the certificate is refused.
	plain := New(Config{Component: "c", Allowed: allowed}).NewInstance()
	defer plain.Close()
	if _, err := plain.Open(ctx, srv.TLSURL()); err == nil || !strings.Contains(err.Error(), "TLS handshake") {
		t.Fatalf("untrusted certificate: %v", err)
	}
	// #insecure skips verification.
	if _, err := plain.Open(ctx, srv.TLSURL()+"#insecure"); err != nil {
		t.Fatalf("#insecure: %v", err)
	}
}
