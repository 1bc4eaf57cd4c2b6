package oci

import (
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// LooksLikeReference applies Spin's test for telling an OCI reference from a
// file path that does not exist: it must parse as a reference; an explicit
// tag other than latest (or a digest) says yes; an implied Docker Hub
// registry the text does not mention says no.
func LooksLikeReference(s string) bool {
	ref, err := name.ParseReference(s)
	if err != nil || !validHost.MatchString(ref.Context().RegistryStr()) {
		return false
	}
	if t, ok := ref.(name.Tag); !ok || t.TagStr() != name.DefaultTag || strings.HasSuffix(s, ":"+name.DefaultTag) {
		return true
	}
	if strings.Contains(ref.Context().RegistryStr(), "docker") && !strings.Contains(s, "docker") {
		return false
	}
	return true
}

// validHost is the domain[:port] grammar of Docker references, which
// go-containerregistry checks less strictly (it accepts "." as a registry).
var validHost = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?$`)

// parseRef parses a reference, allowing plain HTTP when insecure.
func parseRef(s string, insecure bool) (name.Reference, error) {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	return name.ParseReference(s, opts...)
}
