package main

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	_ "modernc.org/sqlite"
)

// TestSQLiteLogExample runs examples/sqlite-log as its README does: every
// published message becomes a row in the state directory's default SQLite
// database, which a second run appends to.
func TestSQLiteLogExample(t *testing.T) {
	dir := copyExample(t, "sqlite-log")
	cache := t.TempDir()
	for run, msgs := range [][]string{{"hello", "wörld"}, {"again"}} {
		args := []string{"up", "-f", dir, "--embedded-redis", "--cache-dir", cache}
		for _, m := range msgs {
			args = append(args, "--publish", "messages="+m)
		}
		out, errOut, stop := startCLI(t, args...)
		want := "(" + "5 bytes)\n"
		if run == 1 {
			want = "stored message 3 (5 bytes)\n"
		}
		waitFor(t, "the component's output", func() bool {
			return strings.Count(errOut.String(), "stored message") == len(msgs) && strings.Contains(errOut.String(), want)
		})
		if code := stop(); code != exitOK {
			t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
		}
	}
	db, err := sql.Open("sqlite", filepath.Join(dir, ".spin", "sqlite_db.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT CAST(payload AS TEXT) FROM messages ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	// The two messages of the first run may be handled in either order.
	slices.Sort(got[:2])
	if want := []string{"hello", "wörld", "again"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
}

// A component listing a database the runtime config does not define, or a
// libsql one, does not load; check says which and how to fix it.
func TestCheckSQLiteDatabases(t *testing.T) {
	dir := copyExample(t, "sqlite-log")
	manifest := filepath.Join(dir, "spin.toml")
	b, _ := os.ReadFile(manifest)
	os.WriteFile(manifest, []byte(strings.Replace(string(b), `sqlite_databases = ["default"]`, `sqlite_databases = ["default", "orders", "remote"]`, 1)), 0o644)
	rc := filepath.Join(dir, "rc.toml")
	os.WriteFile(rc, []byte("[sqlite_database.remote]\ntype = \"libsql\"\nurl = \"https://db.example\"\ntoken = \"t0ken\"\n"), 0o644)
	code, out, errOut := runCLI(t, context.Background(), "", "check", "-f", dir, "--embedded-redis", "--runtime-config-file", rc, "--cache-dir", t.TempDir())
	if code == exitOK {
		t.Fatalf("check passed:\n%s", out)
	}
	for _, want := range []string{
		`component "logger" uses SQLite database "orders", which is not defined: check the spelling, or define it in the runtime config as [sqlite_database.orders]`,
		`component "logger" uses SQLite database "remote": [sqlite_database.remote] type "libsql" is not supported by redspin (use type "spin")`,
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if strings.Contains(errOut+out, "t0ken") {
		t.Error("the libsql token was printed")
	}
}
