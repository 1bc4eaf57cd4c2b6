package jsonlines

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// decode parses every line of out as one JSON object.
func decode(t *testing.T, out string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for line := range strings.SplitSeq(strings.TrimSuffix(out, "\n"), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %q is not one JSON object: %v", line, err)
		}
		if ts, ok := m["time"].(string); !ok {
			t.Errorf("line %q: no time", line)
		} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
			t.Errorf("line %q: time: %v", line, err)
		}
		delete(m, "time")
		objs = append(objs, m)
	}
	return objs
}

func TestLinesAndLevels(t *testing.T) {
	var out bytes.Buffer
	w := New(&out)
	fmt.Fprintf(w, "Active Channels on 127.0.0.1:6379:\n\torders: [checkout]\n")
	fmt.Fprintf(w, "Warning: component \"x\" has no build\nwarning: go is not on PATH\n")
	fmt.Fprintf(w, "Error: ")
	fmt.Fprintf(w, "spin.toml: \"q\" <html>\r\n")
	fmt.Fprintf(w, "no newline")
	w.Flush()
	w.Flush() // nothing left
	got := decode(t, out.String())
	want := []map[string]any{
		{"level": "INFO", "msg": "Active Channels on 127.0.0.1:6379:"},
		{"level": "INFO", "msg": "\torders: [checkout]"},
		{"level": "WARN", "msg": `component "x" has no build`},
		{"level": "WARN", "msg": "go is not on PATH"},
		{"level": "ERROR", "msg": `spin.toml: "q" <html>`},
		{"level": "INFO", "msg": "no newline"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d objects, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if fmt.Sprint(got[i]) != fmt.Sprint(want[i]) {
			t.Errorf("object %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestComponentOutput(t *testing.T) {
	var out bytes.Buffer
	w := New(&out)
	c := w.Component("checkout", "stdout")
	c.Write([]byte("one\ntwo\n"))
	c.Write([]byte("\n"))
	c.Write([]byte(strings.Repeat("x", 10))) // an over-long line the host cut
	c.Write(nil)
	fmt.Fprintln(w, "between")
	w.Component("checkout", "stderr").Write([]byte("oops\r\n"))
	got := decode(t, out.String())
	want := []string{
		"map[component:checkout line:one stream:stdout]",
		"map[component:checkout line:two stream:stdout]",
		"map[component:checkout line: stream:stdout]",
		"map[component:checkout line:xxxxxxxxxx stream:stdout]",
		"map[level:INFO msg:between]",
		"map[component:checkout line:oops stream:stderr]",
	}
	if len(got) != len(want) {
		t.Fatalf("got %d objects, want %d:\n%s", len(got), len(want), out.String())
	}
	for i := range want {
		if fmt.Sprint(got[i]) != want[i] {
			t.Errorf("object %d = %v, want %s", i, got[i], want[i])
		}
	}
}

// TestConcurrentWriters: lines written at once by many goroutines, to the Writer and to component
// writers sharing its output, stay whole objects.
func TestConcurrentWriters(t *testing.T) {
	var out bytes.Buffer
	w := New(&out)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			c := w.Component(fmt.Sprint("c", g), "stdout")
			for i := range 50 {
				fmt.Fprintf(w, "line %d of %d\n", i, g)
				fmt.Fprintf(c, "out %d\n", i)
			}
		})
	}
	wg.Wait()
	if got := len(decode(t, out.String())); got != 8*50*2 {
		t.Fatalf("%d objects, want %d", got, 8*50*2)
	}
}
