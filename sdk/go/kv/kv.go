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
	"runtime"
	"strconv"

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

// String names the case as the WIT does.
func (k ErrorKind) String() string {
	switch k {
	case StoreTableFull:
		return "store-table-full"
	case NoSuchStore:
		return "no-such-store"
	case AccessDenied:
		return "access-denied"
	case Other:
		return "other"
	}
	return "error(" + strconv.Itoa(int(k)) + ")"
}

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
	p, n := cabi.StringArg(label)
	cabi.PauseGC()
	storeOpen(p, n, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(label)
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
	kp, kn := cabi.StringArg(key)
	cabi.PauseGC()
	storeGet(s.h(), kp, kn, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(key)
	if err := liftError(&a); err != nil {
		return nil, false, err
	}
	if a.U8(4) == 0 {
		return nil, false, nil
	}
	v := a.Bytes(8)
	if v == nil {
		v = []byte{}
	}
	return v, true, nil
}

// Set sets key to value.
func (s *Store) Set(key string, value []byte) error {
	var a cabi.Area
	kp, kn := cabi.StringArg(key)
	vp, vn := cabi.BytesArg(value)
	cabi.PauseGC()
	storeSet(s.h(), kp, kn, vp, vn, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(key)
	runtime.KeepAlive(value)
	return liftError(&a)
}

// Delete deletes key (deleting a missing key is not an error).
func (s *Store) Delete(key string) error {
	var a cabi.Area
	kp, kn := cabi.StringArg(key)
	cabi.PauseGC()
	storeDelete(s.h(), kp, kn, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(key)
	return liftError(&a)
}

// Exists reports whether key exists.
func (s *Store) Exists(key string) (bool, error) {
	var a cabi.Area
	kp, kn := cabi.StringArg(key)
	cabi.PauseGC()
	storeExists(s.h(), kp, kn, a.Ptr())
	cabi.ResumeGC()
	runtime.KeepAlive(key)
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
	if a.U8(0) == 0 {
		return nil
	}
	e := &Error{Kind: ErrorKind(a.U8(4))}
	if e.Kind == Other {
		e.Message = a.String(8)
	}
	return e
}
