package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/embedredis"
	"github.com/redspin/redspin/internal/redisurl"
)

func (c *cli) publishCommand() *cobra.Command {
	var address, from string
	cmd := &cobra.Command{
		Use:   "publish [-a URL] CHANNEL [MESSAGE | @file | -]",
		Short: "Publish a test message to a Redis channel",
		Long: `publish sends one message. The message is the argument, the contents of @file,
or standard input when it is "-" or missing. Without -a it uses the address of
the app in the current directory (or -f), or the URL the embedded Redis of a
running ` + "`redspin up --embedded-redis`" + ` wrote to .spin/redis-url.`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			payload, err := readMessage(c.stdin, args[1:])
			if err != nil {
				return err
			}
			if address == "" {
				address, err = defaultAddress(cmd.Context(), from, args[0])
				if err != nil {
					return err
				}
			}
			u, err := redisurl.Parse(address)
			if err != nil {
				return usageError{fmt.Errorf("-a/--address: %w", err)}
			}
			if err := publishTo(cmd.Context(), u.Options(), args[0], payload); err != nil {
				return fmt.Errorf("publish to %s: %w", u.Display(), err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&address, "address", "a", "", "Redis URL, e.g. redis://localhost:6379")
	cmd.Flags().StringVarP(&from, "from", "f", "", "the app whose address to use (default: spin.toml, searching upward)")
	return cmd
}

func readMessage(stdin io.Reader, args []string) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		return io.ReadAll(stdin)
	}
	if name, ok := strings.CutPrefix(args[0], "@"); ok {
		b, err := os.ReadFile(name)
		if err != nil {
			return nil, fmt.Errorf("message file: %w", err)
		}
		return b, nil
	}
	return []byte(args[0]), nil
}

// defaultAddress finds the address to publish to when -a is not given: the
// embedded Redis URL a running `up` wrote, else the server that subscribes
// channel (the app's first server when none does).
func defaultAddress(ctx context.Context, from, channel string) (string, error) {
	a, err := app.Load(ctx, app.Options{From: from, SkipComponents: true, EmbeddedRedisURL: "redis://embedded.invalid:6379"})
	defer a.Close()
	if a != nil && a.StateDir != "" {
		if u, err := embedredis.ReadURL(a.StateDir); err == nil {
			return u, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("no -a/--address given and the app's address is unknown: %w", err)
	}
	srv, ok := a.ServerFor(channel)
	if !ok && len(a.Servers) > 0 {
		srv = a.Servers[0]
	}
	if srv.URL == nil || srv.URL.Host == "embedded.invalid" {
		return "", errors.New("no -a/--address given, the app has no address, and no embedded Redis is running for it (start `redspin up --embedded-redis`)")
	}
	return srv.Address, nil
}

func publishTo(ctx context.Context, opts *redis.Options, channel string, payload []byte) error {
	client := redis.NewClient(opts)
	defer client.Close()
	return client.Publish(ctx, channel, payload).Err()
}
