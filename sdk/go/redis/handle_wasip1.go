//go:build wasip1

package redis

import (
	"context"
	"os"
	"unsafe"

	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// The handler's result, result<_, error> with error = enum {success, error}:
// byte 0 is 0 for ok and 1 for err, byte 1 the enum case. Only ok and
// err(error) are ever returned: err(success) would read as a failure to
// some hosts and as a success to others.
var (
	resultOK  = [2]byte{0, 0}
	resultErr = [2]byte{1, 1}
)

//go:wasmexport fermyon:spin/inbound-redis#handle-message
func handleMessage(ptr, n uint32) uint32 {
	cabi.BeginHandler()
	defer cabi.EndHandler()
	payload := cabi.Take(ptr, n)
	if handler == nil {
		os.Stderr.WriteString("redis: no handler: call redis.Handle from an init function\n")
		return cabi.Ptr(unsafe.Pointer(&resultErr))
	}
	if err := handler(context.Background(), payload); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		return cabi.Ptr(unsafe.Pointer(&resultErr))
	}
	return cabi.Ptr(unsafe.Pointer(&resultOK))
}
