package manifest

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// DefaultFile is the manifest file name looked for in directories.
const DefaultFile = "spin.toml"

// maxSearchDepth bounds the upward search, as Spin does.
const maxSearchDepth = 20

// ociRef matches something shaped like an OCI reference:
// registry.example.com/repo/app:tag or ...@sha256:<hex>.
var ociRef = regexp.MustCompile(`^[a-zA-Z0-9.-]+(:[0-9]+)?/[a-z0-9._/-]+(:[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})$`)

// Find resolves the `-f` argument to a manifest path, as Spin does:
//   - a file is used as is;
//   - a directory means <dir>/spin.toml;
//   - "" means spin.toml in the working directory or, failing that, in the
//     nearest parent directory (stopping at a Git repository root), returned
//     as a relative path such as "../spin.toml".
//
// # Errors
//
// [ErrNotFound] when nothing is found; [ErrUnsupported] for a .wasm file or
// an OCI registry reference, which Spin can run but redspin cannot yet.
func Find(from string) (string, error) {
	if from == "" {
		return searchUpward(".")
	}
	st, err := os.Stat(from)
	switch {
	case err == nil && st.Mode().IsRegular():
		if strings.EqualFold(filepath.Ext(from), ".wasm") {
			return "", wrapf(ErrUnsupported, nil, "%q is a Wasm file: running a bare .wasm is not supported by redspin yet; write a spin.toml with a [[trigger.redis]] for it", from)
		}
		return from, nil
	case err == nil && st.IsDir():
		f := filepath.Join(from, DefaultFile)
		if fst, err := os.Stat(f); err == nil && fst.Mode().IsRegular() {
			return f, nil
		}
		return "", errf(ErrNotFound, "Directory %s does not contain a file named 'spin.toml'", from)
	case err == nil:
		return "", errf(ErrNotFound, "Path %s is neither a file nor a directory", from)
	case !errors.Is(err, fs.ErrNotExist):
		return "", wrapf(ErrNotFound, err, "Error accessing path %s", from)
	}
	if strings.EqualFold(filepath.Ext(from), ".wasm") {
		return "", errf(ErrNotFound, "No such file or directory '%s' (and running a bare .wasm is not supported by redspin yet)", from)
	}
	if ociRef.MatchString(from) {
		return "", errf(ErrUnsupported, "%q looks like an OCI registry reference, not a file: `redspin up -f` and `check -f` pull it (or use --from-registry)", from)
	}
	return "", errf(ErrNotFound, "No such file or directory '%s'", from)
}

// searchUpward looks for spin.toml in dir and its parents, stopping after a
// directory that holds .git.
func searchUpward(dir string) (string, error) {
	rel := dir
	for range maxSearchDepth {
		cand := filepath.Join(rel, DefaultFile)
		if st, err := os.Stat(cand); err == nil && st.Mode().IsRegular() {
			return cand, nil
		}
		if _, err := os.Stat(filepath.Join(rel, ".git")); err == nil {
			break
		}
		abs, err := filepath.Abs(rel)
		if err != nil || filepath.Dir(abs) == abs {
			break
		}
		rel = filepath.Join(rel, "..")
	}
	return "", errf(ErrNotFound, "%q not found in this directory or its parents; pass -f <file or dir>", DefaultFile)
}
