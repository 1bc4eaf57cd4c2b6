package pg

import (
	"context"
	"testing"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/rdbms"
	"github.com/redspin/redspin/internal/testutil/dbserver"
)

// BenchmarkOpen measures a message's connection.open + close: taken from the
// pool (reset with two round trips) against dialled (a new backend).
func BenchmarkOpen(b *testing.B) {
	srv := dbserver.Postgres(b)
	for _, bc := range []struct {
		name    string
		maxIdle int
	}{{"pooled", 0}, {"dialled", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			c := New(Config{Config: rdbms.Config{Component: "c", Allowed: allowedhosts.MustParse("postgres://127.0.0.1:*")}, MaxIdlePerAddress: bc.maxIdle})
			defer c.Close()
			for b.Loop() {
				i := c.NewInstance()
				if _, err := i.Open(context.Background(), srv.URL("postgres")); err != nil {
					b.Fatal(err)
				}
				i.Close()
			}
		})
	}
}
