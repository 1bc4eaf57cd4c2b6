package redis_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/redspin/redspin/sdk/go/redis"
)

// A handler that prints each message. Register it from init in package main;
// main itself stays empty (the module is a reactor).
func ExampleHandle() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		fmt.Printf("received %q\n", payload)
		return nil
	})
}

// A handler that fails a message: the error text goes to the guest's
// stderr and the host counts the message as failed.
func ExampleHandlerFunc() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		if len(payload) == 0 {
			return fmt.Errorf("empty message")
		}
		return nil
	})
}

// Outbound Redis: count messages and forward them upper-cased. The address
// must be allowed by the component's allowed_outbound_hosts.
func ExampleOpen() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		conn, err := redis.Open("redis://127.0.0.1:6379")
		if err != nil {
			return err
		}
		defer conn.Close()
		n, err := conn.Incr("messages-seen")
		if err != nil {
			return err
		}
		fmt.Println("message", n)
		return conn.Publish("upper", []byte(strings.ToUpper(string(payload))))
	})
}

// Any command, with typed arguments and results.
func ExampleConn_Execute() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		conn, err := redis.Open("redis://127.0.0.1:6379")
		if err != nil {
			return err
		}
		defer conn.Close()
		res, err := conn.Execute("HINCRBY", redis.String("stats"), redis.String("bytes"), redis.Int(int64(len(payload))))
		if err != nil {
			return err
		}
		if len(res) == 1 && res[0].Kind == redis.Int64 {
			fmt.Println("bytes so far:", res[0].Int)
		}
		return nil
	})
}

// Errors from the host are *redis.Error values with a kind.
func ExampleError() {
	err := error(&redis.Error{Kind: redis.InvalidAddress})
	fmt.Println(err)
	// Output: redis: invalid-address
}
