package dbserver

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// Postgres returns the test binary's PostgreSQL server, starting it on
// first use (trust authentication; superuser "postgres", database
// "postgres", TLS with the certificate CAFile signed). The server is Debian's newest
// /usr/lib/postgresql/<version>/bin/postgres, or postgres on PATH.
func Postgres(t testing.TB) *Server {
	t.Helper()
	return shared(t, "postgres", postgresBin(), startPostgres)
}

func postgresBin() string {
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(found) == 0 {
		return "postgres"
	}
	sort.Slice(found, func(i, j int) bool { return versionOf(found[i]) < versionOf(found[j]) })
	return found[len(found)-1]
}

func versionOf(bin string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bin))))
	return n
}

// URL is a postgres:// URL for database db with sslmode=disable.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", s.User, s.Addr(), db)
}

func startPostgres(bin string) (*Server, error) {
	cred, err := runAs("postgres")
	if err != nil {
		return nil, err
	}
	dir, err := tempDir("redspin-pg-", cred)
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	initdb := filepath.Join(filepath.Dir(bin), "initdb")
	if err := run(command(cred, initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "--no-instructions")); err != nil {
		return nil, err
	}
	caFile, err := writeCerts(dir, cred)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for range 3 { // a free port can be taken between picking and binding
		port, err := redisserver.FreePort()
		if err != nil {
			return nil, err
		}
		s := &Server{Port: port, Dir: dir, User: "postgres", CAFile: caFile}
		cmd := command(cred, bin, "-D", data, "-k", dir, "-p", fmt.Sprint(port),
			"-c", "ssl=on", "-c", "ssl_cert_file="+filepath.Join(dir, "server.pem"),
			"-c", "ssl_key_file="+filepath.Join(dir, "server-key.pem"),
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=16MB")
		if lastErr = s.launch(cmd, func(ctx context.Context) error {
			c, err := pgx.Connect(ctx, s.URL("postgres"))
			if err != nil {
				return err
			}
			return c.Close(ctx)
		}); lastErr == nil {
			return s, nil
		}
	}
	return nil, lastErr
}
