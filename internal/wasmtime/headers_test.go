package wasmtime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// wasmtimeInclude returns the include directory of the wasmtime-go module
// this package links (its headers are never copied into the repository).
func wasmtimeInclude(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/bytecodealliance/wasmtime-go/v39").Output()
	if err != nil {
		t.Fatalf("go list wasmtime-go: %v", err)
	}
	include := filepath.Join(strings.TrimSpace(string(out)), "build", "include")
	if _, err := os.Stat(filepath.Join(include, "wasmtime.h")); err != nil {
		t.Fatalf("wasmtime headers not found: %v", err)
	}
	return include
}

// cCompiler returns the C compiler cgo uses, or skips.
func cCompiler(t *testing.T) string {
	t.Helper()
	cc := "gcc"
	if out, err := exec.Command("go", "env", "CC").Output(); err == nil && strings.TrimSpace(string(out)) != "" {
		cc = strings.Fields(string(out))[0]
	}
	if _, err := exec.LookPath(cc); err != nil {
		t.Skipf("C compiler %q not found: cannot compile against the real headers", cc)
	}
	return cc
}

// copiedConstants are the Go constants of this package that mirror values
// of the upstream headers, as C expressions: the real name and ours.
func copiedConstants() [][2]string {
	var out [][2]string
	add := func(real string, ours any) { out = append(out, [2]string{real, fmt.Sprint(ours)}) }
	ckinds := []string{"BOOL", "S8", "U8", "S16", "U16", "S32", "U32", "S64", "U64", "F32", "F64", "CHAR",
		"STRING", "LIST", "RECORD", "TUPLE", "VARIANT", "ENUM", "OPTION", "RESULT", "FLAGS", "RESOURCE"}
	for i, k := range ckinds {
		add("WASMTIME_COMPONENT_"+k, uint8(CBool)+uint8(i))
	}
	if CResource != CKind(len(ckinds)-1) {
		panic("CKind constants and the list above differ")
	}
	for i, k := range []string{"I32", "I64", "F32", "F64"} {
		kind := []ValKind{KindI32, KindI64, KindF32, KindF64}[i]
		add("WASMTIME_"+k, uint8(kind))
		add("WASM_"+k, uint8(kind))
	}
	add("WASMTIME_COMPONENT_ITEM_COMPONENT_INSTANCE", itemComponentInstance)
	add("WASMTIME_COMPONENT_ITEM_COMPONENT_FUNC", itemComponentFunc)
	add("WASMTIME_COMPONENT_ITEM_RESOURCE", itemResource)
	traps := []string{"STACK_OVERFLOW", "MEMORY_OUT_OF_BOUNDS", "HEAP_MISALIGNED", "TABLE_OUT_OF_BOUNDS",
		"INDIRECT_CALL_TO_NULL", "BAD_SIGNATURE", "INTEGER_OVERFLOW", "INTEGER_DIVISION_BY_ZERO",
		"BAD_CONVERSION_TO_INTEGER", "UNREACHABLE_CODE_REACHED", "INTERRUPT", "ALWAYS_TRAP_ADAPTER", "OUT_OF_FUEL",
		"ATOMIC_WAIT_NON_SHARED_MEMORY", "NULL_REFERENCE", "ARRAY_OUT_OF_BOUNDS", "ALLOCATION_TOO_LARGE",
		"CAST_FAILURE", "CANNOT_ENTER_COMPONENT", "NO_ASYNC_RESULT", "DISABLED_OPCODE"}
	if len(traps) != len(trapTexts) {
		panic("trap codes and the list above differ")
	}
	for i, k := range traps {
		add("WASMTIME_TRAP_CODE_"+k, uint8(TrapStackOverflow)+uint8(i))
	}
	// binding.h's own copies.
	for real, ours := range map[string]string{
		"WASMTIME_COMPONENT_U8":             "RS_KIND_U8",
		"WASMTIME_COMPONENT_LIST":           "RS_KIND_LIST",
		"WASMTIME_COMPONENT_ENUM":           "RS_KIND_ENUM",
		"WASMTIME_COMPONENT_RESULT":         "RS_KIND_RESULT",
		"WASMTIME_UPDATE_DEADLINE_CONTINUE": "RS_UPDATE_DEADLINE_CONTINUE",
		"WASMTIME_EXTERN_FUNC":              "RS_EXTERN_FUNC",
		"WASMTIME_EXTERN_MEMORY":            "RS_EXTERN_MEMORY",
		"WASMTIME_WASI_DIR_PERMS_READ":      "RS_WASI_PERMS_READ",
		"WASMTIME_WASI_FILE_PERMS_READ":     "RS_WASI_PERMS_READ",
		"WASMTIME_WASI_DIR_PERMS_WRITE":     "RS_WASI_PERMS_WRITE",
		"WASMTIME_WASI_FILE_PERMS_WRITE":    "RS_WASI_PERMS_WRITE",
	} {
		add(real, ours)
	}
	return out
}

// headerCheckSource is a C file that includes the real wasmtime.h, then
// binding.h's prototypes and typedefs (a mismatch is a compile error), then
// extra, and asserts every copied constant.
func headerCheckSource(extra string) string {
	var b strings.Builder
	b.WriteString("#include <wasmtime.h>\n#define RS_AGAINST_REAL_HEADERS 1\n#include \"binding.h\"\n")
	b.WriteString(extra)
	for _, c := range copiedConstants() {
		fmt.Fprintf(&b, "_Static_assert((%s) == (%s), \"%s: binding copies %s\");\n", c[0], c[1], c[0], c[1])
	}
	return b.String()
}

// compileC compiles src (syntax and semantics only) with binding.h and the
// real headers on the include path; it returns the compiler's output.
func compileC(t *testing.T, cc, include, src string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	cfile := filepath.Join(dir, "check.c")
	if err := os.WriteFile(cfile, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	here, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(cc, "-std=c11", "-Werror", "-fsyntax-only", "-I", here, "-I", include, cfile).CombinedOutput()
	return string(out), err
}

// TestHeaders compiles binding.h's prototypes and typedefs together with
// Wasmtime's real headers, so that a prototype or typedef that differs from
// upstream is a compile error, and checks every copied constant with
// _Static_assert. It also checks that the check can fail: a wrong
// prototype and a wrong constant must not compile.
func TestHeaders(t *testing.T) {
	cc, include := cCompiler(t), wasmtimeInclude(t)
	if out, err := compileC(t, cc, include, headerCheckSource("")); err != nil {
		t.Fatalf("binding.h disagrees with Wasmtime's headers: %v\n%s", err, out)
	}
	for name, bad := range map[string]string{
		"prototype": "void wasmtime_store_delete(wasmtime_context_t *);\n",
		"typedef":   "typedef uint16_t wasmtime_valkind_t;\n",
		"constant":  "_Static_assert(WASMTIME_EXTERN_MEMORY == 2, \"wrong\");\n",
	} {
		if _, err := compileC(t, cc, include, headerCheckSource(bad)); err == nil {
			t.Errorf("a wrong %s compiled: the check cannot fail", name)
		}
	}
}
