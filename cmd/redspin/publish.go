package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/redisurl"
)

func (c *cli) publishCommand() *cobra.Command {
	var sf streamFlags
	var raw bool
	cmd := &cobra.Command{
		Use:   "publish [-a URL] (CHANNEL | --stream STREAM) [MESSAGE | @file | -]",
		Short: "Publish a test message to a Redis channel, or add it to a stream",
		Long: `publish sends one message. The message is the argument, the contents of @file,
or standard input when it is "-" or missing. One trailing newline is removed
from standard input (so that ` + "`echo hello | redspin publish ch`" + ` sends "hello"),
unless --raw is given; the argument and @file are sent exactly. Without -a it publishes where the
app in the current directory (or -f) listens, reading the app as up does (give
it the same --variable, SPIN_VARIABLE_* and --runtime-config-file): the address of the trigger that
subscribes CHANNEL, or, for triggers without an address, the URL the embedded
Redis of a running ` + "`redspin up --embedded-redis`" + ` wrote to .spin/redis-url.
It prints how many subscribers received the message, and warns when none did.

With --stream (or -c) it adds the message to a redis-stream trigger's stream
instead (XADD, as the trigger's ` + "`field`" + `), on the trigger's address; with -a
the app is not read and the field is --field, else "payload".`,
		Args: func(cmd *cobra.Command, args []string) error {
			check := cobra.RangeArgs(1, 2)
			if sf.stream != "" || sf.component != "" {
				check = cobra.MaximumNArgs(1)
			} else if sf.field != "" {
				return usageError{errors.New("--field needs --stream")}
			}
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if sf.stream != "" || sf.component != "" {
				payload, err := readMessage(c.stdin, args, raw)
				if err != nil {
					return err
				}
				return c.publishStream(cmd.Context(), &sf, payload)
			}
			payload, err := readMessage(c.stdin, args[1:], raw)
			if err != nil {
				return err
			}
			address := sf.address
			hint, display := "", ""
			if address == "" {
				address, display, hint, err = defaultAddress(cmd.Context(), sf.appSource.options(), args[0])
				if err != nil {
					return err
				}
			}
			u, err := redisurl.Parse(address)
			if err != nil {
				return usageError{fmt.Errorf("-a/--address: %w", err)}
			}
			display = cmp.Or(display, u.Display())
			n, err := publishTo(cmd.Context(), u, args[0], payload)
			if err != nil {
				if sf.address == "" {
					hint += dialHint(err)
				}
				return fmt.Errorf("publish to %s%s: %w", display, hint, err)
			}
			where := display + "/" + args[0]
			across := "" // a cluster's count is every node's (publishTo)
			if u.Topology == redisurl.Cluster {
				across = " across the cluster"
			}
			switch n {
			case 0:
				c.logger.Warn("published, but nobody is subscribed to the channel on that server: the message is lost", "to", where)
			case 1:
				fmt.Fprintf(c.stdout, "Published %d bytes to %s: 1 subscriber%s\n", len(payload), where, across)
			default:
				fmt.Fprintf(c.stdout, "Published %d bytes to %s: %d subscribers%s\n", len(payload), where, n, across)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&sf.address, "address", "a", "", "Redis URL, e.g. redis://localhost:6379")
	cmd.Flags().BoolVar(&raw, "raw", false, "send standard input exactly, keeping its trailing newline")
	sf.register(cmd, true)
	return cmd
}

// readMessage returns the message: the argument, @file's bytes, or standard
// input ("-" or no argument) without one trailing "\n" or "\r\n" unless raw.
func readMessage(stdin io.Reader, args []string, raw bool) ([]byte, error) {
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(stdin)
		if err != nil {
			return nil, fmt.Errorf("standard input: %w", err)
		}
		if !raw {
			if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
				b, _ = bytes.CutSuffix(t, []byte("\r"))
			}
		}
		return b, nil
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
// address of the trigger that subscribes channel, when it has one; else the
// embedded Redis URL a running `up` wrote; else the app's first address.
// display is the app's Display for it (which hides what secret variables
// supplied), "" for the embedded URL. hint says where an embedded URL came
// from, for errors.
func defaultAddress(ctx context.Context, opts app.Options, channel string) (address, display, hint string, err error) {
	opts.SkipComponents, opts.Embedded = true, true
	a, err := app.Load(ctx, opts)
	defer a.Close()
	if err != nil {
		return "", "", "", fmt.Errorf("no -a/--address given and the app's address is unknown: %w", err)
	}
	// An explicit server that subscribes the channel wins over the embedded
	// one (both may), which wins over any other explicit server.
	subscribed := false
	for _, s := range a.Servers {
		if !slices.ContainsFunc(s.Channels, func(c app.Channel) bool { return c.Name == channel }) {
			continue
		}
		if !s.Embedded {
			return s.Address, s.Display, "", nil
		}
		subscribed = true
	}
	if u, hint := embeddedURL(a); u != "" {
		return u, "", hint, nil
	}
	if !subscribed {
		for _, s := range a.Servers {
			if !s.Embedded {
				return s.Address, s.Display, "", nil
			}
		}
	}
	return "", "", "", errors.New("no -a/--address given, the app has no address for this channel, and no embedded Redis is running for it (start `redspin up --embedded-redis`)")
}

// dialHint is added to the error of a command that could not dial the
// address it read from the app: "" unless err is a failed dial.
func dialHint(err error) string {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return ""
	}
	return " (the address comes from the app: give the same -f, --variable, --runtime-config-file and SPIN_VARIABLE_* as `redspin up`, or the server's URL with -a/--address)"
}

// publishTo publishes payload once and returns how many subscribers
// received it. It tries to connect once: publish is a one-shot command.
//
// On a Redis Cluster, PUBLISH's reply counts only the subscribers of the
// node that took it (Redis forwards the message to every node, not their
// counts), so the count is instead the sum of PUBSUB NUMSUB over every node,
// primaries and replicas, taken right after the PUBLISH.
func publishTo(ctx context.Context, u *redisurl.URL, channel string, payload []byte) (int64, error) {
	opts := u.UniversalOptions()
	opts.MaxRetries = -1
	client := redisurl.NewClient(opts)
	defer client.Close()
	n, err := client.Publish(ctx, channel, payload).Result()
	cc, ok := client.(*redis.ClusterClient)
	if err != nil || !ok {
		return n, err
	}
	var mu sync.Mutex
	var total int64
	err = cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		m, err := c.PubSubNumSub(ctx, channel).Result()
		mu.Lock()
		total += m[channel]
		mu.Unlock()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("published, but counting the cluster's subscribers failed: %w", err)
	}
	return total, nil
}
