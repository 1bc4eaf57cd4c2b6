package mqtt

import (
	"context"
	"testing"
)

// BenchmarkPublish publishes 64 bytes on one open connection to the
// package's mosquitto, at each QoS: the round trips each QoS waits for.
func BenchmarkPublish(b *testing.B) {
	s := broker.Get(b)
	ctx := context.Background()
	for q, name := range []string{"qos0", "qos1", "qos2"} {
		b.Run(name, func(b *testing.B) {
			i := client(b, Settings{}, "mqtt://127.0.0.1:*").NewInstance()
			defer i.Close()
			h, err := i.Open(ctx, s.URL("bench"), "", "", 30)
			if err != nil {
				b.Fatal(err)
			}
			payload := make([]byte, 64)
			for b.Loop() {
				if err := i.Publish(ctx, h, "bench", payload, QoS(q)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMessageConnectPublish is one message's whole MQTT work: open,
// connect, publish at QoS 1, disconnect.
func BenchmarkMessageConnectPublish(b *testing.B) {
	s := broker.Get(b)
	ctx := context.Background()
	c := client(b, Settings{}, "mqtt://127.0.0.1:*")
	for b.Loop() {
		i := c.NewInstance()
		h, err := i.Open(ctx, s.URL("bench-msg"), "", "", 30)
		if err != nil {
			b.Fatal(err)
		}
		if err := i.Publish(ctx, h, "bench", []byte("x"), AtLeastOnce); err != nil {
			b.Fatal(err)
		}
		i.Close()
	}
}
