package variables_test

import (
	"context"
	"fmt"

	"github.com/redspin/redspin/sdk/go/redis"
	"github.com/redspin/redspin/sdk/go/variables"
)

// Read the component variable "greeting" (declared in the component's
// [component.<id>.variables] table).
func ExampleGet() {
	redis.Handle(func(ctx context.Context, payload []byte) error {
		greeting, err := variables.Get("greeting")
		if err != nil {
			return err
		}
		fmt.Printf("%s, %s\n", greeting, payload)
		return nil
	})
}

func ExampleError() {
	fmt.Println(&variables.Error{Kind: variables.Undefined, Message: "no variable \"nope\""})
	// Output: variables: undefined: no variable "nope"
}
