// Package diag holds the positioned error and warning types that the
// configuration loaders (manifest, runtime config) report, so a problem in
// any file a user wrote reads the same way:
//
//	spin.toml:12:3: component "x": unknown field `foo`, expected one of ...
package diag

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// Error is a problem at a place in a file. Its text is
// "file:line:col: key: cause", leaving out what is unknown.
type Error struct {
	// File is the path as the user gave it.
	File string
	// Line and Col are 1-based; 0 when unknown (Col is often 0 for semantic
	// errors, whose line is that of the key involved).
	Line, Col int
	// Key is the context, e.g. `component "x"` or `variables_provider[1].url`.
	Key string
	// Err is the cause; callers match it with errors.Is.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
			if e.Col > 0 {
				fmt.Fprintf(&b, ":%d", e.Col)
			}
		}
		b.WriteString(": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Warning is a non-fatal finding at a place in a file.
type Warning struct {
	// File is the path as the user gave it.
	File string
	// Line is the 1-based line of the key involved; 0 when unknown.
	Line int
	// Message describes the finding and, where possible, the fix.
	Message string
}

// String renders the warning as "file:line: message".
func (w Warning) String() string {
	if w.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", w.File, w.Line, w.Message)
	}
	if w.File != "" {
		return w.File + ": " + w.Message
	}
	return w.Message
}

// Lines finds the line and column of byte offsets in a file in O(log n)
// each, from a table of line starts built once. (go-toml's Parser.Shape
// scans from the start of the file on every call, which made indexing a
// file quadratic in its size.)
type Lines struct {
	starts []int // byte offset of each line's first byte; starts[0] == 0
}

// NewLines indexes the line starts of data.
func NewLines(data []byte) Lines {
	starts := make([]int, 1, 1+bytes.Count(data, []byte{'\n'}))
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	return Lines{starts: starts}
}

// Position returns the 1-based line and column (counted in bytes, as
// go-toml counts them) of offset. An offset past the end is placed on the
// last line.
func (l Lines) Position(offset int) (line, col int) {
	if len(l.starts) == 0 {
		return 1, offset + 1
	}
	line = sort.Search(len(l.starts), func(i int) bool { return l.starts[i] > offset })
	return line, offset - l.starts[line-1] + 1
}
