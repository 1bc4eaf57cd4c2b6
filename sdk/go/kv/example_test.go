package kv_test

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redspin/redspin/sdk/go/kv"
	"github.com/redspin/redspin/sdk/go/redis"
)

// Count messages in the default store (the component needs
// key_value_stores = ["default"]).
func ExampleOpen() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		store, err := kv.Open("default")
		if err != nil {
			return err
		}
		defer store.Close()
		n := 0
		if v, found, err := store.Get("count"); err != nil {
			return err
		} else if found {
			n, _ = strconv.Atoi(string(v))
		}
		n++
		fmt.Println("message", n)
		return store.Set("count", []byte(strconv.Itoa(n)))
	})
}

// A store the component may not open gives an AccessDenied error.
func ExampleError() {
	fmt.Println(&kv.Error{Kind: kv.AccessDenied})
	// Output: key-value: access-denied
}
