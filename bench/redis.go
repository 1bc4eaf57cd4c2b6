package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is a redis-server process the benchmark started on loopback.
type redisServer struct {
	cmd     *exec.Cmd
	Addr    string
	Version string
	done    chan struct{}
}

// freePort asks the kernel for an unused loopback TCP port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startRedis starts redis-server on a random loopback port with persistence
// off and waits until it answers PING.
func startRedis(ctx context.Context) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, errors.New("redis-server not found: install it (apt-get install -y redis-server)")
	}
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning",
			// The end-to-end runs publish up to ~1.3 GB of 64 KiB messages as
			// fast as Redis accepts them; with the default 32 MiB pub/sub
			// output-buffer limit, Redis drops redspin's subscription as soon
			// as its reader falls behind for a moment on a busy 2-core box.
			"--client-output-buffer-limit", "pubsub 2gb 2gb 0")
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return nil, fmt.Errorf("start redis-server: %w", err)
		}
		r := &redisServer{cmd: cmd, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan struct{})}
		go func() { cmd.Wait(); close(r.done) }()
		c := redis.NewClient(&redis.Options{Addr: r.Addr, MaxRetries: -1})
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			select {
			case <-r.done:
				deadline = time.Time{} // exited: port taken? retry with another
			default:
			}
			if deadline.IsZero() {
				break
			}
			if err := c.Ping(ctx).Err(); err == nil {
				info, _ := c.Info(ctx, "server").Result()
				for _, line := range strings.Split(info, "\n") {
					if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
						r.Version = v
					}
				}
				c.Close()
				return r, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		c.Close()
		r.Stop()
	}
	return nil, errors.New("redis-server did not start")
}

// Stop terminates the server by pid and waits for it.
func (r *redisServer) Stop() {
	if r == nil || r.cmd.Process == nil {
		return
	}
	select {
	case <-r.done:
		return
	default:
	}
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(3 * time.Second):
		r.cmd.Process.Kill()
		<-r.done
	}
}

// Client returns a go-redis client for the server.
func (r *redisServer) Client() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: r.Addr, PoolSize: 4})
}

// stopProcess ends a child process by pid: SIGTERM, then SIGKILL after grace.
func stopProcess(p *os.Process, done <-chan struct{}, grace time.Duration) {
	if p == nil {
		return
	}
	select {
	case <-done:
		return
	default:
	}
	p.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		p.Kill()
		<-done
	}
}
