package main

import (
	"net/netip"
	"reflect"
	"testing"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/manifest"
	"github.com/redspin/redspin/internal/runtimeconfig"
	"github.com/redspin/redspin/internal/template"
)

func TestAllowedHostsSkipsEmptyRenderings(t *testing.T) {
	c := &app.Component{Spec: &manifest.Component{ID: "c"}, AllowedOutboundHosts: []template.Text{
		{Value: "https://", Source: "https://{{ api_host }}"},
		{Value: "", Source: "{{ optional }}"},
		{Value: "http://api.example", Source: "http://{{ host }}"},
		{Value: "redis://cache:6379", Source: "redis://cache:6379"},
	}}
	got, err := allowedHosts(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"http://api.example", "redis://cache:6379"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestHTTPNetworkFromRuntimeConfig(t *testing.T) {
	n := httpNetwork(&runtimeconfig.Config{
		OutboundNetworking: &runtimeconfig.OutboundNetworking{BlockNetworks: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}, BlockPrivate: true, MaxTotalConnections: 3},
		OutboundHTTP:       &runtimeconfig.OutboundHTTP{MaxConnections: 2},
		ClientTLS:          []runtimeconfig.ClientTLS{{ComponentIDs: []string{"c"}, Hosts: []string{"h"}, UseWebPKIRoots: true}},
	})
	if len(n.BlockNetworks) != 1 || !n.BlockPrivate || n.MaxConnections != 2 || !n.DisablePooling || len(n.TLS) != 1 || !n.TLS[0].PlatformRoots {
		t.Fatalf("network %+v", n)
	}
	if n := httpNetwork(nil); n == nil || n.BlockPrivate {
		t.Fatal("nil config")
	}
}
