package wasm

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/redspin/redspin/internal/host"
	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/spinhost/mqtt"
	"github.com/redspin/redspin/internal/testutil/dbserver"
	"github.com/redspin/redspin/internal/testutil/syncbuf"
)

// hostRunner runs a component guest through internal/host, the real
// runner (the JS guests' 13 MB components compile once per machine into
// the host's cache, shared with internal/host's tests), keeping its stdout
// and stderr apart.
type hostRunner struct {
	h           *host.Host
	id          string
	out, errOut *syncbuf.Buffer
}

// newHostRunner loads the guest file with the services' interfaces.
func newHostRunner(t *testing.T, svc *Services, file string) *hostRunner {
	t.Helper()
	p := filepath.Join(guestsDir, file)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("guest not built: %v", err)
	}
	cache := ""
	if dir, err := os.UserCacheDir(); err == nil && os.Getenv("REDSPIN_TEST_FRESH_CACHE") == "" {
		cache = filepath.Join(dir, "redspin", "test-artifacts")
	}
	r := &hostRunner{id: svc.Component, out: &syncbuf.Buffer{}, errOut: &syncbuf.Buffer{}}
	echo := func(_, stream string) io.Writer {
		if stream == "stdout" {
			return r.out
		}
		return r.errOut
	}
	h, err := host.New(context.Background(), []host.ComponentConfig{{ID: svc.Component, WasmPath: p, Imports: svc}},
		host.Options{CacheDir: cache, Echo: echo, Stderr: r.errOut})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Close() })
	r.h = h
	return r
}

// run handles one message and returns the output it added.
func (r *hostRunner) run(t *testing.T, payload string) runResult {
	t.Helper()
	o, e := len(r.out.String()), len(r.errOut.String())
	err := r.h.Handle(context.Background(), r.id, []byte(payload))
	return runResult{ok: err == nil, stdout: r.out.String()[o:], stderr: r.errOut.String()[e:]}
}

// platformServices are the interfaces js-platform's database and MQTT
// tests link: the databases on loopback (dbServices) and MQTT to
// 127.0.0.1 with a 16-byte payload cap.
func platformServices(t *testing.T) *Services {
	svc := dbServices(t)
	allowed := allowedhosts.MustParse("mqtt://127.0.0.1:*")
	svc.MQTT = mqtt.NewPool(mqtt.Settings{MaxPayloadBytes: 16}).Component(svc.Component, allowed, nil)
	return svc
}

// TestJSPlatformRDBMS runs the JS guest built against Spin's platform
// worlds (js-platform/rdbms.js) against the real servers with the C rdbms
// guest's cases (but Spin 1.x's interfaces, which a component cannot
// import): every value type of spin:postgres@4.1.0 and @3.0.0,
// fermyon:spin/postgres@2.0.0 and mysql@2.0.0 and the unversioned
// interfaces goes into a table and comes back through the JS bindings; the
// error variants, TLS with set-ca-root and the denied addresses come back
// as the guest sees them; the rows are in the servers.
func TestJSPlatformRDBMS(t *testing.T) {
	pgSrv, mySrv := dbserver.Postgres(t), dbserver.MariaDB(t)
	r := newHostRunner(t, platformServices(t), "js-platform/js-platform.wasm")
	pgURL, myURL := pgSrv.URL("postgres"), mySrv.MySQLURL("spin")
	for _, c := range rdbmsCases(t, pgSrv, myURL) {
		if !strings.HasPrefix(c.cmd, "spin1") {
			checkRDBMS(t, r, c)
		}
	}
	for _, c := range []rdbmsCase{
		// The unversioned interfaces write and read the tables themselves.
		{cmd: "pg1w:" + pgURL, ok: true, want: "affected 0\naffected 1\n" + pg2Rows},
		{cmd: "my1w:" + myURL, ok: true, want: myRows},
		{cmd: "myerr:" + myURL, ok: true, want: strings.Repeat("err query-failed Error 1146 (42S02): Table 'spin.no_such_table' doesn't exist\n", 3) +
			"err query-failed Error 1064 (42000): You have an error in your SQL syntax; check the manual that corresponds to your " +
			"MariaDB server version for the right syntax to use near 'SELEC 1' at line 1\n"},
		{cmd: "pg2:host=10.1.1.1 user=x", want: "err connection-failed address postgres://10.1.1.1:5432 is not permitted\n"},
		{cmd: "pg3:postgres://u@10.1.1.1/db", want: "err connection-failed address postgres://10.1.1.1:5432 is not permitted\n"},
		{cmd: "my1:mysql://u:p@10.1.1.1/db", want: "err connection-failed address mysql://u:xxxxx@10.1.1.1/db is not permitted\n"},
	} {
		checkRDBMS(t, r, c)
	}
	// The rows are in the servers, as the guest wrote them.
	db, err := mySrv.DB("spin")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var u64 uint64
	var s string
	if err := db.QueryRow("SELECT u64, s FROM guest2").Scan(&u64, &s); err != nil || u64 != 1<<64-1 || s != "héllo" {
		t.Errorf("MariaDB row: %d %q %v", u64, s, err)
	}
	pgc, err := pgx.Connect(context.Background(), pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pgc.Close(context.Background())
	var d time.Time
	if err := pgc.QueryRow(context.Background(), "SELECT s, d FROM guest3").Scan(&s, &d); err != nil || s != "héllo" ||
		d.Format(time.DateOnly) != "2024-02-29" {
		t.Errorf("PostgreSQL row: %q %v %v", s, d, err)
	}
}

// TestJSPlatformMQTT: the JS guest's mqtt: command (js-platform/mqtt.js,
// fermyon:spin/mqtt@2.0.0) against a real mosquitto, as the C guest's.
func TestJSPlatformMQTT(t *testing.T) {
	s := broker.Get(t)
	msgs := s.Subscribe(t, "js/#")
	checkMQTTGuest(t, newHostRunner(t, platformServices(t), "js-platform/js-platform.wasm"), s, msgs, "js")
	noMoreMessages(t, msgs)
}
