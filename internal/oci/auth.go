package oci

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// SpinAuthFile is where Spin keeps registry credentials:
// <user config dir>/fermyon/registry-auth.json.
func SpinAuthFile() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the user config directory for registry-auth.json: %w", err)
	}
	return filepath.Join(d, "fermyon", "registry-auth.json"), nil
}

// spinAuth is the JSON of registry-auth.json: server → base64("user:pass").
type spinAuth struct {
	Auths map[string]string `json:"auths"`
}

func readSpinAuth(path string) (spinAuth, error) {
	a := spinAuth{Auths: map[string]string{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return a, nil
	}
	if err != nil {
		return a, err
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("cannot load authentication file %s: %w", path, err)
	}
	if a.Auths == nil {
		a.Auths = map[string]string{}
	}
	return a, nil
}

// SpinKeychain reads credentials from Spin's registry-auth.json at Path
// ("" means [SpinAuthFile]) on every lookup; a registry it has no entry for
// is anonymous to it.
type SpinKeychain struct {
	Path string
}

// Resolve implements authn.Keychain.
func (k SpinKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	p := k.Path
	if p == "" {
		var err error
		if p, err = SpinAuthFile(); err != nil {
			return authn.Anonymous, nil
		}
	}
	a, err := readSpinAuth(p)
	if err != nil {
		return nil, err
	}
	enc, ok := a.Auths[r.RegistryStr()]
	if !ok {
		return authn.Anonymous, nil
	}
	dec, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%s: credentials for %s are not base64: %w", p, r.RegistryStr(), err)
	}
	user, pass, ok := strings.Cut(string(dec), ":")
	if !ok {
		return nil, fmt.Errorf("%s: credentials for %s are not user:password", p, r.RegistryStr())
	}
	return authn.FromConfig(authn.AuthConfig{Username: user, Password: pass}), nil
}

// DefaultKeychain is Spin's order: its own registry-auth.json first, then
// the Docker config.
func DefaultKeychain() authn.Keychain {
	return authn.NewMultiKeychain(SpinKeychain{}, authn.DefaultKeychain)
}

// RegistryHost turns what a user types at login ("ghcr.io",
// "https://ghcr.io/", "docker.io") into the key Spin stores: the host, with
// docker.io meaning index.docker.io.
func RegistryHost(server string) string {
	if u, err := url.Parse(server); err == nil && u.Host != "" {
		server = u.Host
	}
	server = strings.TrimSuffix(server, "/")
	if server == "docker.io" {
		return name.DefaultRegistry
	}
	return server
}

// Login checks the credentials against the registry (GET /v2/ must succeed
// with them) and saves them in Spin's registry-auth.json at authFile ("" means
// [SpinAuthFile]), as `spin registry login` does. insecure talks plain HTTP;
// rt nil means http.DefaultTransport.
func Login(ctx context.Context, server, user, password, authFile string, insecure bool, rt http.RoundTripper) error {
	host := RegistryHost(server)
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return fmt.Errorf("registry %q: %w", server, err)
	}
	if rt == nil {
		rt = http.DefaultTransport
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	tr, err := transport.NewWithContext(ctx, reg, auth, rt, nil)
	if err != nil {
		return fmt.Errorf("cannot authenticate as %s to registry %s: %w", user, host, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr()), nil)
	if err != nil {
		return err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("cannot authenticate as %s to registry %s: %w", user, host, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("cannot authenticate as %s to registry %s: %s", user, host, resp.Status)
	}
	if authFile == "" {
		if authFile, err = SpinAuthFile(); err != nil {
			return err
		}
	}
	a, err := readSpinAuth(authFile)
	if err != nil {
		return err
	}
	a.Auths[host] = base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(authFile), 0o700); err != nil {
		return fmt.Errorf("cannot save authentication file: %w", err)
	}
	if err := os.WriteFile(authFile, b, 0o600); err != nil {
		return fmt.Errorf("cannot save authentication file %s: %w", authFile, err)
	}
	return nil
}
