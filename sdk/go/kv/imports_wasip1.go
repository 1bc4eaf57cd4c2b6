//go:build wasip1

package kv

// The core-module imports of fermyon:spin/key-value@2.0.0.

//go:wasmimport fermyon:spin/key-value@2.0.0 [static]store.open
func storeOpen(label, labelLen, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [resource-drop]store
func storeDrop(h uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.get
func storeGet(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.set
func storeSet(h, key, keyLen, value, valueLen, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.delete
func storeDelete(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.exists
func storeExists(h, key, keyLen, ret uint32)

//go:wasmimport fermyon:spin/key-value@2.0.0 [method]store.get-keys
func storeGetKeys(h, ret uint32)
