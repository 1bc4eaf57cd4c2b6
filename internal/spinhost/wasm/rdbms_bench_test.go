package wasm

import (
	"context"
	"testing"

	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/wasmtime"
)

// BenchmarkComponentPostgresQuery measures one query through the component
// adapter (lift, pgx round trip on loopback, narrow, lower) for a 1-row and
// a 1000-row result of five columns.
func BenchmarkComponentPostgresQuery(b *testing.B) {
	srv := dbserver.Postgres(b)
	st := dbServices(&testing.T{}).NewInstance(context.Background())
	defer st.Close()
	c := fakeCaller{st}
	res := compInterfaces[modPG42].funcs
	results := make([]wasmtime.Val, 1)
	if err := res["[static]connection.open"](c, st, []wasmtime.Val{wasmtime.Str(srv.URL("postgres"))}, results); err != nil || !results[0].Ok {
		b.Fatalf("open: %v %+v", err, results[0])
	}
	conn := *results[0].Payload
	for _, bc := range []struct{ name, stmt string }{
		{"rows=1", "SELECT 1::int4, 'x'::text, 2::int8, 1.5::float8, now()::timestamp"},
		{"rows=1000", "SELECT g::int4, 'x'::text, 2::int8, 1.5::float8, now()::timestamp FROM generate_series(1, 1000) g"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			args := []wasmtime.Val{conn, wasmtime.Str(bc.stmt), params()}
			for b.Loop() {
				if err := res["[method]connection.query"](c, st, args, results); err != nil || !results[0].Ok {
					b.Fatalf("query: %v %+v", err, results[0])
				}
			}
		})
	}
}
