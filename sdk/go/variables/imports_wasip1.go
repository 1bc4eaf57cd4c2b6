//go:build wasip1

package variables

//go:wasmimport fermyon:spin/variables@2.0.0 get
func get(name, nameLen, ret uint32)
