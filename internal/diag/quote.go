package diag

import (
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// MaxQuoted is how many bytes of a value [Quote] shows before it cuts it.
const MaxQuoted = 200

// Quote returns s Go-quoted for a message: control bytes (NUL included) and
// invalid UTF-8 are escaped, as strconv.Quote does, and a value longer than
// MaxQuoted bytes is cut there (on a rune boundary) and followed by
// "... (N bytes)", N being its full length. Every error and warning that
// quotes a value a user wrote goes through Quote, so a 3 MB default cannot
// make a 3 MB log line.
func Quote(s string) string {
	if len(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	cut := MaxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "... (" + strconv.Itoa(len(s)) + " bytes)"
}

// Errorf is fmt.Errorf with every string argument printed by %q through
// [Quote]. Other verbs and argument types are formatted as fmt does.
func Errorf(format string, args ...any) error {
	return fmt.Errorf(format, quoteArgs(args)...)
}

// Sprintf is fmt.Sprintf with every string argument printed by %q through
// [Quote], for warnings.
func Sprintf(format string, args ...any) string {
	return fmt.Sprintf(format, quoteArgs(args)...)
}

func quoteArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			a = quoted(s)
		}
		out[i] = a
	}
	return out
}

// quoted formats as its string, except that %q goes through Quote.
type quoted string

// Format implements fmt.Formatter.
func (q quoted) Format(f fmt.State, verb rune) {
	if verb == 'q' {
		_, _ = io.WriteString(f, Quote(string(q)))
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), string(q))
}
