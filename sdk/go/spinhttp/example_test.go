package spinhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/redspin/redspin/sdk/go/redis"
	"github.com/redspin/redspin/sdk/go/spinhttp"
)

// Forward each message to a webhook (the component needs
// allowed_outbound_hosts = ["https://hooks.example.com"]).
func ExampleNewClient() {
	client := spinhttp.NewClient()
	redis.Handle(func(ctx context.Context, payload []byte) error {
		resp, err := client.Post("https://hooks.example.com/notify", "application/octet-stream", strings.NewReader(string(payload)))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("webhook: %s", resp.Status)
		}
		return nil
	})
}

// A destination that allowed_outbound_hosts does not list gives a
// DestinationNotAllowed error (wrapped in a *url.Error by the client).
func ExampleError() {
	fmt.Println(&spinhttp.Error{Kind: spinhttp.DestinationNotAllowed})
	// Output: outbound HTTP: destination-not-allowed (add the destination to allowed_outbound_hosts)
}
