package wasmtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// TestLayout compiles a C program against the real Wasmtime headers in the
// wasmtime-go module and checks every sizeof/offsetof/_Alignof that
// binding.h's declarations report (glue.c's rs_layouts).
func TestLayout(t *testing.T) {
	gcc, include := cCompiler(t), wasmtimeInclude(t)
	ours := layouts()
	if len(ours) < 20 {
		t.Fatalf("binding reports only %d layout facts", len(ours))
	}
	names := make([]string, 0, len(ours))
	for n := range ours {
		names = append(names, n)
	}
	sort.Strings(names)
	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <stddef.h>\n#include <wasmtime.h>\nint main(void) {\n")
	for _, n := range names {
		fmt.Fprintf(&src, "  printf(\"%%zu\\n\", (size_t)(%s));\n", n)
	}
	src.WriteString("  return 0;\n}\n")
	dir := t.TempDir()
	cfile := filepath.Join(dir, "layout.c")
	bin := filepath.Join(dir, "layout")
	if err := os.WriteFile(cfile, []byte(src.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(gcc, "-std=c11", "-I", include, "-o", bin, cfile).CombinedOutput(); err != nil {
		t.Fatalf("compiling against the real headers: %v\n%s", err, out)
	}
	res, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(res))
	if len(lines) != len(names) {
		t.Fatalf("got %d values for %d expressions", len(lines), len(names))
	}
	for i, n := range names {
		want, _ := strconv.ParseUint(lines[i], 10, 64)
		if uint64(ours[n]) != want {
			t.Errorf("%s: binding.h says %d, wasmtime headers say %d", n, ours[n], want)
		}
	}
	if ours["sizeof(wasmtime_component_val_t)"] != 32 {
		t.Errorf("sizeof(wasmtime_component_val_t) = %d, want 32", ours["sizeof(wasmtime_component_val_t)"])
	}
}
