package trigger

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

func TestTLSHint(t *testing.T) {
	plain, secure := &server{}, &server{}
	secure.opts.TLSConfig = &tls.Config{}
	for _, tc := range []struct {
		s    *server
		err  error
		want string
	}{
		{secure, fmt.Errorf("dial: %w", context.DeadlineExceeded), "use redis:// instead of rediss://"},
		{plain, fmt.Errorf("read: %w", io.EOF), "use rediss://"},
		{plain, context.DeadlineExceeded, ""},
		{secure, io.EOF, ""},
		{plain, errors.New("connection refused"), ""},
	} {
		got := tc.s.tlsHint(tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("tls=%v, %v: hint %q, want %q", tc.s.opts.TLSConfig != nil, tc.err, got, tc.want)
		}
	}
}
