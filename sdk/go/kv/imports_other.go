//go:build !wasip1

package kv

import "github.com/redspin/redspin/sdk/go/internal/cabi"

// Outside a wasip1 guest there is no host: every import panics.

const iface = "fermyon:spin/key-value@2.0.0"

func storeOpen(_, _, _ uint32)         { cabi.NotWasm(iface) }
func storeDrop(_ uint32)               { cabi.NotWasm(iface) }
func storeGet(_, _, _, _ uint32)       { cabi.NotWasm(iface) }
func storeSet(_, _, _, _, _, _ uint32) { cabi.NotWasm(iface) }
func storeDelete(_, _, _, _ uint32)    { cabi.NotWasm(iface) }
func storeExists(_, _, _, _ uint32)    { cabi.NotWasm(iface) }
func storeGetKeys(_, _ uint32)         { cabi.NotWasm(iface) }
