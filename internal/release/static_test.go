package release

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/ociregistry"
	"github.com/redspin/redspin/internal/testutil/syncbuf"
)

// staticBin returns the binary under test, or skips.
func staticBin(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("REDSPIN_STATIC_BIN")
	if bin == "" {
		t.Skip("REDSPIN_STATIC_BIN is not set; scripts/check-static.sh builds the release binary and sets it")
	}
	return bin
}

func TestStaticLinkage(t *testing.T) {
	bin := staticBin(t)
	out, err := exec.Command("file", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("file: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "statically linked") {
		t.Errorf("file does not say static: %s", out)
	}
	out, _ = exec.Command("ldd", bin).CombinedOutput() // exits 1 for static binaries
	if !strings.Contains(string(out), "not a dynamic executable") && !strings.Contains(string(out), "statically linked") {
		t.Errorf("ldd does not say static: %s", out)
	}
	out, err = exec.Command("go", "version", "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v: %s", err, out)
	}
	for _, want := range []string{"-tags=netgo,osusergo", "CGO_ENABLED=1"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("build info lacks %q:\n%s", want, out)
		}
	}
	out, err = exec.Command("env", "-i", bin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wasmtime: 39.") {
		t.Errorf("version: %v: %s", err, out)
	}
}

// proc is the binary running with an empty environment, as under `env -i`
// (and under strace when installed).
type proc struct {
	cmd        *exec.Cmd
	out        syncbuf.Buffer
	straceFile string
	done       chan error
}

func (p *proc) output() string { return p.out.String() }

// start runs bin with args, an empty environment and dir as working dir.
func start(t *testing.T, dir, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{done: make(chan error, 1)}
	argv := append([]string{bin}, args...)
	if s, err := exec.LookPath("strace"); err == nil {
		p.straceFile = filepath.Join(t.TempDir(), "strace.txt")
		argv = append([]string{s, "-f", "-qq", "-e", "trace=open,openat", "-o", p.straceFile}, argv...)
	}
	p.cmd = exec.Command(argv[0], argv[1:]...)
	p.cmd.Dir = dir
	p.cmd.Env = []string{} // env -i
	p.cmd.Stdout, p.cmd.Stderr = &p.out, &p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL) // the group: strace and redspin
		<-p.done
	})
	return p
}

// run runs the binary to completion.
func run(t *testing.T, dir, bin string, args ...string) string {
	t.Helper()
	p := start(t, dir, bin, args...)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, p.output())
		}
	case <-time.After(2 * time.Minute):
		t.Fatalf("%v did not finish", args)
	}
	p.checkNoSharedLibraries(t)
	return p.output()
}

func (p *proc) waitFor(t *testing.T, what string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !strings.Contains(p.output(), what) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %q:\n%s", what, p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// pid is redspin's process ID: under strace, the first traced process.
func (p *proc) pid(t *testing.T) int {
	t.Helper()
	if p.straceFile == "" {
		return p.cmd.Process.Pid
	}
	b, err := os.ReadFile(p.straceFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(b), &pid); err != nil {
		t.Fatalf("no pid in the strace output: %v", err)
	}
	return pid
}

// stop sends SIGTERM to redspin and wants exit 0.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	if err := syscall.Kill(p.pid(t), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, p.output())
		}
	case <-time.After(time.Minute):
		t.Fatalf("no exit within a minute of SIGTERM:\n%s", p.output())
	}
	p.checkNoSharedLibraries(t)
}

// checkNoSharedLibraries fails when strace saw a shared library (an NSS
// module, ld.so) being opened: the glibc functions that need them were
// reached.
func (p *proc) checkNoSharedLibraries(t *testing.T) {
	t.Helper()
	if p.straceFile == "" {
		t.Log("strace is not installed: shared library loads are not checked")
		return
	}
	b, err := os.ReadFile(p.straceFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.Contains(line, ".so") && !strings.Contains(line, "ENOENT") || strings.Contains(line, "libnss") {
			t.Errorf("a shared library was opened: %s", line)
		}
	}
}

func copyExample(t *testing.T, name, extra string) string {
	t.Helper()
	src := filepath.Join("..", "..", "examples", name)
	dst := t.TempDir()
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() == "spin.toml" {
			b = append(b, extra...)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// TestStaticEmbeddedRedis is the README quick start with an empty environment.
func TestStaticEmbeddedRedis(t *testing.T) {
	bin := staticBin(t)
	dir := copyExample(t, "hello-redis", "")
	began := time.Now()
	p := start(t, dir, bin, "up", "--embedded-redis", "--publish", "messages=hello")
	p.waitFor(t, "Got message: hello")
	t.Logf("env -i redspin up --embedded-redis: first message handled %v after start (uncached compile)", time.Since(began).Round(time.Millisecond))
	p.stop(t)
}

// TestStaticHostNamesAndRegistry pushes to and runs from a registry named
// by host name, with Redis named by host name too: the pure-Go resolver
// must serve both, with no glibc NSS.
func TestStaticHostNamesAndRegistry(t *testing.T) {
	bin := staticBin(t)
	mr := miniredis.RunT(t)
	reg := ociregistry.Start(t, ociregistry.Options{})
	_, regPort, _ := strings.Cut(reg.Host, ":")
	ref := "localhost:" + regPort + "/apps/hello:v1"
	dir := copyExample(t, "hello-redis", fmt.Sprintf("\n[application.trigger.redis]\naddress = \"redis://localhost:%s\"\n", mr.Port()))
	work := t.TempDir()
	out := run(t, work, bin, "registry", "push", ref, "-f", dir, "--cache-dir", filepath.Join(work, "push-cache"))
	if !strings.Contains(out, "Pushed with digest sha256:") {
		t.Fatalf("push: %s", out)
	}
	began := time.Now()
	p := start(t, work, bin, "up", "-f", ref, "--cache-dir", filepath.Join(work, "cache"))
	client := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	defer client.Close()
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		n, err := client.PubSubNumSub(ctx, "messages").Result()
		if err == nil && n["messages"] > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no subscriber on localhost:%s:\n%s", mr.Port(), p.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("env -i redspin up -f <ref>: subscribed %v after start (pull + uncached compile)", time.Since(began).Round(time.Millisecond))
	if err := client.Publish(ctx, "messages", "by name").Err(); err != nil {
		t.Fatal(err)
	}
	p.waitFor(t, "Got message: by name")
	p.stop(t)
}
