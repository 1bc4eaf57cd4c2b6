//go:build wasip1

package redis

// The core-module imports of fermyon:spin/redis@2.0.0 (canonical ABI: strings
// and lists as address and length, results through the return area ret).

//go:wasmimport fermyon:spin/redis@2.0.0 [static]connection.open
func connectionOpen(addr, addrLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [resource-drop]connection
func connectionDrop(h uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.publish
func connectionPublish(h, ch, chLen, payload, payloadLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.get
func connectionGet(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.set
func connectionSet(h, key, keyLen, value, valueLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.incr
func connectionIncr(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.del
func connectionDel(h, keys, keysLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.sadd
func connectionSadd(h, key, keyLen, values, valuesLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.srem
func connectionSrem(h, key, keyLen, values, valuesLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.smembers
func connectionSmembers(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/redis@2.0.0 [method]connection.execute
func connectionExecute(h, cmd, cmdLen, args, argsLen, ret uint32)
