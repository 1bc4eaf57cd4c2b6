//go:build !wasip1

package variables

import "github.com/redspin/redspin/sdk/go/internal/cabi"

func get(_, _, _ uint32) { cabi.NotWasm("fermyon:spin/variables@2.0.0") }
