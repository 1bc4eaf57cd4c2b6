package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/app"
	"github.com/redspin/redspin/internal/deadletter"
	"github.com/redspin/redspin/internal/redisurl"
)

// Defaults of a redis-stream trigger that the stream commands need when
// they do not read the app (with -a).
const (
	defaultStreamField = "payload"
	deadLetterSuffix   = ":dead"
	defaultListLimit   = 100
)

// streamFlags select a redis-stream trigger, from the app or from flags.
type streamFlags struct {
	appSource
	address, stream, component, field, deadLetter string
}

// register adds the selection flags and the app's (-f, --variable,
// --runtime-config-file). publish has its own -a (bound to the same field)
// and adds --field; the others add --dead-letter-stream.
func (f *streamFlags) register(cmd *cobra.Command, publish bool) {
	fl := cmd.Flags()
	f.appSource.register(fl, "the app whose addresses to use, read as `up` reads it (default: spin.toml, searching upward)")
	if !publish {
		fl.StringVarP(&f.address, "address", "a", "", "Redis URL (default: the selected trigger's address; with -a the app is not read)")
	}
	fl.StringVar(&f.stream, "stream", "", "the stream; selects the app's redis-stream trigger on it (required with -a)")
	fl.StringVarP(&f.component, "component", "c", "", "select the app's redis-stream trigger by its component")
	if publish {
		fl.StringVar(&f.field, "field", "", `with --stream: the entry field for the message (default: the trigger's `+"`field`"+`, else "payload")`)
	} else {
		fl.StringVar(&f.deadLetter, "dead-letter-stream", "", `the dead-letter stream (default: the trigger's, else "<stream>:dead")`)
	}
}

// streamTarget is a resolved trigger: where its stream lives and its keys.
type streamTarget struct {
	url                       *redisurl.URL
	stream, field, deadLetter string
	// hint says where the address came from, for errors (may be "").
	hint string
}

// resolve finds the target: from the flags alone with -a, else from the
// app's stream trigger that --stream and -c select. Flags override what
// the trigger says.
func (f *streamFlags) resolve(ctx context.Context) (streamTarget, error) {
	var t streamTarget
	address := f.address
	if address == "" {
		tr, err := selectStreamTrigger(ctx, f.appSource.options(), f.stream, f.component)
		if err != nil {
			return t, err
		}
		address, t.hint = tr.address, tr.hint
		t.stream, t.field, t.deadLetter = tr.stream, tr.field, tr.deadLetter
	} else {
		if f.component != "" {
			return t, usageError{errors.New("-c/--component selects a trigger in the app, which is not read with -a/--address: give --stream")}
		}
		if f.stream == "" {
			return t, usageError{errors.New("--stream is required with -a/--address")}
		}
		t.stream = f.stream
	}
	u, err := redisurl.Parse(address)
	if err != nil {
		if f.address != "" {
			return t, usageError{fmt.Errorf("-a/--address: %w", err)}
		}
		return t, err
	}
	t.url = u
	if f.field != "" {
		t.field = f.field
	}
	if t.field == "" {
		t.field = defaultStreamField
	}
	if f.deadLetter != "" {
		t.deadLetter = f.deadLetter
	}
	if t.deadLetter == "" {
		t.deadLetter = t.stream + deadLetterSuffix
	}
	return t, nil
}

// client connects to the target's server; it tries once: these are
// one-shot commands.
func (t streamTarget) client() redis.UniversalClient {
	opts := t.url.UniversalOptions()
	opts.MaxRetries = -1
	return redisurl.NewClient(opts)
}

// where names the server for messages.
func (t streamTarget) where() string { return t.url.Display() }

// publishStream adds payload to the target's stream as field t.field.
func (c *cli) publishStream(ctx context.Context, f *streamFlags, payload []byte) error {
	t, err := f.resolve(ctx)
	if err != nil {
		return err
	}
	rc := t.client()
	defer rc.Close()
	values, traced, err := c.traceAdd(ctx, t.stream, t.where(), []any{t.field, payload})
	if err != nil {
		return usageError{err}
	}
	id, err := rc.XAdd(ctx, &redis.XAddArgs{Stream: t.stream, Values: values}).Result()
	traced(err)
	if err != nil {
		if f.address == "" {
			t.hint += dialHint(err)
		}
		return fmt.Errorf("XADD to stream %s on %s%s: %w", t.stream, t.where(), t.hint, err)
	}
	fmt.Fprintf(c.stdout, "Added %d bytes to %s/%s as entry %s (field %q)\n", len(payload), t.where(), t.stream, id, t.field)
	return nil
}

func (c *cli) deadLettersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dead-letters",
		Short: "List, replay or purge a redis-stream trigger's dead-letter stream",
		Long: `dead-letters works on the dead-letter stream of one [[trigger.redis-stream]]:
the entries that failed max_deliveries times, or that their handler sent there.
The trigger is the app's only stream trigger, or the one that --stream or -c
selects; with -a the app is not read and --stream names the source stream
(the dead-letter stream is then "<stream>:dead" unless --dead-letter-stream).`,
	}
	cmd.AddCommand(c.deadLettersList(), c.deadLettersReplay(), c.deadLettersPurge())
	return cmd
}

func (c *cli) deadLettersList() *cobra.Command {
	var f streamFlags
	var limit int
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List dead-lettered entries: ID, source entry ID, delivery count, time and error",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := f.resolve(cmd.Context())
			if err != nil {
				return err
			}
			rc := t.client()
			defer rc.Close()
			ctx := cmd.Context()
			entries, err := deadletter.List(ctx, rc, t.deadLetter, limit)
			if err != nil {
				return fmt.Errorf("on %s%s: %w", t.where(), t.hint, err)
			}
			total := int64(len(entries))
			if limit > 0 && len(entries) == limit {
				if total, err = deadletter.Len(ctx, rc, t.deadLetter); err != nil {
					return err
				}
			}
			c.printDeadLetters(t, entries, total)
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().IntVarP(&limit, "limit", "n", defaultListLimit, "list at most this many entries, oldest first (0 = all)")
	return cmd
}

func (c *cli) printDeadLetters(t streamTarget, entries []deadletter.Entry, total int64) {
	if len(entries) == 0 {
		fmt.Fprintf(c.stdout, "No dead letters in %s/%s\n", t.where(), t.deadLetter)
		return
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSOURCE ID\tDELIVERIES\tDEAD-LETTERED\tERROR")
	for _, e := range entries {
		when := "-"
		if !e.Time.IsZero() {
			when = e.Time.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", e.ID, orDash(e.SourceID), e.Deliveries, when, oneLine(e.Error))
	}
	tw.Flush()
	if total > int64(len(entries)) {
		fmt.Fprintf(c.stdout, "%d of %d entries in %s/%s (-n 0 lists all)\n", len(entries), total, t.where(), t.deadLetter)
	} else {
		fmt.Fprintf(c.stdout, "%d entries in %s/%s\n", len(entries), t.where(), t.deadLetter)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps a table row on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r", `\r`, "\n", `\n`, "\t", " ").Replace(s)
}

// idsOrAll checks the ID arguments against --all.
func idsOrAll(ids []string, all bool) error {
	switch {
	case all && len(ids) > 0:
		return usageError{errors.New("give entry IDs or --all, not both")}
	case !all && len(ids) == 0:
		return usageError{errors.New("give the dead-letter entry IDs (see `redspin dead-letters list`) or --all")}
	}
	return nil
}

// idsCommand builds replay and purge: entry IDs or --all, the selected
// trigger, and act with a client connected to its server.
func (c *cli) idsCommand(use, short, long, allHelp string,
	act func(ctx context.Context, rc redis.UniversalClient, t streamTarget, ids []string, all bool) error) *cobra.Command {
	var f streamFlags
	var all bool
	cmd := &cobra.Command{
		Use: use, Short: short, Long: long,
		RunE: func(cmd *cobra.Command, ids []string) error {
			if err := idsOrAll(ids, all); err != nil {
				return err
			}
			t, err := f.resolve(cmd.Context())
			if err != nil {
				return err
			}
			rc := t.client()
			defer rc.Close()
			if err := act(cmd.Context(), rc, t, ids, all); err != nil {
				return fmt.Errorf("on %s%s: %w", t.where(), t.hint, err)
			}
			return nil
		},
	}
	f.register(cmd, false)
	cmd.Flags().BoolVar(&all, "all", false, allHelp)
	return cmd
}

func (c *cli) deadLettersReplay() *cobra.Command {
	return c.idsCommand("replay [ID...] [--all]",
		"Add dead-lettered entries back to the source stream, then remove them from the dead-letter stream",
		`replay adds each selected entry to the trigger's stream again with its original
fields (without the redspin.* fields) and a new ID, and removes it from the
dead-letter stream only after that succeeded. --all replays the entries present
when it starts.`, "replay every entry",
		func(ctx context.Context, rc redis.UniversalClient, t streamTarget, ids []string, all bool) error {
			done, err := deadletter.Replay(ctx, rc, deadletter.Streams{Dead: t.deadLetter, Source: t.stream}, ids, all)
			for _, r := range done {
				fmt.Fprintf(c.stdout, "Replayed %s as %s\n", r.DeadID, r.NewID)
			}
			fmt.Fprintf(c.stdout, "Replayed %d entries from %s to %s on %s\n", len(done), t.deadLetter, t.stream, t.where())
			return err
		})
}

func (c *cli) deadLettersPurge() *cobra.Command {
	return c.idsCommand("purge [ID...] [--all]", "Delete dead-lettered entries for good",
		`purge deletes the selected entries, or with --all every entry present when it starts.`, "purge every entry",
		func(ctx context.Context, rc redis.UniversalClient, t streamTarget, ids []string, all bool) error {
			n, err := deadletter.Purge(ctx, rc, t.deadLetter, ids, all)
			fmt.Fprintf(c.stdout, "Purged %d entries from %s on %s\n", n, t.deadLetter, t.where())
			return err
		})
}

// appStream is what the stream commands need of an app's
// redis-stream trigger, with templates resolved.
type appStream struct {
	component, address, stream, field, deadLetter string
	// hint says where the address came from (e.g. the embedded Redis URL file).
	hint string
	// noAddress, when set, is why the trigger has no address to use.
	noAddress string
}

// selectStreamTrigger loads the app and returns its redis-stream trigger
// on stream and/or for component ("" = any); the app's only stream trigger
// when both are empty.
func selectStreamTrigger(ctx context.Context, opts app.Options, stream, component string) (appStream, error) {
	all, err := appStreamTriggers(ctx, opts)
	if err != nil {
		return appStream{}, fmt.Errorf("no -a/--address given and the app's stream triggers are unknown: %w", err)
	}
	var match []appStream
	for _, t := range all {
		if (stream == "" || t.stream == stream) && (component == "" || t.component == component) {
			match = append(match, t)
		}
	}
	describe := func(ts []appStream) string {
		var b []string
		for _, t := range ts {
			b = append(b, fmt.Sprintf("stream %q (component %q)", t.stream, t.component))
		}
		return strings.Join(b, ", ")
	}
	switch {
	case len(all) == 0:
		return appStream{}, errors.New("the app has no [[trigger.redis-stream]]: give -a/--address and --stream")
	case len(match) == 1 && match[0].noAddress != "":
		return appStream{}, fmt.Errorf("stream %q: %s", match[0].stream, match[0].noAddress)
	case len(match) == 1:
		return match[0], nil
	case len(match) == 0:
		return appStream{}, usageError{fmt.Errorf("no redis-stream trigger in the app matches %s; the app has: %s", selection(stream, component), describe(all))}
	}
	return appStream{}, usageError{fmt.Errorf("%d redis-stream triggers match %s: %s; choose one with --stream and -c", len(match), selection(stream, component), describe(match))}
}

func selection(stream, component string) string {
	var s []string
	if stream != "" {
		s = append(s, "--stream "+stream)
	}
	if component != "" {
		s = append(s, "-c "+component)
	}
	if len(s) == 0 {
		return "no selection"
	}
	return strings.Join(s, " ")
}
