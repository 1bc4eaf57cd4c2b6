//go:build unix

package wasmtime

import "syscall"

// reserveAddressSpace checks that n bytes of address space can be reserved
// now (mapped PROT_NONE without backing, then unmapped at once).
func reserveAddressSpace(n uint64) error {
	if n == 0 || n > 1<<62 {
		return syscall.ENOMEM
	}
	b, err := syscall.Mmap(-1, 0, int(n), syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return err
	}
	return syscall.Munmap(b)
}
