package kv

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// redisStore keeps a label's keys in a Redis database, as Spin's redis
// key-value backend does: plain GET/SET/DEL/EXISTS on the key as given.
// The client is a pool shared by all instances; no command changes
// connection state.
type redisStore struct {
	client   *redis.Client
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
// blocks the server on large databases; the result is the same).
func (s *redisStore) Keys(ctx context.Context) ([]string, error) {
	seen := map[string]struct{}{}
	keys := []string{}
	size := 0
	var cursor uint64
	for {
		batch, next, err := s.client.Scan(ctx, cursor, "*", 1000).Result()
		if err != nil {
			return nil, otherErr(err)
		}
		for _, k := range batch {
			if _, dup := seen[k]; dup {
				continue
			}
			seen[k] = struct{}{}
			if size += len(k) + 16; size > s.maxBytes {
				return nil, tooLarge(s.maxBytes)
			}
			keys = append(keys, k)
		}
		if next == 0 {
			return keys, nil
		}
		cursor = next
	}
}
