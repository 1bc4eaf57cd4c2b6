package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/redspin/redspin/internal/jsonlines"
)

// Exit codes of the redspin command.
const (
	exitOK      = 0
	exitFailure = 1 // a failed start, an invalid app, or a runtime failure
	exitUsage   = 2 // bad flags or arguments
)

// usageError marks errors in how the command was called.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// cli holds what every subcommand shares: the streams and the logger built
// from the global flags.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	logLevel       string
	logFormat      string
	logger         *slog.Logger
	// getenv reads the environment (os.Getenv; the only place redspin reads OTEL_* variables).
	getenv func(string) string
	// jsonOut and jsonErr wrap stdout and stderr with --log-format json (nil otherwise).
	jsonOut, jsonErr *jsonlines.Writer
}

// useJSON makes every line written to c.stdout and c.stderr a JSON object (--log-format json); the
// logger keeps writing its own JSON to the real stderr.
func (c *cli) useJSON() {
	if c.jsonErr != nil {
		return
	}
	c.jsonOut, c.jsonErr = jsonlines.New(c.stdout), jsonlines.New(c.stderr)
	c.stdout, c.stderr = c.jsonOut, c.jsonErr
}

// wantsJSON reports whether args ask for --log-format json: for the error of a command line whose
// parsing stopped before that flag.
func wantsJSON(args []string) bool {
	for i, a := range args {
		switch {
		case a == "--":
			return false
		case a == "--log-format=json", a == "--log-format" && i+1 < len(args) && args[i+1] == "json":
			return true
		}
	}
	return false
}

// componentEcho is the host's Options.Echo: with --log-format json, a component's echoed output is
// wrapped as {"component", "stream", "line"} objects; nil (plain lines to stderr) otherwise.
func (c *cli) componentEcho() func(id, stream string) io.Writer {
	if c.jsonErr == nil {
		return nil
	}
	return c.jsonErr.Component
}

// run is main without the process: it parses args, runs one command and
// returns the exit code. Tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr, getenv: os.Getenv}
	root := &cobra.Command{
		Use:   "redspin",
		Short: "Run Spin applications triggered by Redis pub/sub messages",
		Long: `redspin runs Spin applications whose components are triggered by Redis pub/sub
messages: it reads spin.toml, subscribes to every [[trigger.redis]] channel and
runs each message through the components, as Spin's Redis trigger does.`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			l, err := newLogger(c.stderr, c.logLevel, c.logFormat)
			if err != nil {
				return usageError{err}
			}
			c.logger = l
			if c.logFormat == "json" {
				c.useJSON()
			}
			return nil
		},
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.PersistentFlags().StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	root.PersistentFlags().StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(c.upCommand(), c.checkCommand(), c.publishCommand(), c.deadLettersCommand())
	root.AddCommand(c.registryCommand(), c.versionCommand(), c.newCommand(), c.buildCommand())

	err := root.ExecuteContext(ctx)
	if c.logFormat == "json" || err != nil && wantsJSON(args) {
		c.useJSON() // also when parsing the flags failed before PersistentPreRunE
		defer c.jsonOut.Flush()
		defer c.jsonErr.Flush()
	}
	if err == nil {
		return exitOK
	}
	var ce exitCodeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintf(c.stderr, "Error: %v\n", ce.err)
		}
		return ce.code
	}
	fmt.Fprintf(c.stderr, "Error: %v\n", err)
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitUsage
	}
	return exitFailure
}

// version describes this build on one line (see readBuildInfo).
func version() string { return readBuildInfo().short() }

// exitCodeError carries an explicit exit code; err may be nil when the
// command already reported what happened.
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return traceLogs(slog.NewTextHandler(w, opts)), nil
	case "json":
		return traceLogs(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}
