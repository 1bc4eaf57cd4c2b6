package oci

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/lockedapp"
)

// Pulled is the result of [Client.Pull].
type Pulled struct {
	// Digest is the manifest digest.
	Digest string
	// LockFile is the pulled locked app, with "origin" set to the
	// reference; its digest-only content is in the Client's Store.
	LockFile string
	// Offline reports that the registry could not be reached and the cached
	// copy of the reference was used.
	Offline bool
	// OldFormat reports an image that carries the locked app as its config.
	OldFormat bool
}

// Pull fetches the app at ref into the cache and returns its locked app.
// Every blob is checked against its digest; blobs already cached are not
// fetched again. A digest reference whose content is cached is served
// without the registry; a tag falls back to the manifest it named at the
// last successful pull when the registry fails (logged at WARN).
func (c *Client) Pull(ctx context.Context, ref string) (*Pulled, error) {
	r, err := parseRef(ref, c.Insecure)
	if err != nil {
		return nil, fmt.Errorf("invalid OCI reference %q: %w", ref, err)
	}
	if d, ok := r.(name.Digest); ok {
		if p, err := c.fromCache(ref, d.DigestStr()); err == nil {
			return p, nil
		}
	}
	p, err := c.pullRemote(ctx, ref, r)
	if err == nil {
		return p, nil
	}
	digest, ok := c.recordedDigest(r)
	if !ok {
		return nil, err
	}
	cached, cerr := c.fromCache(ref, digest)
	if cerr != nil {
		return nil, err
	}
	c.logger().Warn("registry unreachable; running the cached copy of the app", "reference", ref, "digest", digest, "error", err)
	cached.Offline = true
	return cached, nil
}

func (c *Client) pullRemote(ctx context.Context, ref string, r name.Reference) (*Pulled, error) {
	opts := c.remoteOptions(ctx)
	desc, err := remote.Get(r, opts...)
	if err != nil {
		return nil, fmt.Errorf("cannot pull Spin application from registry reference %q: %w", ref, err)
	}
	digest := desc.Digest.String()
	if got := blobstore.Digest(desc.Manifest); got != digest {
		return nil, fmt.Errorf("manifest of %q: %w: the registry said %s, the content hashes to %s", ref, blobstore.ErrDigestMismatch, digest, got)
	}
	if _, err := c.Store.Put(bytes.NewReader(desc.Manifest), digest, maxBlob); err != nil {
		return nil, err
	}
	m, err := parseManifest(ref, desc.Manifest)
	if err != nil {
		return nil, err
	}
	repo := r.Context()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(pullJobs)
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		g.Go(func() error { return c.fetchBlob(gctx, repo, d) })
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("cannot pull Spin application %q: %w", ref, err)
	}
	p, err := c.fromCache(ref, digest)
	if err != nil {
		return nil, err
	}
	if err := c.record(r, digest); err != nil {
		return nil, err
	}
	return p, nil
}

// fetchBlob stores one blob (unpacking archives) unless it is cached.
func (c *Client) fetchBlob(ctx context.Context, repo name.Repository, d v1.Descriptor) error {
	digest := d.Digest.String()
	if _, ok := c.Store.Lookup(digest); ok {
		return nil
	}
	if d.Size < 0 || d.Size > maxBlob {
		return fmt.Errorf("blob %s: size %d is out of bounds", digest, d.Size)
	}
	l, err := remote.Layer(repo.Digest(digest), c.remoteOptions(ctx)...)
	if err != nil {
		return fmt.Errorf("blob %s: %w", digest, err)
	}
	rc, err := l.Compressed()
	if err != nil {
		return fmt.Errorf("blob %s: %w", digest, err)
	}
	defer rc.Close()
	p, err := c.Store.Put(rc, digest, d.Size)
	if err != nil {
		if !errors.Is(err, blobstore.ErrDigestMismatch) && strings.Contains(err.Error(), "checksum") {
			// go-containerregistry checks the digest while reading too.
			err = fmt.Errorf("%w: %v", blobstore.ErrDigestMismatch, err)
		}
		return err
	}
	if string(d.MediaType) == MediaTypeArchive {
		return c.unpack(p, digest)
	}
	return nil
}

// unpack stores every regular file of a tar+gzip archive under its own
// digest; names in the archive are not used, so they cannot escape.
func (c *Client) unpack(path, digest string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("archive %s: %w", digest, err)
	}
	tr := tar.NewReader(zr)
	var total int64
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("archive %s: %w", digest, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		total += h.Size
		if h.Size < 0 || total > maxBlob {
			return fmt.Errorf("archive %s: unpacks to more than %d bytes", digest, maxBlob)
		}
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return fmt.Errorf("archive %s: %s: %w", digest, h.Name, err)
		}
		if _, _, err := c.Store.PutBytes(b); err != nil {
			return err
		}
	}
}

func parseManifest(ref string, raw []byte) (*v1.Manifest, error) {
	var probe struct {
		MediaType string          `json:"mediaType"`
		Manifests json.RawMessage `json:"manifests"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("manifest of %q is not JSON: %w", ref, err)
	}
	if probe.Manifests != nil || strings.Contains(probe.MediaType, "index") || strings.Contains(probe.MediaType, "manifest.list") {
		return nil, fmt.Errorf("%q is an image index, not a Spin application (a single image manifest)", ref)
	}
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("manifest of %q: %w", ref, err)
	}
	return m, nil
}

// fromCache builds the Pulled for a manifest whose blobs are all cached.
func (c *Client) fromCache(ref, digest string) (*Pulled, error) {
	mp, ok := c.Store.Lookup(digest)
	if !ok {
		return nil, fmt.Errorf("manifest %s is not cached", digest)
	}
	raw, err := os.ReadFile(mp)
	if err != nil {
		return nil, err
	}
	m, err := parseManifest(ref, raw)
	if err != nil {
		return nil, err
	}
	for _, d := range append([]v1.Descriptor{m.Config}, m.Layers...) {
		if _, ok := c.Store.Lookup(d.Digest.String()); !ok {
			return nil, fmt.Errorf("blob %s of %q is not cached", d.Digest, ref)
		}
	}
	lockDigest, old, err := c.lockedAppDigest(ref, m)
	if err != nil {
		return nil, err
	}
	lp, _ := c.Store.Lookup(lockDigest)
	data, err := os.ReadFile(lp)
	if err != nil {
		return nil, err
	}
	l, err := lockedapp.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("locked app of %q: %w", ref, err)
	}
	if err := c.checkContent(l); err != nil {
		return nil, fmt.Errorf("locked app of %q: %w", ref, err)
	}
	if l.Metadata == nil {
		l.Metadata = map[string]any{}
	}
	l.Metadata["origin"] = OriginScheme + ":" + ref
	out, err := l.Encode()
	if err != nil {
		return nil, err
	}
	h, _ := blobstore.ParseDigest(digest)
	dir := filepath.Join(c.Dir, "apps", h)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	lockFile := filepath.Join(dir, "spin.lock.json")
	if err := writeAtomic(lockFile, out); err != nil {
		return nil, err
	}
	return &Pulled{Digest: digest, LockFile: lockFile, OldFormat: old}, nil
}

// lockedAppDigest finds the locked app: the layer of MediaTypeLockedApp,
// whose digest the config label must repeat when present; else (old images)
// the config blob.
func (c *Client) lockedAppDigest(ref string, m *v1.Manifest) (digest string, old bool, err error) {
	for _, l := range m.Layers {
		if string(l.MediaType) != MediaTypeLockedApp {
			continue
		}
		digest = l.Digest.String()
		cp, _ := c.Store.Lookup(m.Config.Digest.String())
		raw, err := os.ReadFile(cp)
		if err != nil {
			return "", false, err
		}
		var cfg struct {
			Config struct {
				Labels map[string]string `json:"Labels"`
			} `json:"config"`
		}
		if json.Unmarshal(raw, &cfg) == nil {
			if want, ok := cfg.Config.Labels[LabelLockedAppDigest]; ok && want != digest {
				return "", false, fmt.Errorf("%q: %w: the config label %s names %s, the locked app layer is %s", ref, blobstore.ErrDigestMismatch, LabelLockedAppDigest, want, digest)
			}
		}
		return digest, false, nil
	}
	return m.Config.Digest.String(), true, nil
}

// checkContent makes sure every digest-only content of the app is cached,
// so that a load never needs the registry.
func (c *Client) checkContent(l *lockedapp.LockedApp) error {
	check := func(what string, r lockedapp.ContentRef) error {
		if r.Inline != nil || r.Source != "" {
			return nil
		}
		if _, ok := c.Store.Lookup(r.Digest); !ok {
			return fmt.Errorf("%s: content %s is neither inline nor a layer of the image", what, r.Digest)
		}
		return nil
	}
	for _, comp := range l.Components {
		if err := check(fmt.Sprintf("component %q source", comp.ID), comp.Source.ContentRef); err != nil {
			return err
		}
		for _, f := range comp.Files {
			if err := check(fmt.Sprintf("component %q file %q", comp.ID, f.Path), f.ContentRef); err != nil {
				return err
			}
		}
		for n, d := range comp.Dependencies {
			if err := check(fmt.Sprintf("component %q dependency %q", comp.ID, n), d.Source.ContentRef); err != nil {
				return err
			}
		}
	}
	return nil
}

// refFile is where the manifest digest a reference named is recorded.
func (c *Client) refFile(r name.Reference) string {
	repo := r.Context()
	id := r.Identifier()
	if h, err := blobstore.ParseDigest(id); err == nil {
		id = "sha256-" + h
	}
	return filepath.Join(c.Dir, "refs", strings.ReplaceAll(repo.RegistryStr(), ":", "_"), filepath.FromSlash(repo.RepositoryStr()), id)
}

func (c *Client) record(r name.Reference, digest string) error {
	p := c.refFile(r)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return writeAtomic(p, []byte(digest+"\n"))
}

func (c *Client) recordedDigest(r name.Reference) (string, bool) {
	b, err := os.ReadFile(c.refFile(r))
	if err != nil {
		return "", false
	}
	d := strings.TrimSpace(string(b))
	_, err = blobstore.ParseDigest(d)
	return d, err == nil
}

// writeAtomic replaces path with data through a temporary file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
