package kv

import (
	"context"
	"errors"
	"sync"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps a label's keys in a Redis database, as Spin's redis
// key-value backend does: plain GET/SET/DEL/EXISTS on the key as given.
// The client is a pool shared by all instances; no command changes
// connection state. On a Redis Cluster each command goes to its key's node;
// on Sentinel, to the current primary.
type redisStore struct {
	client   redis.UniversalClient
	maxBytes int
}

func (s *redisStore) Get(ctx context.Context, key string) ([]byte, bool, error) {
	v, err := s.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, otherErr(err)
	}
	if len(v) > s.maxBytes {
		return nil, false, tooLarge(s.maxBytes)
	}
	return v, true, nil
}

func (s *redisStore) Set(ctx context.Context, key string, value []byte) error {
	return otherErr(s.client.Set(ctx, key, value, 0).Err())
}

func (s *redisStore) Delete(ctx context.Context, key string) error {
	return otherErr(s.client.Del(ctx, key).Err())
}

func (s *redisStore) Exists(ctx context.Context, key string) (bool, error) {
	n, err := s.client.Exists(ctx, key).Result()
	return n > 0, otherErr(err)
}

// Keys lists every key in the database with SCAN (Spin uses KEYS *, which
// blocks the server on large databases; the result is the same). On a Redis
// Cluster it scans every primary.
func (s *redisStore) Keys(ctx context.Context) ([]string, error) {
	var mu sync.Mutex
	seen := map[string]struct{}{}
	keys := []string{}
	size := 0
	add := func(batch []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range batch {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			if size += len(k) + 16; size > s.maxBytes {
				return tooLarge(s.maxBytes)
			}
			keys = append(keys, k)
		}
		return nil
	}
	var err error
	if cc, ok := s.client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error { return scanAll(ctx, c, add) })
	} else {
		err = scanAll(ctx, s.client, add)
	}
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, otherErr(err)
	}
	return keys, nil
}

// scanAll passes every key of c's database to add, a batch at a time.
func scanAll(ctx context.Context, c redis.Cmdable, add func([]string) error) error {
	var cursor uint64
	for {
		batch, next, err := c.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			return err
		}
		if err := add(batch); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}
