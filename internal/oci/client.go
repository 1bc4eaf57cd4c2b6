package oci

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/redspin/redspin/internal/blobstore"
)

// maxBlob bounds one pulled blob and the files unpacked from one archive
// (1 GiB), as for downloaded component sources.
const maxBlob = 1 << 30

// pullJobs bounds concurrent blob downloads.
const pullJobs = 8

// Client pulls and pushes Spin OCI apps.
type Client struct {
	// Store receives every pulled blob, verified; required.
	Store *blobstore.Store
	// Dir keeps which manifest each pulled reference named and the pulled
	// locked apps; required.
	Dir string
	// Insecure talks plain HTTP to the registry (--insecure); false uses
	// HTTPS (go-containerregistry still uses HTTP for localhost).
	Insecure bool
	// Keychain finds credentials; nil means [DefaultKeychain].
	Keychain authn.Keychain
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives warnings (e.g. an offline start); nil discards them.
	Logger *slog.Logger
	// ArchiveLayers makes Push use one archive layer per component for files;
	// false does so only when there would be too many layers (the CLI sets
	// it from SPIN_OCI_ARCHIVE_LAYERS).
	ArchiveLayers bool
	// Now stamps the created annotation on push; nil means time.Now.
	Now func() time.Time
}

func (c *Client) logger() *slog.Logger {
	if c.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return c.Logger
}

func (c *Client) remoteOptions(ctx context.Context) []remote.Option {
	kc := c.Keychain
	if kc == nil {
		kc = DefaultKeychain()
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithTransport(rt), remote.WithUserAgent("redspin")}
}
