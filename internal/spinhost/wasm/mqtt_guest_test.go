package wasm

import (
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/redspin/redspin/internal/testutil/mqttserver"
)

// broker is this package's mosquitto, started by the first test that needs
// it.
var broker mqttserver.Shared

// The c-mqtt guest, as a component and as a core module, publishes to a
// real mosquitto at each QoS; a subscriber receives every message. A denied
// address, a bad address, a payload over the cap and a dead broker give
// their error cases.
func TestGuestMQTT(t *testing.T) {
	s := broker.Get(t)
	msgs := s.Subscribe(t, "guest/#")
	svc := platformServices(t)
	hosts := map[string]guestRunner{
		"component": newComponentRunnerFor(t, svc, "c-mqtt/c-mqtt.wasm", 1),
		"core":      newCoreRunner(t, svc, "c-mqtt/c-mqtt.core", "cabi_realloc", "fermyon:spin/inbound-redis#handle-message"),
	}
	for shape, r := range hosts {
		t.Run(shape, func(t *testing.T) { checkMQTTGuest(t, r, s, msgs, "guest/"+shape) })
	}
	noMoreMessages(t, msgs)
}

// checkMQTTGuest runs a guest's mqtt: command (c-mqtt's protocol) against
// the broker s, whose messages under topic+"/#" arrive on msgs: two
// messages at each QoS reach the subscriber; a denied address, a bad
// address, a payload over the 16-byte cap and a dead broker give their
// error cases.
func checkMQTTGuest(t *testing.T, r guestRunner, s *mqttserver.Server, msgs <-chan paho.Message, topic string) {
	t.Helper()
	id := strings.ReplaceAll(topic, "/", "-")
	for q := range 3 {
		qs := string(rune('0' + q))
		tq := topic + "/" + qs
		runSteps(t, r, []guestStep{{"mqtt:" + s.URL(id) + "|u|secret|30|" + tq + "|" + qs + "|one|two", true, "published 2\n", ""}})
		for _, want := range []string{"one", "two"} {
			m := mqttserver.Receive(t, msgs)
			if m.Topic() != tq || string(m.Payload()) != want || m.Qos() != byte(q) {
				t.Errorf("got %q on %s at QoS %d, want %q on %s at QoS %d", m.Payload(), m.Topic(), m.Qos(), want, tq, q)
			}
		}
	}
	x := "|||30|" + topic + "/x|"
	runSteps(t, r, []guestStep{
		{"mqtt:mqtt://broker.example:1883?client_id=x" + x + "0|hi", false, "", "open: connection-failed: address mqtt://broker.example:1883?client_id=x is not permitted"},
		{"mqtt:mqtt://127.0.0.1:1883" + x + "0|hi", false, "", "open: invalid-address"},
		{"mqtt:" + s.URL(id+"-big") + x + "1|" + strings.Repeat("x", 17), false, "", "publish: other: payload size 17 exceeds the maximum allowed size of 16 bytes"},
		{"mqtt:mqtt://127.0.0.1:1?client_id=x" + x + "1|hi", false, "", "publish: connection-failed: "},
	})
}

// noMoreMessages fails the test if a message arrives within 100 ms.
func noMoreMessages(t *testing.T, msgs <-chan paho.Message) {
	t.Helper()
	select {
	case m := <-msgs:
		t.Errorf("unexpected message %q on %s", m.Payload(), m.Topic())
	case <-time.After(100 * time.Millisecond):
	}
}
