// Package kv is Spin's key-value store (fermyon:spin/key-value@2.0.0) for
// guests written in standard Go (see package
// github.com/redspin/redspin/sdk/go/redis for how to build one).
//
// A component may open the stores named in its manifest's key_value_stores
// ("default" is the one every runtime provides):
//
//	store, err := kv.Open("default")
//	...
//	defer store.Close()
//	err = store.Set("greeting", []byte("hello"))
//
// Outside a GOOS=wasip1 build the package compiles, but every call panics.
package kv

import (
	"github.com/redspin/redspin/sdk/go/internal/cabi"
)

// ErrorKind is a case of fermyon:spin/key-value@2.0.0's error variant.
type ErrorKind uint8

// The error cases, in WIT order.
const (
	// StoreTableFull: the instance has too many stores open.
	StoreTableFull ErrorKind = iota
	// NoSuchStore: the host has no store with that label.
	NoSuchStore
	// AccessDenied: the component may not use that store (key_value_stores).
	AccessDenied
	// Other: any other failure; Error.Message says what.
	Other
)

var errorNames = []string{"store-table-full", "no-such-store", "access-denied", "other"}

// String names the case as the WIT does.
func (k ErrorKind) String() string { return cabi.CaseName(errorNames, uint8(k)) }

// Error is a failed key-value call.
type Error struct {
	// Kind is the error case.
	Kind ErrorKind
	// Message is the host's text for Other; empty for the other cases.
	Message string
}

// Error implements error.
func (e *Error) Error() string {
	if e.Message != "" {
		return "key-value: " + e.Message
	}
	return "key-value: " + e.Kind.String()
}

// Store is an open key-value store. It lives until Close or the end of the
// message. Its methods are not safe for concurrent use.
type Store struct {
	handle uint32
	closed bool
}

// Open opens the store with the given label.
func Open(label string) (*Store, error) {
	var a cabi.Area
	cabi.CallString(func(_, p, n, ret uint32) { storeOpen(p, n, ret) }, 0, label, &a)
	if err := liftError(&a); err != nil {
		return nil, err
	}
	return &Store{handle: a.U32(4)}, nil
}

// Close drops the store. Calling any method afterwards panics; Close itself
// may be called again.
func (s *Store) Close() {
	if s.closed {
		return
	}
	s.closed = true
	storeDrop(s.handle)
}

func (s *Store) h() uint32 {
	if s.closed {
		panic("kv: use of a closed Store")
	}
	return s.handle
}

// Get returns the value of key; found is false when the key does not exist.
func (s *Store) Get(key string) (value []byte, found bool, err error) {
	var a cabi.Area
	cabi.CallString(storeGet, s.h(), key, &a)
	if err := liftError(&a); err != nil {
		return nil, false, err
	}
	value, found = a.OptionBytes(4)
	return value, found, nil
}

// Set sets key to value.
func (s *Store) Set(key string, value []byte) error {
	var a cabi.Area
	cabi.CallStringBytes(storeSet, s.h(), key, value, &a)
	return liftError(&a)
}

// Delete deletes key (deleting a missing key is not an error).
func (s *Store) Delete(key string) error {
	var a cabi.Area
	cabi.CallString(storeDelete, s.h(), key, &a)
	return liftError(&a)
}

// Exists reports whether key exists.
func (s *Store) Exists(key string) (bool, error) {
	var a cabi.Area
	cabi.CallString(storeExists, s.h(), key, &a)
	if err := liftError(&a); err != nil {
		return false, err
	}
	return a.U8(4) != 0, nil
}

// Keys returns every key in the store.
func (s *Store) Keys() ([]string, error) {
	var a cabi.Area
	cabi.PauseGC()
	storeGetKeys(s.h(), a.Ptr())
	cabi.ResumeGC()
	if err := liftError(&a); err != nil {
		return nil, err
	}
	return a.Strings(4), nil
}

// liftError lifts the error of a result whose payload is at byte 4.
func liftError(a *cabi.Area) error {
	if !a.IsErr() {
		return nil
	}
	kind, msg := a.Variant(4, uint8(Other))
	return &Error{Kind: ErrorKind(kind), Message: msg}
}
