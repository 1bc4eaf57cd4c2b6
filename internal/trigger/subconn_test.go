package trigger

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// largePayload is message i of size n: its number, then a pattern that
// depends on i, so that a payload cut, shifted or overwritten by a later
// message (a buffer given back to the pool too early) does not match.
func largePayload(i, n int) []byte {
	p := make([]byte, n)
	if n < 4 {
		return p
	}
	binary.BigEndian.PutUint32(p, uint32(i))
	for j := 4; j < n; j++ {
		p[j] = byte(i*31 + j*7)
	}
	return p
}

// 64 KiB and 1 MiB messages, interleaved, go through the pooled reader
// intact and in order; the handler checks each payload while it runs (the
// buffer is reused for later messages as soon as the handler returns) and
// again after a pause, so a buffer recycled while still in use shows.
func TestE2ELargePayloadsIntactInOrder(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{Args: []string{"--client-output-buffer-limit", "pubsub 0 0 0"}})
	sizes := []int{64 << 10, 1 << 20, 64 << 10, 64 << 10, 1<<20 + 3, 65535, 65537, 1}
	const n = 160
	var (
		mu   sync.Mutex
		got  []int
		bad  []string
		want = func(i int) []byte { return largePayload(i, sizes[i%len(sizes)]) }
	)
	check := func(payload []byte, when string) (int, bool) {
		if len(payload) < 4 {
			return -1, len(payload) == 1
		}
		i := int(binary.BigEndian.Uint32(payload))
		if i >= n || !bytes.Equal(payload, want(i)) {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("message %d (%d bytes) corrupt %s", i, len(payload), when))
			mu.Unlock()
		}
		return i, true
	}
	h := handlerFunc(func(_ context.Context, _ string, payload []byte) error {
		i, ok := check(payload, "on arrival")
		if !ok {
			t.Errorf("payload of %d bytes", len(payload))
		}
		time.Sleep(200 * time.Microsecond) // let the reader run ahead and fill other buffers
		check(payload, "before the handler returned")
		mu.Lock()
		got = append(got, i)
		mu.Unlock()
		return nil
	})
	hs := started(t, Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2},
		Channels: []Channel{{Name: "big", Components: []string{"x"}}}}}}, h)
	ctx := context.Background()
	pipe := rs.Client().Pipeline()
	for i := range n {
		pipe.Publish(ctx, "big", want(i))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 60*time.Second, "every message handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	mu.Lock()
	defer mu.Unlock()
	for _, b := range bad {
		t.Error(b)
	}
	for k, i := range got {
		// The 1-byte message carries no number: it is message k.
		if i != k && !(i == -1 && sizes[k%len(sizes)] == 1) {
			t.Fatalf("message %d handled as number %d: out of order", k, i)
		}
	}
	if st := hs.tr.Stats(); st.Received != n || st.Dropped != 0 || st.Reconnects != 0 {
		t.Errorf("stats %+v", st)
	}
}

// A wrong password fails the startup with Redis's answer to AUTH, named as
// such, and never the password, in the error or the logs; so does a
// database the server does not have.
func TestE2EHandshakeErrors(t *testing.T) {
	const password = "sekret-pass-1234"
	rs := redisserver.Start(t, redisserver.Options{Password: "the-right-one"})
	for _, tc := range []struct {
		name string
		opts *redis.UniversalOptions
		want string
	}{
		{"wrong password", &redis.UniversalOptions{Password: password},
			": AUTH: WRONGPASS invalid username-password pair or user is disabled. (authentication failed: check the password and user in the address)"},
		{"unknown user", &redis.UniversalOptions{Username: "nobody", Password: password},
			": AUTH: WRONGPASS invalid username-password pair or user is disabled. (authentication failed"},
		{"no such database", &redis.UniversalOptions{Password: "the-right-one", DB: 99},
			": SELECT 99: ERR DB index is out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Addrs, tc.opts.Protocol = []string{rs.Addr()}, 2
			hs := newHarness(t, Config{ConnectRetry: -1, Servers: []Server{{Display: rs.Addr(), Options: tc.opts,
				Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, &recorder{})
			err := hs.returned(10 * time.Second)
			if err == nil || !strings.HasPrefix(err.Error(), "Redis trigger failed to connect to "+rs.Addr()+tc.want) {
				t.Fatalf("err = %v\nwant it to start with %q", err, "Redis trigger failed to connect to "+rs.Addr()+tc.want)
			}
			if strings.Contains(err.Error(), password) || strings.Contains(hs.logs.String(), password) {
				t.Fatalf("the password leaked: %v\n%s", err, hs.logs.String())
			}
		})
	}
}

// The database of the URL is selected on the subscription connection (pub/sub
// ignores it, but a server that refuses SELECT must fail the handshake, not
// pass silently), and a server with a password takes AUTH before SUBSCRIBE.
func TestE2EAuthAndSelect(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{Password: "pw"})
	rec := &recorder{}
	started(t, Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Password: "pw", DB: 5, Protocol: 2},
		Channels: []Channel{{Name: "db5", Components: []string{"x"}}}}}}, rec)
	info, err := rs.Client().ClientList(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(info, " db=5 ") || !strings.Contains(info, " cmd=subscribe") {
		t.Errorf("no subscriber on db 5 in CLIENT LIST:\n%s", info)
	}
	if err := rs.Client().Publish(context.Background(), "db5", "hi").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the message", func() bool { return rec.count() == 1 })
}

// A user name without a password sends no AUTH (as go-redis, which every
// other connection uses): the subscription connects as the default user.
func TestE2EUserWithoutPassword(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{})
	rec := &recorder{}
	started(t, Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Username: "alice", Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, rec)
	if err := rs.Client().Publish(context.Background(), "c", "hi").Err(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the message", func() bool { return rec.count() == 1 })
}

// A scheme that does not match the port fails the startup with the hint
// to use the other one: plain text to a TLS port reads the end of the
// connection, TLS to a plain-text port waits for a handshake in vain.
func TestE2ESchemeMismatchHint(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{TLS: true})
	for _, tc := range []struct {
		name, addr, want string
		opts             *redis.UniversalOptions
	}{
		{"plain to TLS", rs.TLSAddr(), "(the server closed the connection: if this port serves TLS, use rediss://)",
			&redis.UniversalOptions{Addrs: []string{rs.TLSAddr()}, Protocol: 2}},
		{"TLS to plain", rs.Addr(), "use redis:// instead of rediss://",
			&redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2, TLSConfig: rs.TLSConfig(), DialTimeout: 300 * time.Millisecond}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hs := newHarness(t, Config{ConnectRetry: -1, Servers: []Server{{Display: tc.addr, Options: tc.opts,
				Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, &recorder{})
			if err := hs.returned(10 * time.Second); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want the hint %q", err, tc.want)
			}
		})
	}
}

// TestSlowPayloadIsTraffic: a payload that keeps arriving for longer than the
// health-check interval is traffic, not silence: the session must not give up
// on it as "no reply to PING" (its PONG queues behind the payload) and lose
// the message. A fake server sends 2 MB at ~2 MB/s with a 250 ms interval
// (without progress counting, the session gives up after ~500 ms).
func TestSlowPayloadIsTraffic(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	const n = 2_000_000
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		for range 5 { // *2 $9 SUBSCRIBE $1 c
			if _, err := br.ReadString('\n'); err != nil {
				return
			}
		}
		go io.Copy(io.Discard, br) // the PINGs
		fmt.Fprintf(c, "*3\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$%d\r\n", n)
		chunk := bytes.Repeat([]byte("s"), 50_000)
		for sent := 0; sent < n; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return
			}
			time.Sleep(25 * time.Millisecond) // the slow network
		}
		c.Write([]byte("\r\n"))
		io.Copy(io.Discard, c) // until the trigger closes the connection
	}()
	rec := &recorder{}
	hs := started(t, Config{HealthCheckInterval: 250 * time.Millisecond, Servers: []Server{{Display: ln.Addr().String(),
		Options:  &redis.UniversalOptions{Addrs: []string{ln.Addr().String()}, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"x"}}}}}}, rec)
	waitFor(t, 10*time.Second, "the slow 2 MB message handled", func() bool { return rec.count() == 1 })
	if lost := hs.logLines("lost connection"); len(lost) > 0 {
		t.Errorf("the session gave up during the payload: %q", lost)
	}
	if got := rec.payloads("x")[0]; len(got) != n || strings.Trim(got, "s") != "" {
		t.Errorf("payload of %d bytes, want %d bytes of 's'", len(got), n)
	}
}

// TestE2EPayloadOverEveryLimitNotRead: a message longer than every
// component of its channel accepts (Channel.MaxPayload) is read past, not
// kept: it fails for each component without running it, with its size in
// the log, and the messages around it are handled on the same connection.
func TestE2EPayloadOverEveryLimitNotRead(t *testing.T) {
	rs := redisserver.Start(t, redisserver.Options{Args: []string{"--client-output-buffer-limit", "pubsub 0 0 0"}})
	rec := &recorder{}
	hs := started(t, Config{Servers: []Server{{Display: rs.Addr(), Options: &redis.UniversalOptions{Addrs: []string{rs.Addr()}, Protocol: 2},
		Channels: []Channel{{Name: "c", Components: []string{"a", "b"}, MaxPayload: 1 << 20}}}}}, rec)
	ctx := context.Background()
	for _, p := range []string{"before", strings.Repeat("z", 3<<20), strings.Repeat("w", 1<<20), "after"} {
		if err := rs.Client().Publish(ctx, "c", p).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// One lane, in order: once both components have handled "after", everything before it is settled.
	waitFor(t, 10*time.Second, "the last message handled by both components", func() bool {
		for _, c := range []string{"a", "b"} {
			if got := rec.payloads(c); len(got) == 0 || got[len(got)-1] != "after" {
				return false
			}
		}
		return true
	})
	for _, c := range []string{"a", "b"} {
		got := rec.payloads(c)
		if len(got) != 3 || got[0] != "before" || len(got[1]) != 1<<20 || got[2] != "after" {
			t.Errorf("component %s got %d messages (%.10q...), want before, the 1 MiB one, after", c, len(got), got)
		}
	}
	if st := hs.tr.Stats(); st.Received != 4 || st.Handled != 6 || st.Failed != 2 || st.Dropped != 0 || st.Reconnects != 0 {
		t.Errorf("stats %+v, want 4 received, 6 handled, 2 failed (the 3 MiB one, for each component)", st)
	}
	if lines := hs.logLines("payload too large"); len(lines) != 1 || !strings.Contains(lines[0], "bytes=3145728") ||
		!strings.Contains(lines[0], "limit=1048576") {
		t.Errorf("log lines %q, want one naming 3145728 bytes and the limit", lines)
	}
}
