package redisserver

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
)

func ping(t *testing.T, opts *redis.Options) {
	t.Helper()
	c := redis.NewClient(opts)
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("PING %s: %v", opts.Addr, err)
	}
}

func TestAllListenersAndRestart(t *testing.T) {
	alice := User{Name: "alice", Password: "wonder-land"}
	s := Start(t, Options{TLS: true, Unix: true, Password: "default-pw", Users: []User{alice}})

	ping(t, &redis.Options{Addr: s.Addr(), Password: "default-pw"})
	ping(t, &redis.Options{Addr: s.TLSAddr(), Password: "default-pw", TLSConfig: s.TLSConfig()})
	ping(t, &redis.Options{Network: "unix", Addr: s.Socket, Password: "default-pw"})
	ping(t, &redis.Options{Addr: s.Addr(), Username: alice.Name, Password: alice.Password})
	for _, u := range []string{s.URL(), s.UserURL(alice)} {
		o, err := redis.ParseURL(u)
		if err != nil {
			t.Fatal(err)
		}
		ping(t, o)
	}

	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: "wrong"})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("PING with a wrong password succeeded")
	}

	pid := s.Pid()
	s.Restart()
	if s.Pid() == pid || s.Pid() == 0 {
		t.Fatalf("pid %d after restart (was %d)", s.Pid(), pid)
	}
	ping(t, &redis.Options{Addr: s.Addr(), Password: "default-pw"})
	ping(t, &redis.Options{Network: "unix", Addr: s.Socket, Password: "default-pw"})
}
