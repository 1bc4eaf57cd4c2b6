package mqtt

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/redspin/redspin/internal/spinhost/allowedhosts"
	"github.com/redspin/redspin/internal/testutil/mqttserver"
	"github.com/redspin/redspin/internal/testutil/spanrec"
	"github.com/redspin/redspin/internal/testutil/testca"
)

var broker mqttserver.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	broker.Stop()
	os.Exit(code)
}

func wantKind(t *testing.T, err error, k Kind, msg string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || e.Kind != k || !strings.Contains(e.Message, msg) {
		t.Fatalf("err = %v, want %s %q", err, CaseNames[k], msg)
	}
}

func client(t testing.TB, s Settings, hosts ...string) *Client {
	t.Helper()
	allowed, err := allowedhosts.Parse(hosts)
	if err != nil {
		t.Fatal(err)
	}
	return NewPool(s).Component("guest", allowed, nil)
}

func TestPublishEveryQoS(t *testing.T) {
	s := broker.Get(t)
	ch := s.Subscribe(t, "redspin/qos")
	i := client(t, Settings{}, "mqtt://127.0.0.1:*").NewInstance()
	defer i.Close()
	ctx := context.Background()
	h, err := i.Open(ctx, s.URL("pub"), "", "", 30)
	if err != nil {
		t.Fatal(err)
	}
	for q := AtMostOnce; q <= ExactlyOnce; q++ {
		payload := []byte{'q', '0' + byte(q), 0, 0xff}
		if err := i.Publish(ctx, h, "redspin/qos", payload, q); err != nil {
			t.Fatalf("qos %d: %v", q, err)
		}
		m := mqttserver.Receive(t, ch)
		if string(m.Payload()) != string(payload) || m.Topic() != "redspin/qos" || m.Qos() != byte(q) {
			t.Fatalf("qos %d: got %q on %s at qos %d", q, m.Payload(), m.Topic(), m.Qos())
		}
	}
	i.Drop(h)
	if i.Len() != 0 {
		t.Fatal("drop left a connection")
	}
}

func TestErrors(t *testing.T) {
	s := broker.Get(t)
	ctx := context.Background()
	i := client(t, Settings{MaxPayloadBytes: 4}, "mqtt://127.0.0.1:*").NewInstance()
	defer i.Close()
	_, err := i.Open(ctx, "mqtt://denied.example:1883?client_id=x", "", "", 0)
	wantKind(t, err, KindConnectionFailed, "address mqtt://denied.example:1883?client_id=x is not permitted")
	_, err = i.Open(ctx, "mqtt://u:secret@denied.example?client_id=x", "", "", 0)
	if strings.Contains(err.Error(), "secret") {
		t.Fatalf("password in %v", err)
	}
	_, err = i.Open(ctx, "mqtt://127.0.0.1:1883", "", "", 0) // no client_id
	wantKind(t, err, KindInvalidAddress, "")
	_, err = i.Open(ctx, "http://127.0.0.1:1883?client_id=x", "", "", 0)
	wantKind(t, err, KindConnectionFailed, "not permitted") // allowed hosts first, as in Spin
	h, err := i.Open(ctx, s.URL("e"), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, i.Publish(ctx, h, "t", []byte("12345"), AtMostOnce), KindOther, "payload size 5 exceeds the maximum allowed size of 4 bytes")
	wantKind(t, i.Publish(ctx, 999, "t", nil, AtMostOnce), KindOther, "could not find connection for resource")
	// Nothing listens: open succeeds (no connection yet), publish fails.
	dead, err := i.Open(ctx, "mqtt://127.0.0.1:1?client_id=x", "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, i.Publish(ctx, dead, "t", []byte("x"), AtLeastOnce), KindConnectionFailed, "")
}

func TestMaxConnections(t *testing.T) {
	s := broker.Get(t)
	c := client(t, Settings{MaxConnections: 2}, "mqtt://127.0.0.1:*")
	a, b := c.NewInstance(), c.NewInstance()
	ctx := context.Background()
	for _, i := range []*Instance{a, b} {
		if _, err := i.Open(ctx, s.URL("m"), "", "", 0); err != nil {
			t.Fatal(err)
		}
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, err := a.Open(short, s.URL("m"), "", "", 0)
	wantKind(t, err, KindTooManyConnections, "")
	// A message that ends gives its slot back.
	b.Close()
	if _, err := a.Open(ctx, s.URL("m"), "", "", 0); err != nil {
		t.Fatal(err)
	}
	a.Close()
}

// mqtts:// (and ssl://) brokers: TLS verified against the roots (the
// system ones by default, as Spin; a test CA here), on a real mosquitto's
// TLS listener; a broker whose certificate does not verify is
// connection-failed at the first publish.
func TestTLS(t *testing.T) {
	ca := testca.New(t)
	pair := ca.Server("127.0.0.1")
	s := mqttserver.StartTLS(t, pair.CertPEM, pair.KeyPEM)
	ch := s.Subscribe(t, "redspin/tls")
	ctx := context.Background()
	i := client(t, Settings{RootCAs: ca.Pool()}, "mqtts://127.0.0.1:*", "ssl://127.0.0.1:*").NewInstance()
	defer i.Close()
	for q, addr := range []string{s.TLSURL("tls0"), strings.Replace(s.TLSURL("tls1"), "mqtts://", "ssl://", 1)} {
		h, err := i.Open(ctx, addr, "", "", 30)
		if err != nil {
			t.Fatal(err)
		}
		if err := i.Publish(ctx, h, "redspin/tls", []byte(addr), QoS(q+1)); err != nil {
			t.Fatalf("%s: %v", addr, err)
		}
		if m := mqttserver.Receive(t, ch); string(m.Payload()) != addr {
			t.Fatalf("got %q, want %q", m.Payload(), addr)
		}
	}
	// The system roots do not know the test CA.
	sys := client(t, Settings{}, "mqtts://127.0.0.1:*").NewInstance()
	defer sys.Close()
	h, err := sys.Open(ctx, s.TLSURL("sys"), "", "", 30)
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, sys.Publish(ctx, h, "redspin/tls", []byte("x"), AtLeastOnce), KindConnectionFailed, "certificate")
}

// Inside a traced message each publish is a client span with the messaging
// conventions; a failed one has status Error.
func TestSpans(t *testing.T) {
	s := broker.Get(t)
	rec := spanrec.Start(t)
	i := client(t, Settings{}, "mqtt://127.0.0.1:*").NewInstance()
	defer i.Close()
	h, err := i.Open(rec.Ctx, s.URL("spans"), "", "", 30)
	if err != nil {
		t.Fatal(err)
	}
	if err := i.Publish(rec.Ctx, h, "redspin/spans", []byte("12345"), AtLeastOnce); err != nil {
		t.Fatal(err)
	}
	if err := i.Publish(rec.Ctx, h, "redspin/spans", nil, 3); err == nil {
		t.Fatal("qos 3 accepted")
	}
	rec.CheckOKThenFailed(t, "publish redspin/spans", "publish redspin/spans", map[attribute.Key]string{"messaging.system": "mqtt",
		"messaging.operation.type": "send", "messaging.destination.name": "redspin/spans"}, "")
	if got := spanrec.Attrs(rec.Ended()[0]); got["messaging.message.body.size"] != "5" || got["redspin.mqtt.qos"] != "1" {
		t.Errorf("publish span %v", got)
	}
}
