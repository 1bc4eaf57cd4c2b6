package redistopo

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// Node is one redis-server (data node or sentinel) on 127.0.0.1.
type Node struct {
	// Port is the TCP port on 127.0.0.1.
	Port int
	// Dir is the node's private working directory.
	Dir string

	bin  string
	args []string // without the port
	cmd  *exec.Cmd
	exit chan struct{}
}

// Addr is "127.0.0.1:port".
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.Port)) }

// Client returns a plain client for this node only; the caller closes it.
func (n *Node) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2, MaxRetries: -1, DialTimeout: time.Second})
}

// Pid is the process id, 0 when not running.
func (n *Node) Pid() int {
	if n.cmd == nil {
		return 0
	}
	return n.cmd.Process.Pid
}

// Kill stops the node at once (SIGKILL by pid) and waits for it to exit.
func (n *Node) Kill() {
	if n.cmd == nil {
		return
	}
	_ = n.cmd.Process.Kill()
	<-n.exit
	n.cmd = nil
}

// startNode starts redis-server with args (a config file first, if any)
// on a free port in a new directory under parent, retrying on port races.
func startNode(bin, parent, name string, args ...string) (*Node, error) {
	dir := filepath.Join(parent, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	n := &Node{Dir: dir, bin: bin, args: args}
	var err error
	for range 5 {
		if n.Port, err = redisserver.FreePort(); err != nil {
			return nil, err
		}
		if err = n.start(); err == nil {
			return n, nil
		}
	}
	return nil, fmt.Errorf("%s: %w", name, err)
}

// start launches the process and waits until it answers as itself.
func (n *Node) start() error {
	args := append([]string{}, n.args...)
	args = append(args, "--port", strconv.Itoa(n.Port), "--bind", "127.0.0.1", "--dir", n.Dir,
		"--logfile", filepath.Join(n.Dir, "redis.log"), "--daemonize", "no")
	cmd := exec.Command(n.bin, args...)
	cmd.Dir = n.Dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", n.bin, err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	n.cmd, n.exit = cmd, exit
	c := n.Client()
	defer c.Close()
	err := redisserver.WaitAnswers(c, cmd.Process.Pid, exit, 10*time.Second)
	switch {
	case errors.Is(err, redisserver.ErrExited):
		log, _ := os.ReadFile(filepath.Join(n.Dir, "redis.log"))
		n.cmd = nil
		return fmt.Errorf("exited at startup: %s%s", out.String(), log)
	case err != nil:
		n.Kill()
		return fmt.Errorf("did not answer within 10s: %w", err)
	}
	return nil
}

// poll calls cond every 20 ms until it returns nil or a stopPolling, or
// timeout passes, and returns its last error.
func poll(timeout time.Duration, cond func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := cond()
		var stop stopPolling
		if err == nil || errors.As(err, &stop) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stopPolling ends a poll at once with err.
type stopPolling struct{ err error }

func (b stopPolling) Error() string { return b.err.Error() }
