package kv

import (
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/testutil/redisserver"
)

func TestE2ERedisStore(t *testing.T) {
	srv := redisserver.Start(t, redisserver.Options{Password: "pw"})
	m := newManager(t, Config{Stores: map[string]runtimeconfig.KeyValueStore{
		"cache": {Type: "redis", URL: srv.URL() + "/2"},
	}})
	inst, h := openStore(t, m, "cache")
	exercise(t, inst, h)
	// The store uses the URL's database and password.
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), Password: "pw", DB: 2, Protocol: 2})
	defer c.Close()
	if v, err := c.Get(t.Context(), "a").Result(); err != nil || v != "2\x00" {
		t.Fatalf("redis db 2 has %q %v", v, err)
	}
}
