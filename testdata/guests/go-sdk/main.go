// Command go-sdk is the "go-sdk" test guest: the payload protocol of the
// hand-written Go guest (protocol.go, a symlink to ../go/protocol.go) served
// through redspin's Go SDK, plus commands that call the Spin interfaces
// through the SDK (host.go; left out with -tags protocolonly, the build that
// is compared with ../go for size and speed).
//
// It is built by the SDK's tests (sdk/go/sdktest), not committed as Wasm.
package main

import (
	"context"
	"errors"

	"github.com/redspin/redspin/sdk/go/redis"
)

const name = "go-sdk"

func init() {
	redis.Handle(func(_ context.Context, payload []byte) error {
		if err, ok := hostCommand(payload); ok {
			return err
		}
		switch handle(payload) {
		case errError:
			return errors.New("fail requested")
		case errSuccess:
			// The SDK cannot return err(success); it becomes err(error).
			return errors.New("errsuccess requested")
		}
		return nil
	})
}

func main() {}
