package wasi

import (
	"errors"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/redspin/redspin/internal/wasmtime"
)

// wasi:filesystem is read-only: the preopens are the component's mounts,
// every path is resolved inside its mount through os.Root (no `..` or
// symlink leaves it), and every operation that would change something
// fails with read-only (opening for write, creating, truncating: not-permitted).

// fsError is a filesystem error-code (the enum's case name).
type fsError string

func (e fsError) Error() string { return "filesystem: " + string(e) }

// fsCode maps a Go error to an error-code.
func fsCode(err error) fsError {
	var fe fsError
	var errno syscall.Errno
	switch {
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, fs.ErrNotExist):
		return "no-entry"
	case errors.Is(err, fs.ErrPermission):
		return "access"
	case errors.As(err, &errno):
		switch errno {
		case syscall.ENOTDIR:
			return "not-directory"
		case syscall.EISDIR:
			return "is-directory"
		case syscall.ELOOP:
			return "loop"
		case syscall.ENAMETOOLONG:
			return "name-too-long"
		case syscall.EACCES:
			return "access"
		case syscall.EPERM:
			return "not-permitted"
		case syscall.EINVAL:
			return "invalid"
		}
	}
	if strings.Contains(err.Error(), "escapes from parent") {
		return "not-permitted"
	}
	return "io"
}

// fileHandle is an open file shared by a descriptor and its streams: it
// is closed when the last of them is gone.
type fileHandle struct {
	f    *os.File
	refs int
}

func (h *fileHandle) release() {
	h.refs--
	if h.refs == 0 {
		h.f.Close()
	}
}

// descriptor is a preopened directory or something opened under it.
type descriptor struct {
	root *os.Root
	rel  string // path inside root ("." for the mount itself)
	dir  bool
	file *fileHandle // regular files only
}

func (d *descriptor) Close() error {
	if d.file != nil {
		d.file.release()
		d.file = nil
	}
	return nil
}

// resolve joins a guest path to d's; absolute paths are refused.
func (d *descriptor) resolve(p string) (string, error) {
	if !d.dir {
		return "", fsError("not-directory")
	}
	if path.IsAbs(p) {
		return "", fsError("not-permitted")
	}
	return path.Join(d.rel, p), nil
}

// fileStream reads a file from an offset.
type fileStream struct {
	h   *fileHandle
	off int64
}

func (s *fileStream) Ready() <-chan struct{} { return closedChan }

func (s *fileStream) Read(n int) ([]byte, error) {
	b := make([]byte, n)
	k, err := s.h.f.ReadAt(b, s.off)
	s.off += int64(k)
	if k > 0 {
		return b[:k], nil
	}
	if err == nil {
		err = io.EOF
	}
	return nil, err
}

func (s *fileStream) Close() error {
	s.h.release()
	return nil
}

func descOf(x *Call, v wasmtime.Val) (*descriptor, error) {
	d, _, err := x.Borrow(v, tyDescriptor)
	if err != nil {
		return nil, err
	}
	return d.(*descriptor), nil
}

// fsErr sets results[0] to err(the error-code of err).
func fsErr(results []wasmtime.Val, err error) error {
	code := wasmtime.Enum(string(fsCode(err)))
	results[0] = wasmtime.ErrVal(&code)
	return nil
}

// fsMethod runs body for a descriptor method returning result<T, error-code>.
func fsMethod(body func(x *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error)) Func {
	return func(x *Call, args, results []wasmtime.Val) error {
		d, err := descOf(x, args[0])
		if err != nil {
			return err
		}
		v, err := body(x, d, args[1:])
		if err != nil {
			var ce callError
			if errors.As(err, &ce) {
				return ce.err
			}
			return fsErr(results, err)
		}
		results[0] = okResult(v)
		return nil
	}
}

// callError is a failure that traps instead of becoming an error-code.
type callError struct{ err error }

func (e callError) Error() string { return e.err.Error() }

func readOnly(x *Call, d *descriptor, _ []wasmtime.Val) (*wasmtime.Val, error) {
	return nil, fsError("read-only")
}

func noop(x *Call, d *descriptor, _ []wasmtime.Val) (*wasmtime.Val, error) { return nil, nil }

func fileType(fi fs.FileInfo) string {
	switch m := fi.Mode(); {
	case m.IsDir():
		return "directory"
	case m.IsRegular():
		return "regular-file"
	case m&fs.ModeSymlink != 0:
		return "symbolic-link"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character-device"
	case m&fs.ModeDevice != 0:
		return "block-device"
	}
	return "unknown"
}

func statVal(fi fs.FileInfo) *wasmtime.Val {
	links := uint64(1)
	var atime, ctime time.Time
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		links = uint64(st.Nlink)
		atime = time.Unix(st.Atim.Unix())
		ctime = time.Unix(st.Ctim.Unix())
	}
	opt := func(t time.Time) wasmtime.Val {
		if t.IsZero() {
			return wasmtime.None()
		}
		return wasmtime.Some(datetimeOf(t))
	}
	v := wasmtime.Val{Kind: wasmtime.CRecord,
		Names: []string{"type", "link-count", "size", "data-access-timestamp", "data-modification-timestamp", "status-change-timestamp"},
		Elems: []wasmtime.Val{wasmtime.Enum(fileType(fi)), u64(links), u64(uint64(fi.Size())), opt(atime), opt(fi.ModTime()), opt(ctime)}}
	return &v
}

func (d *descriptor) stat() (fs.FileInfo, error) {
	if d.file != nil {
		return d.file.f.Stat()
	}
	return d.root.Stat(d.rel)
}

// statAt stats p under d, following a final symlink when follow is set.
func (d *descriptor) statAt(flags wasmtime.Val, p string) (fs.FileInfo, error) {
	full, err := d.resolve(p)
	if err != nil {
		return nil, err
	}
	if slices.Contains(flags.Names, "symlink-follow") {
		return d.root.Stat(full)
	}
	return d.root.Lstat(full)
}

// statMethod implements stat and metadata-hash (at: their -at forms,
// whose arguments are path-flags and a path), answering conv of the info.
func statMethod(at bool, conv func(fs.FileInfo) *wasmtime.Val) func(*Call, *descriptor, []wasmtime.Val) (*wasmtime.Val, error) {
	return func(_ *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error) {
		var fi fs.FileInfo
		var err error
		if at {
			fi, err = d.statAt(args[0], args[1].Str)
		} else {
			fi, err = d.stat()
		}
		if err != nil {
			return nil, err
		}
		return conv(fi), nil
	}
}

func hashVal(fi fs.FileInfo) *wasmtime.Val {
	h := fnv.New128a()
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		var b [16]byte
		for i := range 8 {
			b[i] = byte(st.Dev >> (8 * i))
			b[8+i] = byte(st.Ino >> (8 * i))
		}
		h.Write(b[:])
	}
	h.Write([]byte(fi.ModTime().String()))
	s := h.Sum(nil)
	var lo, hi uint64
	for i := range 8 {
		lo |= uint64(s[i]) << (8 * i)
		hi |= uint64(s[8+i]) << (8 * i)
	}
	v := wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"lower", "upper"}, Elems: []wasmtime.Val{u64(lo), u64(hi)}}
	return &v
}

func openAt(x *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error) {
	pathFlags, p, openFlags, descFlags := args[0], args[1].Str, args[2], args[3]
	for _, f := range openFlags.Names {
		if f != "directory" {
			return nil, fsError("not-permitted") // create, exclusive, truncate
		}
	}
	for _, f := range descFlags.Names {
		if f == "write" || f == "mutate-directory" {
			return nil, fsError("not-permitted")
		}
	}
	full, err := d.resolve(p)
	if err != nil {
		return nil, err
	}
	fi, err := d.statAt(pathFlags, p)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		return nil, fsError("loop") // opening a symlink without following it
	}
	nd := &descriptor{root: d.root, rel: full, dir: fi.IsDir()}
	if slices.Contains(openFlags.Names, "directory") && !nd.dir {
		return nil, fsError("not-directory")
	}
	if !nd.dir {
		f, err := d.root.Open(full)
		if err != nil {
			return nil, err
		}
		nd.file = &fileHandle{f: f, refs: 1}
	}
	v, err := x.Push(tyDescriptor, nd, 0)
	if err != nil {
		return nil, callError{err}
	}
	return &v, nil
}

func readViaStream(x *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error) {
	if d.file == nil {
		return nil, fsError("is-directory")
	}
	d.file.refs++
	v, err := x.Push(tyInputStream, &fileStream{h: d.file, off: int64(args[0].Num)}, 0)
	if err != nil {
		d.file.refs--
		return nil, callError{err}
	}
	return &v, nil
}

func readAt(x *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error) {
	if d.file == nil {
		return nil, fsError("is-directory")
	}
	n := min(args[0].Num, maxWrite)
	b := make([]byte, n)
	k, err := d.file.f.ReadAt(b, int64(args[1].Num))
	if err != nil && err != io.EOF {
		return nil, err
	}
	v := wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{wasmtime.Bytes(b[:k]),
		{Kind: wasmtime.CBool, Num: b2n(err == io.EOF)}}}
	return &v, nil
}

// dirEntries is a directory-entry-stream.
type dirEntries struct{ ents []fs.DirEntry }

func readDirectory(x *Call, d *descriptor, _ []wasmtime.Val) (*wasmtime.Val, error) {
	if !d.dir {
		return nil, fsError("not-directory")
	}
	f, err := d.root.Open(d.rel)
	if err != nil {
		return nil, err
	}
	ents, err := f.ReadDir(-1)
	f.Close()
	if err != nil {
		return nil, err
	}
	v, err := x.Push(tyDirEntries, &dirEntries{ents}, 0)
	if err != nil {
		return nil, callError{err}
	}
	return &v, nil
}

var fsTypes = Interface{
	"[method]descriptor.read-via-stream":   fsMethod(readViaStream),
	"[method]descriptor.write-via-stream":  fsMethod(readOnly),
	"[method]descriptor.append-via-stream": fsMethod(readOnly),
	"[method]descriptor.advise":            fsMethod(noop),
	"[method]descriptor.sync-data":         fsMethod(noop),
	"[method]descriptor.sync":              fsMethod(noop),
	"[method]descriptor.get-flags": fsMethod(func(x *Call, d *descriptor, _ []wasmtime.Val) (*wasmtime.Val, error) {
		v := wasmtime.Val{Kind: wasmtime.CFlags, Names: []string{"read"}}
		return &v, nil
	}),
	"[method]descriptor.get-type": fsMethod(func(x *Call, d *descriptor, _ []wasmtime.Val) (*wasmtime.Val, error) {
		fi, err := d.stat()
		if err != nil {
			return nil, err
		}
		v := wasmtime.Enum(fileType(fi))
		return &v, nil
	}),
	"[method]descriptor.set-size":            fsMethod(readOnly),
	"[method]descriptor.set-times":           fsMethod(readOnly),
	"[method]descriptor.read":                fsMethod(readAt),
	"[method]descriptor.write":               fsMethod(readOnly),
	"[method]descriptor.read-directory":      fsMethod(readDirectory),
	"[method]descriptor.create-directory-at": fsMethod(readOnly),
	"[method]descriptor.stat":                fsMethod(statMethod(false, statVal)),
	"[method]descriptor.stat-at":             fsMethod(statMethod(true, statVal)),
	"[method]descriptor.set-times-at":        fsMethod(readOnly),
	"[method]descriptor.link-at":             fsMethod(readOnly),
	"[method]descriptor.open-at":             fsMethod(openAt),
	"[method]descriptor.readlink-at": fsMethod(func(x *Call, d *descriptor, args []wasmtime.Val) (*wasmtime.Val, error) {
		full, err := d.resolve(args[0].Str)
		if err != nil {
			return nil, err
		}
		s, err := d.root.Readlink(full)
		if err != nil {
			return nil, err
		}
		v := wasmtime.Str(s)
		return &v, nil
	}),
	"[method]descriptor.remove-directory-at": fsMethod(readOnly),
	"[method]descriptor.rename-at":           fsMethod(readOnly),
	"[method]descriptor.symlink-at":          fsMethod(readOnly),
	"[method]descriptor.unlink-file-at":      fsMethod(readOnly),
	"[method]descriptor.is-same-object": func(x *Call, args, results []wasmtime.Val) error {
		a, err := descOf(x, args[0])
		if err != nil {
			return err
		}
		b, err := descOf(x, args[1])
		if err != nil {
			return err
		}
		fa, ea := a.stat()
		fb, eb := b.stat()
		results[0] = wasmtime.Val{Kind: wasmtime.CBool, Num: b2n(ea == nil && eb == nil && os.SameFile(fa, fb))}
		return nil
	},
	"[method]descriptor.metadata-hash":    fsMethod(statMethod(false, hashVal)),
	"[method]descriptor.metadata-hash-at": fsMethod(statMethod(true, hashVal)),
	"[method]directory-entry-stream.read-directory-entry": func(x *Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyDirEntries)
		if err != nil {
			return err
		}
		de := v.(*dirEntries)
		if len(de.ents) == 0 {
			none := wasmtime.None()
			results[0] = okResult(&none)
			return nil
		}
		e := de.ents[0]
		de.ents = de.ents[1:]
		ty := "unknown"
		if fi, err := e.Info(); err == nil {
			ty = fileType(fi)
		}
		ent := wasmtime.Some(wasmtime.Val{Kind: wasmtime.CRecord, Names: []string{"type", "name"},
			Elems: []wasmtime.Val{wasmtime.Enum(ty), wasmtime.Str(e.Name())}})
		results[0] = okResult(&ent)
		return nil
	},
	"filesystem-error-code": func(x *Call, args, results []wasmtime.Val) error {
		v, _, err := x.Borrow(args[0], tyError)
		if err != nil {
			return err
		}
		var fe fsError
		if e, ok := v.(error); ok && errors.As(e, &fe) {
			results[0] = wasmtime.Some(wasmtime.Enum(string(fe)))
		} else {
			results[0] = wasmtime.None()
		}
		return nil
	},
}

var fsPreopens = Interface{
	"get-directories": func(x *Call, _, results []wasmtime.Val) error {
		out := make([]wasmtime.Val, 0, len(x.roots))
		for i, r := range x.roots {
			d, err := x.Push(tyDescriptor, &descriptor{root: r, rel: ".", dir: true}, 0)
			if err != nil {
				return err
			}
			out = append(out, wasmtime.Val{Kind: wasmtime.CTuple, Elems: []wasmtime.Val{d, wasmtime.Str(x.cfg.Mounts[i].GuestDir)}})
		}
		results[0] = wasmtime.Val{Kind: wasmtime.CList, Elems: out}
		return nil
	},
}
