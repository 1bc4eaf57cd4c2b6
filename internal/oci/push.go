package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/lockedapp"
)

// blob is one layer (or the config) to push.
type blob struct {
	mediaType string
	data      []byte
	digest    string
}

func newBlob(mediaType string, data []byte) blob {
	return blob{mediaType: mediaType, data: data, digest: blobstore.Digest(data)}
}

func (b blob) descriptor() v1.Descriptor {
	h, _ := v1.NewHash(b.digest)
	return v1.Descriptor{MediaType: types.MediaType(b.mediaType), Size: int64(len(b.data)), Digest: h}
}

// contentRef is how the locked app refers to a pushed blob: its digest and,
// when small, the content itself.
func (b blob) contentRef() lockedapp.ContentRef {
	r := lockedapp.ContentRef{Digest: b.digest}
	if len(b.data) <= InlineMax {
		r.Inline = lockedapp.Inline(b.data)
	}
	return r
}

// Push uploads the locked app l, whose content is in local file:// URIs (as
// [lockedapp.FromManifest] writes it), to ref in current Spin's format and
// returns the manifest digest. annotations are added to the manifest; the
// OCI title, description, version, authors and created annotations are
// inferred from the app unless given.
//
// # Errors
//
// Components with dependencies are refused: Spin composes them on push, and
// redspin cannot.
func (c *Client) Push(ctx context.Context, ref string, l *lockedapp.LockedApp, annotations map[string]string) (string, error) {
	r, err := parseRef(ref, c.Insecure)
	if err != nil {
		return "", fmt.Errorf("cannot parse reference %q: %w", ref, err)
	}
	layers, comps, err := c.assemble(l, c.ArchiveLayers)
	if err != nil {
		return "", err
	}
	if !c.ArchiveLayers && len(layers) > MaxLayers-1 {
		if layers, comps, err = c.assemble(l, true); err != nil {
			return "", err
		}
	}
	out := *l
	out.Components = comps
	out.Metadata = maps.Clone(l.Metadata)
	delete(out.Metadata, "origin")
	lockJSON, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("could not serialize locked app: %w", err)
	}
	app := newBlob(MediaTypeLockedApp, lockJSON)
	layers = append(layers, app)
	cfgJSON, err := json.Marshal(map[string]any{
		"architecture": "wasm",
		"os":           "wasip1",
		"config":       map[string]any{"Labels": map[string]string{LabelLockedAppDigest: app.digest}},
		"rootfs":       map[string]any{"type": "layers", "diff_ids": []string{}},
	})
	if err != nil {
		return "", err
	}
	cfg := newBlob(MediaTypeOCIConfig, cfgJSON)

	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg.descriptor(), Annotations: c.annotations(l, annotations)}
	for _, b := range layers {
		m.Layers = append(m.Layers, b.descriptor())
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return "", err
	}
	opts := c.remoteOptions(ctx)
	for _, b := range append([]blob{cfg}, layers...) {
		if err := remote.WriteLayer(r.Context(), static.NewLayer(b.data, types.MediaType(b.mediaType)), opts...); err != nil {
			return "", fmt.Errorf("cannot push Spin application to %q: blob %s: %w", ref, b.digest, err)
		}
	}
	if err := remote.Put(r, rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}, opts...); err != nil {
		return "", fmt.Errorf("cannot push Spin application to %q: manifest: %w", ref, err)
	}
	return blobstore.Digest(raw), nil
}

// rawManifest is a manifest ready to put.
type rawManifest struct {
	raw       []byte
	mediaType types.MediaType
}

func (m rawManifest) RawManifest() ([]byte, error)        { return m.raw, nil }
func (m rawManifest) MediaType() (types.MediaType, error) { return m.mediaType, nil }

// assemble builds the layers and the components that refer to them:
// one Wasm layer per component, and files as one data layer each (inlined
// when small) or, in archive mode, as one tar+gzip per files entry. Layers
// are deduplicated by digest.
func (c *Client) assemble(l *lockedapp.LockedApp, archive bool) ([]blob, []lockedapp.Component, error) {
	var layers []blob
	seen := map[string]bool{}
	add := func(b blob) {
		if !seen[b.digest] {
			seen[b.digest] = true
			layers = append(layers, b)
		}
	}
	var comps []lockedapp.Component
	for _, comp := range l.Components {
		if len(comp.Dependencies) > 0 || len(comp.TriggerDependencies) > 0 {
			return nil, nil, fmt.Errorf("component %q has dependencies: redspin cannot compose components, so it cannot push this app; use `spin registry push`, which composes them", comp.ID)
		}
		p, err := localPath(comp.Source.ContentRef)
		if err != nil {
			return nil, nil, fmt.Errorf("component %q source: %w", comp.ID, err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, fmt.Errorf("component %q: cannot read wasm module: %w", comp.ID, err)
		}
		w := newBlob(MediaTypeWasm, data)
		add(w)
		comp.Source.ContentRef = w.contentRef()
		var files []lockedapp.ContentPath
		for _, f := range comp.Files {
			fs, archived, err := fileLayers(f)
			if err != nil {
				return nil, nil, fmt.Errorf("component %q files: %w", comp.ID, err)
			}
			for _, fb := range fs {
				files = append(files, lockedapp.ContentPath{ContentRef: fb.blob.contentRef(), Path: fb.path})
				if !archive && len(fb.blob.data) > InlineMax {
					add(fb.blob)
				}
			}
			if archive && len(fs) > 0 {
				add(archived)
			}
		}
		comp.Files = files
		comps = append(comps, comp)
	}
	return layers, comps, nil
}

// fileBlob is one file with its guest path (relative, slash-separated).
type fileBlob struct {
	path string
	blob blob
}

// fileLayers reads the files of one files entry: a directory (every regular
// file under it) or a single file, placed under the entry's mount path. It
// also returns the tar+gzip of them for archive mode.
func fileLayers(f lockedapp.ContentPath) ([]fileBlob, blob, error) {
	mount, err := lockedapp.GuestPath(f.Path)
	if err != nil {
		return nil, blob{}, err
	}
	src, err := localPath(f.ContentRef)
	if err != nil {
		return nil, blob{}, err
	}
	var out []fileBlob
	err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		guest := strings.TrimPrefix(path.Join(mount, filepath.ToSlash(rel)), "/")
		if rel == "." {
			guest = strings.TrimPrefix(mount, "/")
		}
		out = append(out, fileBlob{path: guest, blob: newBlob(MediaTypeData, data)})
		return nil
	})
	if err != nil {
		return nil, blob{}, err
	}
	slices.SortFunc(out, func(a, b fileBlob) int { return strings.Compare(a.path, b.path) })
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, fb := range out {
		if err := tw.WriteHeader(&tar.Header{Name: fb.path, Mode: 0o644, Size: int64(len(fb.blob.data)), Typeflag: tar.TypeReg, Format: tar.FormatPAX}); err != nil {
			return nil, blob{}, err
		}
		if _, err := tw.Write(fb.blob.data); err != nil {
			return nil, blob{}, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, blob{}, err
	}
	if err := zw.Close(); err != nil {
		return nil, blob{}, err
	}
	return out, newBlob(MediaTypeArchive, buf.Bytes()), nil
}

// localPath is the file:// source of content to push.
func localPath(r lockedapp.ContentRef) (string, error) {
	if !strings.HasPrefix(r.Source, "file:") {
		return "", fmt.Errorf("content to push must be a local file:// source, not %q", r.Source)
	}
	return lockedapp.FilePath(r.Source)
}

// annotations adds the inferred OCI annotations under the explicit ones.
func (c *Client) annotations(l *lockedapp.LockedApp, explicit map[string]string) map[string]string {
	out := maps.Clone(explicit)
	if out == nil {
		out = map[string]string{}
	}
	set := func(k, v string) {
		if _, ok := out[k]; !ok && v != "" {
			out[k] = v
		}
	}
	str := func(k string) string { s, _ := l.Metadata[k].(string); return s }
	var authors []string
	if arr, ok := l.Metadata["authors"].([]any); ok {
		for _, a := range arr {
			if s, ok := a.(string); ok {
				authors = append(authors, s)
			}
		}
	} else if arr, ok := l.Metadata["authors"].([]string); ok {
		authors = arr
	}
	set("org.opencontainers.image.authors", strings.Join(authors, ", "))
	set("org.opencontainers.image.title", str("name"))
	set("org.opencontainers.image.description", str("description"))
	set("org.opencontainers.image.version", str("version"))
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	set("org.opencontainers.image.created", now().UTC().Format(time.RFC3339))
	return out
}
