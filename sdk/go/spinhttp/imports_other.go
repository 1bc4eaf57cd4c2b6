//go:build !wasip1

package spinhttp

import "github.com/redspin/redspin/sdk/go/internal/cabi"

// Outside a wasip1 guest there is no host: the import panics.

func sendRequest(_, _, _, _, _, _, _, _, _, _, _ uint32) { cabi.NotWasm("fermyon:spin/http") }
