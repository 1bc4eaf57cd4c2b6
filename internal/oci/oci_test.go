package oci

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/redspin/redspin/internal/blobstore"
	"github.com/redspin/redspin/internal/lockedapp"
	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/internal/testutil/ociregistry"
)

// fixture is a locked app built from examples/hello-redis plus a files
// directory with one small (inlined) and one large file.
type fixture struct {
	lock  *lockedapp.LockedApp
	wasm  []byte
	small []byte
	large []byte
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	m, _, err := manifest.Load(filepath.Join("..", "..", "examples", "hello-redis", "spin.toml"))
	if err != nil {
		t.Fatal(err)
	}
	wasmPath := filepath.Join(m.Dir, "hello.wasm")
	wasm, err := os.ReadFile(wasmPath)
	if err != nil {
		t.Fatal(err)
	}
	files := t.TempDir()
	f := fixture{wasm: wasm, small: []byte("small"), large: bytes.Repeat([]byte("large file "), 40)}
	if err := os.MkdirAll(filepath.Join(files, "static"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(files, "static", "small.txt"), f.small, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(files, "large.txt"), f.large, 0o644); err != nil {
		t.Fatal(err)
	}
	f.lock, err = lockedapp.FromManifest(m, map[string]lockedapp.Resolved{"hello": {WasmPath: wasmPath, FilesDir: files}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newClient(t *testing.T, cache string) *Client {
	t.Helper()
	return &Client{Store: blobstore.New(filepath.Join(cache, "blobs")), Dir: filepath.Join(cache, "oci"), Keychain: authn.NewMultiKeychain()}
}

// checkPulled loads the pulled locked app as redspin runs it and compares
// the content with the fixture's.
func checkPulled(t *testing.T, c *Client, p *Pulled, f fixture) {
	t.Helper()
	m, _, err := lockedapp.Load(p.LockFile, c.Store)
	if err != nil {
		t.Fatal(err)
	}
	comp := m.Components["hello"]
	if b, err := os.ReadFile(comp.Source.Path); err != nil || !bytes.Equal(b, f.wasm) {
		t.Fatalf("pulled wasm differs (%v)", err)
	}
	got := map[string][]byte{}
	for _, fs := range comp.Files {
		b, err := os.ReadFile(fs.Source)
		if err != nil {
			t.Fatal(err)
		}
		got[fs.Destination] = b
	}
	if len(got) != 2 || !bytes.Equal(got["/static/small.txt"], f.small) || !bytes.Equal(got["/large.txt"], f.large) {
		t.Fatalf("pulled files: %q", got)
	}
	if len(m.RedisTriggers) != 1 || m.RedisTriggers[0].Channel != "messages" || m.Name != "hello-redis" {
		t.Fatalf("pulled app: %+v", m)
	}
	raw, _ := os.ReadFile(p.LockFile)
	if !strings.Contains(string(raw), `"origin": "vnd.fermyon.origin-oci:`) {
		t.Errorf("origin metadata not set: %s", raw)
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	for _, archive := range []bool{false, true} {
		t.Run(fmt.Sprintf("archive=%v", archive), func(t *testing.T) {
			reg := ociregistry.Start(t, ociregistry.Options{})
			f := newFixture(t)
			ref := reg.Host + "/apps/hello:v1"
			pusher := newClient(t, t.TempDir())
			pusher.ArchiveLayers = archive
			digest, err := pusher.Push(context.Background(), ref, f.lock, map[string]string{"org.example.extra": "x"})
			if err != nil {
				t.Fatal(err)
			}
			m := fetchManifest(t, ref)
			if d := blobstore.Digest(m.raw); d != digest {
				t.Errorf("push returned %s, registry has %s", digest, d)
			}
			checkFormat(t, m.manifest, archive)
			if m.manifest.Annotations["org.opencontainers.image.title"] != "hello-redis" || m.manifest.Annotations["org.example.extra"] != "x" {
				t.Errorf("annotations: %v", m.manifest.Annotations)
			}

			c := newClient(t, t.TempDir())
			p, err := c.Pull(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if p.Digest != digest || p.Offline || p.OldFormat {
				t.Errorf("pulled %+v", p)
			}
			checkPulled(t, c, p, f)
		})
	}
}

type fetched struct {
	raw      []byte
	manifest *v1.Manifest
}

func fetchManifest(t *testing.T, ref string) fetched {
	t.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Get(r)
	if err != nil {
		t.Fatal(err)
	}
	m, err := v1.ParseManifest(bytes.NewReader(d.Manifest))
	if err != nil {
		t.Fatal(err)
	}
	return fetched{raw: d.Manifest, manifest: m}
}

// checkFormat checks the artifact against current Spin's format.
func checkFormat(t *testing.T, m *v1.Manifest, archive bool) {
	t.Helper()
	if m.MediaType != types.OCIManifestSchema1 || m.Config.MediaType != MediaTypeOCIConfig {
		t.Errorf("media types: manifest %q config %q", m.MediaType, m.Config.MediaType)
	}
	var kinds []string
	for _, l := range m.Layers {
		kinds = append(kinds, string(l.MediaType))
	}
	want := []string{MediaTypeWasm, MediaTypeData, MediaTypeLockedApp} // small.txt is inlined
	if archive {
		want = []string{MediaTypeWasm, MediaTypeArchive, MediaTypeLockedApp}
	}
	if strings.Join(kinds, ",") != strings.Join(want, ",") {
		t.Errorf("layers %v, want %v", kinds, want)
	}
}

func TestConfigCarriesLockedAppDigest(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	ref := reg.Host + "/apps/hello:v1"
	if _, err := newClient(t, t.TempDir()).Push(context.Background(), ref, newFixture(t).lock, nil); err != nil {
		t.Fatal(err)
	}
	m := fetchManifest(t, ref).manifest
	r, _ := name.ParseReference(ref)
	l, err := remote.Layer(r.Context().Digest(m.Config.Digest.String()))
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := l.Compressed()
	defer rc.Close()
	var cfg struct {
		Architecture, OS string
		Config           struct{ Labels map[string]string }
	}
	if err := json.NewDecoder(rc).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	last := m.Layers[len(m.Layers)-1]
	if cfg.Architecture != "wasm" || cfg.OS != "wasip1" || cfg.Config.Labels[LabelLockedAppDigest] != last.Digest.String() {
		t.Errorf("config %+v, locked app layer %s", cfg, last.Digest)
	}
}

func TestPullRefusesDigestMismatch(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	f := newFixture(t)
	ref := reg.Host + "/apps/hello:v1"
	if _, err := newClient(t, t.TempDir()).Push(context.Background(), ref, f.lock, nil); err != nil {
		t.Fatal(err)
	}
	reg.Corrupt(blobstore.Digest(f.wasm))
	c := newClient(t, t.TempDir())
	_, err := c.Pull(context.Background(), ref)
	if !errors.Is(err, blobstore.ErrDigestMismatch) {
		t.Fatalf("pull of a corrupted blob: %v", err)
	}
	if _, ok := c.Store.Lookup(blobstore.Digest(f.wasm)); ok {
		t.Error("the corrupted blob was cached")
	}
}

func TestPullFromCacheWhenRegistryIsGone(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	f := newFixture(t)
	ref := reg.Host + "/apps/hello:v1"
	digest, err := newClient(t, t.TempDir()).Push(context.Background(), ref, f.lock, nil)
	if err != nil {
		t.Fatal(err)
	}
	cache := t.TempDir()
	c := newClient(t, cache)
	if _, err := c.Pull(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	// A second pull while the registry is up fetches no blob again.
	if _, err := c.Pull(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	if n := reg.BlobGets(blobstore.Digest(f.wasm)); n != 1 {
		t.Errorf("wasm fetched %d times, want 1 (cached by digest)", n)
	}
	reg.Close()
	c = newClient(t, cache) // a new process, same cache
	p, err := c.Pull(context.Background(), ref)
	if err != nil {
		t.Fatalf("offline pull by tag: %v", err)
	}
	if !p.Offline || p.Digest != digest {
		t.Errorf("offline pull: %+v", p)
	}
	checkPulled(t, c, p, f)
	pd, err := c.Pull(context.Background(), reg.Host+"/apps/hello@"+digest)
	if err != nil || pd.Offline {
		t.Fatalf("pull by digest from the cache: %+v %v", pd, err)
	}
	// A reference never pulled cannot come from the cache.
	if _, err := c.Pull(context.Background(), reg.Host+"/apps/other:v1"); err == nil {
		t.Fatal("pull of an uncached reference with the registry gone succeeded")
	}
}

func TestPullWithCredentials(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{User: "alice", Password: "s3cret"})
	f := newFixture(t)
	ref := reg.Host + "/apps/hello:v1"
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("DOCKER_CONFIG", filepath.Join(home, "docker"))

	anon := newClient(t, t.TempDir())
	if _, err := anon.Push(context.Background(), ref, f.lock, nil); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("push without credentials: %v", err)
	}

	// Spin's registry-auth.json, as `redspin registry login` writes it.
	if err := Login(context.Background(), "http://"+reg.Host, "alice", "wrong", "", false, nil); err == nil {
		t.Fatal("login with a wrong password succeeded")
	}
	if err := Login(context.Background(), reg.Host, "alice", "s3cret", "", false, nil); err != nil {
		t.Fatal(err)
	}
	authFile := filepath.Join(home, "config", "fermyon", "registry-auth.json")
	raw, err := os.ReadFile(authFile)
	if err != nil {
		t.Fatal(err)
	}
	var saved spinAuth
	if err := json.Unmarshal(raw, &saved); err != nil || saved.Auths[reg.Host] != base64.StdEncoding.EncodeToString([]byte("alice:s3cret")) {
		t.Fatalf("registry-auth.json: %s (%v)", raw, err)
	}
	spin := &Client{Store: blobstore.New(t.TempDir()), Dir: t.TempDir()} // default keychain
	digest, err := spin.Push(context.Background(), ref, f.lock, nil)
	if err != nil {
		t.Fatalf("push with Spin's credentials: %v", err)
	}

	// Docker's config, when Spin's file has nothing.
	if err := os.Remove(authFile); err != nil {
		t.Fatal(err)
	}
	docker := &Client{Store: blobstore.New(t.TempDir()), Dir: t.TempDir()}
	if _, err := docker.Pull(context.Background(), ref); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("pull without credentials: %v", err)
	}
	if err := os.MkdirAll(filepath.Join(home, "docker"), 0o700); err != nil {
		t.Fatal(err)
	}
	dockerCfg := fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Host, base64.StdEncoding.EncodeToString([]byte("alice:s3cret")))
	if err := os.WriteFile(filepath.Join(home, "docker", "config.json"), []byte(dockerCfg), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := docker.Pull(context.Background(), ref)
	if err != nil {
		t.Fatalf("pull with Docker credentials: %v", err)
	}
	if p.Digest != digest {
		t.Errorf("digest %s, want %s", p.Digest, digest)
	}
}

// TestPullOldFormat pulls an image that carries the locked app as its
// config blob, as Spin before the layer format pushed them.
func TestPullOldFormat(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	f := newFixture(t)
	ref := reg.Host + "/apps/old:v1"
	c := newClient(t, t.TempDir())
	layers, comps, err := c.assemble(f.lock, false)
	if err != nil {
		t.Fatal(err)
	}
	l := *f.lock
	l.Components = comps
	lockJSON, _ := json.Marshal(l)
	cfg := newBlob(MediaTypeLockedApp, lockJSON)
	m := v1.Manifest{SchemaVersion: 2, MediaType: types.OCIManifestSchema1, Config: cfg.descriptor()}
	r, _ := name.ParseReference(ref)
	for _, b := range append([]blob{cfg}, layers...) {
		m.Layers = append(m.Layers, b.descriptor())
		if err := remote.WriteLayer(r.Context(), static.NewLayer(b.data, types.MediaType(b.mediaType))); err != nil {
			t.Fatal(err)
		}
	}
	m.Layers = m.Layers[1:]
	raw, _ := json.Marshal(m)
	if err := remote.Put(r, rawManifest{raw: raw, mediaType: types.OCIManifestSchema1}); err != nil {
		t.Fatal(err)
	}
	puller := newClient(t, t.TempDir())
	p, err := puller.Pull(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if !p.OldFormat {
		t.Error("not recognised as the old format")
	}
	checkPulled(t, puller, p, f)
}

func TestPushRefusesDependencies(t *testing.T) {
	f := newFixture(t)
	f.lock.Components[0].Dependencies = map[string]lockedapp.Dependency{"a:b/c": {Source: lockedapp.Source{ContentType: "application/wasm", ContentRef: lockedapp.ContentRef{Source: "file:///x.wasm"}}}}
	_, err := newClient(t, t.TempDir()).Push(context.Background(), "127.0.0.1:1/apps/x:v1", f.lock, nil)
	if err == nil || !strings.Contains(err.Error(), "spin registry push") {
		t.Fatalf("push of a component with dependencies: %v", err)
	}
}

func TestLooksLikeReference(t *testing.T) {
	for s, want := range map[string]bool{
		"ghcr.io/fermyon/app:v1":     true,
		"localhost:5000/app:v1":      true,
		"ghcr.io/fermyon/app":        true,
		"ghcr.io/fermyon/app:latest": true,
		"docker.io/library/app":      true,
		"fermyon/app:v2":             true,
		"registry.example.com/a@sha256:" + strings.Repeat("a", 64): true,
		"app/spin.toml":           false,
		"spin.toml":               false,
		"./app":                   false,
		"/abs/path/app.lock.json": false,
		"Upper/Case:v1":           false,
	} {
		if got := LooksLikeReference(s); got != want {
			t.Errorf("LooksLikeReference(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestRegistryHost(t *testing.T) {
	for in, want := range map[string]string{"ghcr.io": "ghcr.io", "https://ghcr.io/": "ghcr.io", "docker.io": "index.docker.io", "localhost:5000": "localhost:5000"} {
		if got := RegistryHost(in); got != want {
			t.Errorf("RegistryHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestPushSwitchesToArchiveLayers: more than MaxLayers-1 layers make push
// use one archive per component, as Spin does.
func TestPushSwitchesToArchiveLayers(t *testing.T) {
	reg := ociregistry.Start(t, ociregistry.Options{})
	f := newFixture(t)
	files, err := lockedapp.FilePath(f.lock.Components[0].Files[0].Source)
	if err != nil {
		t.Fatal(err)
	}
	for i := range MaxLayers {
		body := bytes.Repeat([]byte{byte(i)}, InlineMax+1+i%7)
		body = append(body, fmt.Sprint(i)...)
		if err := os.WriteFile(filepath.Join(files, fmt.Sprintf("f%03d", i)), body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ref := reg.Host + "/apps/many:v1"
	if _, err := newClient(t, t.TempDir()).Push(context.Background(), ref, f.lock, nil); err != nil {
		t.Fatal(err)
	}
	m := fetchManifest(t, ref).manifest
	if len(m.Layers) != 3 || m.Layers[1].MediaType != MediaTypeArchive {
		t.Fatalf("%d layers, second %q; want wasm, archive, locked app", len(m.Layers), m.Layers[1].MediaType)
	}
	c := newClient(t, t.TempDir())
	p, err := c.Pull(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	app, _, err := lockedapp.Load(p.LockFile, c.Store)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(app.Components["hello"].Files); n != MaxLayers+2 {
		t.Errorf("%d files after pull, want %d", n, MaxLayers+2)
	}
}
