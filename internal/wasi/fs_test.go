package wasi

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redspin/redspin/internal/testutil/cresult"
	"github.com/redspin/redspin/internal/wasmtime"
)

func flags(names ...string) wasmtime.Val { return wasmtime.Val{Kind: wasmtime.CFlags, Names: names} }

// fsFixture mounts a directory with a file, a subdirectory, a symlink
// inside the mount and one pointing out of it, at /data.
func fsFixture(t *testing.T) (*Call, wasmtime.Val) {
	t.Helper()
	dir := t.TempDir()
	outside := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "greeting.txt"), []byte("hi from a file\n"), 0o644))
	must(os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "sub", "inner.txt"), []byte("inner"), 0o644))
	must(os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("secret"), 0o644))
	must(os.Symlink("greeting.txt", filepath.Join(dir, "link-in")))
	must(os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(dir, "link-out")))
	must(os.Symlink("../"+filepath.Base(outside)+"/secret.txt", filepath.Join(dir, "link-up")))
	x, _ := newCall(t, Config{Mounts: []Mount{{HostDir: dir, GuestDir: "/data"}}})
	pre := x.mustCall(t, "wasi:filesystem/preopens", "get-directories")
	if len(pre.Elems) != 1 || pre.Elems[0].Elems[1].Str != "/data" {
		t.Fatalf("get-directories = %+v", pre)
	}
	return x, pre.Elems[0].Elems[0]
}

func (x *Call) mustCall(t *testing.T, iface, fn string, args ...wasmtime.Val) wasmtime.Val {
	t.Helper()
	return must(t, x, iface, fn, args...)
}

const fsT = "wasi:filesystem/types"

func openAtV(t *testing.T, x *Call, dir wasmtime.Val, p string, open wasmtime.Val, desc wasmtime.Val) wasmtime.Val {
	t.Helper()
	return must(t, x, fsT, "[method]descriptor.open-at", dir, flags("symlink-follow"), wasmtime.Str(p), open, desc)
}

// readAll reads an input stream to its end.
func readAll(t *testing.T, x *Call, s wasmtime.Val) string {
	t.Helper()
	var out []byte
	for {
		r := must(t, x, "wasi:io/streams", "[method]input-stream.blocking-read", s, u64v(4))
		if !r.Ok {
			if r.Payload.Str != "closed" {
				t.Fatalf("read: %+v", r)
			}
			return string(out)
		}
		out = append(out, r.Payload.Bytes...)
	}
}

func TestFilesystemRead(t *testing.T) {
	x, root := fsFixture(t)
	f := cresult.OK(t, openAtV(t, x, root, "greeting.txt", flags(), flags("read")))
	if ty := cresult.OK(t, must(t, x, fsT, "[method]descriptor.get-type", f)); ty.Str != "regular-file" {
		t.Errorf("get-type = %q", ty.Str)
	}
	st := cresult.OK(t, must(t, x, fsT, "[method]descriptor.stat", f))
	if st.Elems[0].Str != "regular-file" || st.Elems[2].Num != 15 {
		t.Errorf("stat = %+v", st)
	}
	s := cresult.OK(t, must(t, x, fsT, "[method]descriptor.read-via-stream", f, u64v(3)))
	// The stream keeps the file open after its descriptor is dropped.
	if err := drop(x, f); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, x, s); got != "from a file\n" {
		t.Errorf("read-via-stream(3) = %q", got)
	}
	if err := drop(x, s); err != nil {
		t.Fatal(err)
	}

	// read at an offset; the bool is end-of-file.
	f = cresult.OK(t, openAtV(t, x, root, "sub/inner.txt", flags(), flags("read")))
	r := cresult.OK(t, must(t, x, fsT, "[method]descriptor.read", f, u64v(100), u64v(2)))
	if string(r.Elems[0].Bytes) != "ner" || r.Elems[1].Num != 1 {
		t.Errorf("read = %+v", r)
	}

	// A directory, its entries, and a symlink inside the mount.
	d := cresult.OK(t, openAtV(t, x, root, "sub", flags("directory"), flags("read")))
	ents := cresult.OK(t, must(t, x, fsT, "[method]descriptor.read-directory", root))
	var names []string
	for {
		e := cresult.OK(t, must(t, x, fsT, "[method]directory-entry-stream.read-directory-entry", ents))
		if e.Payload == nil {
			break
		}
		names = append(names, e.Payload.Elems[1].Str+":"+e.Payload.Elems[0].Str)
	}
	slices.Sort(names)
	if want := []string{"greeting.txt:regular-file", "link-in:symbolic-link", "link-out:symbolic-link", "link-up:symbolic-link", "sub:directory"}; !slices.Equal(names, want) {
		t.Errorf("entries = %v, want %v", names, want)
	}
	if st := cresult.OK(t, must(t, x, fsT, "[method]descriptor.stat-at", d, flags(), wasmtime.Str("inner.txt"))); st.Elems[2].Num != 5 {
		t.Errorf("stat-at = %+v", st)
	}
	in := cresult.OK(t, openAtV(t, x, root, "link-in", flags(), flags("read")))
	if got := readAll(t, x, cresult.OK(t, must(t, x, fsT, "[method]descriptor.read-via-stream", in, u64v(0)))); got != "hi from a file\n" {
		t.Errorf("through link-in: %q", got)
	}
	if got := must(t, x, fsT, "[method]descriptor.readlink-at", root, wasmtime.Str("link-in")); cresult.OK(t, got).Str != "greeting.txt" {
		t.Errorf("readlink-at = %+v", got)
	}
	if same := must(t, x, fsT, "[method]descriptor.is-same-object", root, root); same.Num != 1 {
		t.Error("is-same-object(root, root) = false")
	}
	a := cresult.OK(t, must(t, x, fsT, "[method]descriptor.metadata-hash", in))
	b := cresult.OK(t, must(t, x, fsT, "[method]descriptor.metadata-hash-at", root, flags("symlink-follow"), wasmtime.Str("greeting.txt")))
	if a.Elems[0].Num != b.Elems[0].Num || a.Elems[1].Num != b.Elems[1].Num {
		t.Error("metadata-hash of the same file differs")
	}
}

// Nothing leaves the mount (no `..`, no absolute path, no symlink out of
// it) and nothing is written.
func TestFilesystemConfinedAndReadOnly(t *testing.T) {
	x, root := fsFixture(t)
	for _, p := range []string{"../secret.txt", "/etc/passwd", "sub/../../x", "link-out", "link-up"} {
		r := openAtV(t, x, root, p, flags(), flags("read"))
		if r.Ok {
			t.Errorf("open-at %q succeeded", p)
			continue
		}
		if c := r.Payload.Str; c != "not-permitted" && c != "no-entry" {
			t.Errorf("open-at %q: %s", p, c)
		}
	}
	if r := must(t, x, fsT, "[method]descriptor.stat-at", root, flags("symlink-follow"), wasmtime.Str("link-out")); r.Ok {
		t.Error("stat-at through a symlink out of the mount succeeded")
	}
	// Writing: opening for write, creating, truncating, and every mutation.
	for _, c := range []struct{ open, desc wasmtime.Val }{
		{flags(), flags("read", "write")},
		{flags("create"), flags("read")},
		{flags("truncate"), flags("read")},
		{flags("directory"), flags("read", "mutate-directory")},
	} {
		if r := openAtV(t, x, root, "greeting.txt", c.open, c.desc); r.Ok || r.Payload.Str != "not-permitted" {
			t.Errorf("open-at %v %v = %+v", c.open.Names, c.desc.Names, r)
		}
	}
	f := cresult.OK(t, openAtV(t, x, root, "greeting.txt", flags(), flags("read")))
	for _, c := range []struct {
		fn   string
		args []wasmtime.Val
	}{
		{"write-via-stream", []wasmtime.Val{f, u64v(0)}},
		{"append-via-stream", []wasmtime.Val{f}},
		{"write", []wasmtime.Val{f, wasmtime.Bytes([]byte("x")), u64v(0)}},
		{"set-size", []wasmtime.Val{f, u64v(0)}},
		{"create-directory-at", []wasmtime.Val{root, wasmtime.Str("new")}},
		{"unlink-file-at", []wasmtime.Val{root, wasmtime.Str("greeting.txt")}},
		{"remove-directory-at", []wasmtime.Val{root, wasmtime.Str("sub")}},
		{"rename-at", []wasmtime.Val{root, wasmtime.Str("greeting.txt"), root, wasmtime.Str("x")}},
		{"symlink-at", []wasmtime.Val{root, wasmtime.Str("a"), wasmtime.Str("b")}},
	} {
		if r := must(t, x, fsT, "[method]descriptor."+c.fn, c.args...); r.Ok || r.Payload.Str != "read-only" {
			t.Errorf("%s = %+v, want err(read-only)", c.fn, r)
		}
	}
	if got := cresult.OK(t, must(t, x, fsT, "[method]descriptor.get-flags", f)); !slices.Equal(got.Names, []string{"read"}) {
		t.Errorf("get-flags = %v", got.Names)
	}
	// The error of a failed read maps to its code.
	if r := must(t, x, fsT, "[method]descriptor.read-via-stream", root, u64v(0)); r.Ok || r.Payload.Str != "is-directory" {
		t.Errorf("read-via-stream of a directory = %+v", r)
	}
}

// A mount that is not a directory fails NewCtx with its guest path.
func TestFilesystemBadMount(t *testing.T) {
	_, err := NewCtx(Config{Mounts: []Mount{{HostDir: filepath.Join(t.TempDir(), "missing"), GuestDir: "/m"}}})
	if err == nil {
		t.Fatal("no error")
	}
}
