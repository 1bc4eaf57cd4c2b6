//go:build !wasip1

package redis

import "github.com/redspin/redspin/sdk/go/internal/cabi"

// Outside a wasip1 guest there is no host: every import panics.

const iface = "fermyon:spin/redis@2.0.0"

func connectionOpen(_, _, _ uint32)             { cabi.NotWasm(iface) }
func connectionDrop(_ uint32)                   { cabi.NotWasm(iface) }
func connectionPublish(_, _, _, _, _, _ uint32) { cabi.NotWasm(iface) }
func connectionGet(_, _, _, _ uint32)           { cabi.NotWasm(iface) }
func connectionSet(_, _, _, _, _, _ uint32)     { cabi.NotWasm(iface) }
func connectionIncr(_, _, _, _ uint32)          { cabi.NotWasm(iface) }
func connectionDel(_, _, _, _ uint32)           { cabi.NotWasm(iface) }
func connectionSadd(_, _, _, _, _, _ uint32)    { cabi.NotWasm(iface) }
func connectionSrem(_, _, _, _, _, _ uint32)    { cabi.NotWasm(iface) }
func connectionSmembers(_, _, _, _ uint32)      { cabi.NotWasm(iface) }
func connectionExecute(_, _, _, _, _, _ uint32) { cabi.NotWasm(iface) }
