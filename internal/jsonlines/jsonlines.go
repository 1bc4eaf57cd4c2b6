// Package jsonlines makes redspin's plain-text output JSON for --log-format json: every line written to
// a Writer becomes one JSON object with the keys of redspin's slog JSON logs, and a component's echoed
// output is wrapped line by line as {"time", "component", "stream", "line"}. docs/observability.md
// describes the schema.
package jsonlines

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
)

// allLevels lets every line through: the text lines are printed whatever --log-level says.
const allLevels = slog.Level(-100)

// Writer turns each line written to it into {"time": ..., "level": ..., "msg": ...}: a line starting
// with "Error: " is an ERROR, one starting with "Warning: " (any case) a WARN, with that prefix
// removed from msg; every other line is INFO. A partial line waits for its end (or Flush). Writer is
// safe for concurrent use.
type Writer struct {
	log *slog.Logger // one handler (and so one lock on out) for the Writer and its Component writers
	mu  sync.Mutex
	buf []byte
}

// Component lines are records at componentLevel with the message componentMsg: the handler leaves
// out both keys for them.
const (
	componentLevel = allLevels + 1
	componentMsg   = "\x00component"
)

// New returns a Writer that writes JSON lines to out.
func New(out io.Writer) *Writer {
	h := slog.NewJSONHandler(out, &slog.HandlerOptions{Level: allLevels,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			switch {
			case len(groups) > 0:
			case a.Key == slog.LevelKey && a.Value.Any() == componentLevel,
				a.Key == slog.MessageKey && a.Value.String() == componentMsg:
				return slog.Attr{}
			}
			return a
		}})
	return &Writer{log: slog.New(h)}
}

// Write implements io.Writer: it writes one JSON object per complete line of p.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) == 0 {
		w.buf = nil // do not keep a large backing array
	}
	return len(p), nil
}

// Flush writes an unterminated last line, if any.
func (w *Writer) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *Writer) line(s string) {
	s = strings.TrimSuffix(s, "\r")
	level := slog.LevelInfo
	switch {
	case strings.HasPrefix(s, "Error: "):
		level, s = slog.LevelError, s[len("Error: "):]
	case len(s) >= len("warning: ") && strings.EqualFold(s[:len("warning: ")], "warning: "):
		level, s = slog.LevelWarn, s[len("warning: "):]
	}
	w.log.Log(context.Background(), level, s)
}

// Component returns a writer for the echoed output of one component's stream ("stdout" or "stderr"),
// to w's output: each line of a Write becomes {"time": ..., "component": ..., "stream": ..., "line": ...};
// a Write that does not end in a newline ends a line too (the host writes whole lines, and cuts only
// over-long ones).
func (w *Writer) Component(component, stream string) io.Writer {
	return componentWriter{log: w.log.With("component", component, "stream", stream)}
}

type componentWriter struct{ log *slog.Logger }

func (c componentWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s := strings.TrimSuffix(string(p), "\n")
	for line := range strings.SplitSeq(s, "\n") {
		c.log.Log(context.Background(), componentLevel, componentMsg, "line", strings.TrimSuffix(line, "\r"))
	}
	return len(p), nil
}
