package host

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// sink is one output stream (stdout or stderr) of one component: a log
// file and/or an echo writer, written line by line under a lock.
type sink struct {
	mu   sync.Mutex
	file *os.File  // nil: no log file
	echo io.Writer // nil: no echo
}

func (s *sink) write(b []byte) {
	if len(b) == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.file != nil {
		s.file.Write(b)
	}
	if s.echo != nil {
		s.echo.Write(b)
	}
}

func (s *sink) enabled() bool { return s.file != nil || s.echo != nil }

func (s *sink) close() error {
	if s.file != nil {
		err := s.file.Close()
		s.file = nil
		return err
	}
	return nil
}

// maxPartialLine bounds a buffered unterminated line; longer output is
// written as is (the line stays open).
const maxPartialLine = 64 << 10

// lineWriter buffers one message's output on one stream and passes only
// complete lines to its sink, so that lines of concurrent messages never
// interleave. End closes the message's output: see EndMessage.
type lineWriter struct {
	sink *sink
	buf  []byte
	// open records that a line longer than maxPartialLine was passed on
	// without its end.
	open bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	if i := lastNewline(p); i >= 0 {
		if len(w.buf) > 0 {
			w.buf = append(w.buf, p[:i+1]...)
			w.sink.write(w.buf)
			w.buf = w.buf[:0]
		} else {
			w.sink.write(p[:i+1])
		}
		w.open = false
		p = p[i+1:]
	}
	w.buf = append(w.buf, p...)
	if len(w.buf) > maxPartialLine {
		w.sink.write(w.buf)
		w.buf = w.buf[:0]
		w.open = true
	}
	return n, nil
}

func lastNewline(p []byte) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '\n' {
			return i
		}
	}
	return -1
}

// EndMessage ends the message's output at a line boundary: an unfinished
// last line is written with a '\n' added. This is the rule for where one
// message's output ends (doc.go, "Output"): whatever way the message ended
// (returned, trapped, timed out), the next message's output starts on a
// new line. Call it once the guest can no longer write.
func (w *lineWriter) EndMessage() {
	if len(w.buf) > 0 {
		w.buf = append(w.buf, '\n')
		w.sink.write(w.buf)
		w.buf = w.buf[:0]
	} else if w.open {
		w.sink.write([]byte{'\n'})
	}
	w.open = false
}

// sanitizeID makes a component ID safe as a file name (as Spin does, IDs
// are already kebab-case; anything else becomes '_').
func sanitizeID(id string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, id)
}

// openSinks opens the stdout and stderr sinks of component id.
func openSinks(opts *Options, id string) (stdout, stderr *sink, err error) {
	follow := opts.Follow == nil || opts.Follow(id)
	echo := func(stream string) io.Writer {
		if opts.Echo != nil {
			return opts.Echo(id, stream)
		}
		return opts.Stderr
	}
	stdout, stderr = &sink{}, &sink{}
	if opts.LogDir == "" {
		// Without a log dir, followed components echo to Stderr and the
		// output of the others goes nowhere: their streams stay unset and
		// Wasmtime discards what the guest writes, which makes a message
		// several times cheaper (a stream costs a hand-off to one of
		// Wasmtime's threads per write). Spin echoes every component when
		// there is no log dir, whatever --quiet says; redspin up -q -L ""
		// discards guest output instead (a deliberate difference).
		if follow {
			stdout.echo, stderr.echo = echo("stdout"), echo("stderr")
		}
		return stdout, stderr, nil
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return nil, nil, err
	}
	for _, s := range []struct {
		sink           *sink
		stream, suffix string
	}{{stdout, "stdout", "_stdout.txt"}, {stderr, "stderr", "_stderr.txt"}} {
		f, err := os.OpenFile(filepath.Join(opts.LogDir, sanitizeID(id)+s.suffix), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			stdout.close()
			return nil, nil, err
		}
		s.sink.file = f
		if follow {
			s.sink.echo = echo(s.stream)
		}
	}
	return stdout, stderr, nil
}
