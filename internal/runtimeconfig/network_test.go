package runtimeconfig

import (
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/redspin/redspin/internal/testutil/testca"
)

func TestOutboundNetworking(t *testing.T) {
	cfg, warnings, err := Load(write(t, `
[outbound_networking]
block_networks = ["10.0.0.0/8", "private", "1.2.3.4", "2001:db8::1/32"]
max_total_connections = 20
max_socket_connections = 5
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Fatalf("warnings %v", warnings)
	}
	want := &OutboundNetworking{
		BlockNetworks:        []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("1.2.3.4/32"), netip.MustParsePrefix("2001:db8::/32")},
		BlockPrivate:         true,
		MaxTotalConnections:  20,
		MaxSocketConnections: 5,
	}
	if !reflect.DeepEqual(cfg.OutboundNetworking, want) {
		t.Fatalf("got %+v", cfg.OutboundNetworking)
	}
}

func TestClientTLS(t *testing.T) {
	ca := testca.New(t)
	client := ca.Client("worker")
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "certs"), 0o755)
	for name, b := range map[string][]byte{"certs/ca.pem": ca.PEM, "certs/client.pem": client.CertPEM, "certs/client-key.pem": client.KeyPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "runtime-config.toml")
	os.WriteFile(path, []byte(`
[[client_tls]]
component_ids = ["worker"]
hosts = ["api.internal", "10.0.0.1"]
ca_roots_file = "certs/ca.pem"
client_cert_file = "certs/client.pem"
client_private_key_file = "certs/client-key.pem"

[[client_tls]]
component_ids = ["a", "b"]
hosts = ["x.example"]
ca_use_webpki_roots = true

[[client_tls]]
component_ids = ["c"]
hosts = ["y.example"]
`), 0o600)
	cfg, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ClientTLS) != 3 {
		t.Fatalf("%d entries", len(cfg.ClientTLS))
	}
	c0 := cfg.ClientTLS[0]
	// A roots file without a ca_use_* flag turns the platform roots off.
	if c0.UsePlatformRoots || c0.UseWebPKIRoots || len(c0.Roots) != 1 || !c0.Roots[0].Equal(ca.Cert) || c0.Certificate == nil || c0.Line != 2 {
		t.Fatalf("entry 0: %+v", c0)
	}
	if c1 := cfg.ClientTLS[1]; c1.UsePlatformRoots || !c1.UseWebPKIRoots {
		t.Fatalf("entry 1: %+v", c1)
	}
	if c2 := cfg.ClientTLS[2]; !c2.UsePlatformRoots || c2.UseWebPKIRoots || c2.Roots != nil {
		t.Fatalf("entry 2: %+v", c2)
	}
}

func TestNetworkErrors(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "not-a-cert.pem"), []byte("hello"), 0o600)
	for _, tc := range []struct{ toml, want string }{
		{"[outbound_networking]\nblock_networks = [\"nope\"]", `outbound_networking.block_networks: "nope" is not an IP network`},
		{"[outbound_networking]\nblock_networks = \"private\"", "must be a list of strings"},
		{"[outbound_networking]\nmax_total_connections = 0", "must be a positive number"},
		{"[outbound_networking]\nblocked = []", `unknown key "blocked"`},
		{"[[client_tls]]\ncomponent_ids = []\nhosts = [\"h\"]", "'component_ids' list may not be empty"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]", "'hosts' list may not be empty"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h:443\"]", "ports not currently supported"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nca_use_platform_roots = \"yes\"", "must be true or false"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nclient_cert_file = \"c.pem\"", "client_cert_file specified without client_private_key_file"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nclient_private_key_file = \"k.pem\"", "client_private_key_file specified without client_cert_file"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nca_roots_file = \"missing.pem\"", "read ca_roots_file"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nca_roots_file = \"not-a-cert.pem\"", "no PEM CERTIFICATE block"},
		{"[[client_tls]]\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]\nca_file = \"x\"", `client_tls[0].ca_file: unknown key "ca_file"`},
		{"[[client_tls]]\ntype = \"x\"\ncomponent_ids = [\"c\"]\nhosts = [\"h\"]", `unknown key "type"`},
	} {
		path := filepath.Join(dir, "runtime-config.toml")
		os.WriteFile(path, []byte(tc.toml), 0o600)
		_, _, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\n got %v\nwant ~%s", tc.toml, err, tc.want)
		}
	}
}

func TestOutboundHTTP(t *testing.T) {
	cfg, warnings, err := Load(write(t, "[outbound_http]\nmax_connections = 4\n"))
	if err != nil || len(warnings) != 0 {
		t.Fatal(err, warnings)
	}
	if *cfg.OutboundHTTP != (OutboundHTTP{MaxConnections: 4}) {
		t.Fatalf("%+v (pooling defaults to false once the table is present)", cfg.OutboundHTTP)
	}
	cfg, warnings, err = Load(write(t, "[outbound_http]\nconnection_pooling = true\nmax_concurrent_requests = 0\n"))
	if err == nil {
		t.Fatal("max_concurrent_requests = 0 accepted")
	}
	cfg, warnings, err = Load(write(t, "[outbound_http]\nconnection_pooling = true\nmax_concurrent_requests = 2\n"))
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0].String(), "deprecated") {
		t.Fatal(err, warnings)
	}
	if *cfg.OutboundHTTP != (OutboundHTTP{ConnectionPooling: true, MaxConnections: 3}) {
		t.Fatalf("%+v", cfg.OutboundHTTP)
	}
	if _, _, err := Load(write(t, "[outbound_http]\nmax_connections = 1\nmax_concurrent_requests = 1\n")); err == nil || !strings.Contains(err.Error(), "cannot set both") {
		t.Fatal(err)
	}
	if cfg, _, _ := Load(write(t, "")); cfg.OutboundHTTP != nil {
		t.Fatal("absent table parsed")
	}
}
