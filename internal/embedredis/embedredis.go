package embedredis

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// DefaultAddr is tried first; a free loopback port is used when it is taken.
const DefaultAddr = "127.0.0.1:6379"

// URLFile is the name, inside the state directory, of the file holding the
// embedded server's URL.
const URLFile = "redis-url"

// Server is a running embedded Redis.
type Server struct {
	mr      *miniredis.Miniredis
	url     string
	urlFile string // "" when no state directory was given
}

// Start starts miniredis on DefaultAddr, or on a free 127.0.0.1 port when
// that is taken, and writes its URL to <stateDir>/redis-url (creating the
// directory). An empty stateDir writes no file.
func Start(stateDir string) (*Server, error) {
	return start(DefaultAddr, stateDir)
}

func start(addr, stateDir string) (*Server, error) {
	mr := miniredis.NewMiniRedis()
	if err := mr.StartAddr(addr); err != nil {
		mr = miniredis.NewMiniRedis()
		if err2 := mr.StartAddr("127.0.0.1:0"); err2 != nil {
			return nil, fmt.Errorf("embedded Redis: listen on %s (%v) or a free port: %w", addr, err, err2)
		}
	}
	s := &Server{mr: mr, url: "redis://" + mr.Addr()}
	if err := s.WriteURLFile(stateDir); err != nil {
		mr.Close()
		return nil, err
	}
	return s, nil
}

// WriteURLFile writes the server's URL to <stateDir>/redis-url (creating
// the directory), for callers that learn the state directory only after
// starting the server; Close removes the file. An empty stateDir writes
// nothing.
func (s *Server) WriteURLFile(stateDir string) error {
	if stateDir == "" {
		return nil
	}
	if err := writeURL(stateDir, s.url); err != nil {
		return err
	}
	s.urlFile = filepath.Join(stateDir, URLFile)
	return nil
}

func writeURL(stateDir, url string) error {
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return fmt.Errorf("embedded Redis: create state directory: %w", err)
	}
	tmp, err := os.CreateTemp(stateDir, URLFile+".*")
	if err != nil {
		return fmt.Errorf("embedded Redis: write URL file: %w", err)
	}
	_, werr := tmp.WriteString(url + "\n")
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("embedded Redis: write URL file: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(stateDir, URLFile)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("embedded Redis: write URL file: %w", err)
	}
	return nil
}

// URL is the server's address as a redis:// URL, e.g. redis://127.0.0.1:6379.
func (s *Server) URL() string { return s.url }

// Addr is the server's host:port.
func (s *Server) Addr() string { return s.mr.Addr() }

// Miniredis exposes the underlying server (tests use it to inspect state).
func (s *Server) Miniredis() *miniredis.Miniredis { return s.mr }

// Close stops the server and removes the URL file if it still names this
// server (another redspin may have replaced it meanwhile).
func (s *Server) Close() error {
	s.mr.Close()
	if s.urlFile == "" {
		return nil
	}
	if b, err := os.ReadFile(s.urlFile); err == nil && strings.TrimSpace(string(b)) == s.url {
		if err := os.Remove(s.urlFile); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("embedded Redis: remove URL file: %w", err)
		}
	}
	return nil
}

// ErrNoURL is wrapped by ReadURL when no embedded server has written its URL.
var ErrNoURL = errors.New("no embedded Redis URL")

// ReadURL returns the URL written by a running embedded server in stateDir.
func ReadURL(stateDir string) (string, error) {
	path := filepath.Join(stateDir, URLFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s does not exist (is `redspin up --embedded-redis` running? otherwise pass -a URL)", ErrNoURL, path)
	}
	if err != nil {
		return "", fmt.Errorf("read embedded Redis URL: %w", err)
	}
	u := strings.TrimSpace(string(b))
	if u == "" {
		return "", fmt.Errorf("%w: %s is empty", ErrNoURL, path)
	}
	return u, nil
}

// Publish sends one message to channel and returns how many subscribers
// received it. A connection error names the address; it never contains the
// password.
func Publish(ctx context.Context, opts *redis.Options, channel string, payload []byte) (int64, error) {
	o := *opts
	o.MaxRetries = -1
	c := redis.NewClient(&o)
	defer func() { _ = c.Close() }()
	n, err := c.Publish(ctx, channel, payload).Result()
	if err != nil {
		msg := err.Error()
		if o.Password != "" {
			msg = strings.ReplaceAll(msg, o.Password, "****")
		}
		return 0, fmt.Errorf("publish to channel %q on %s: %s", channel, o.Addr, msg)
	}
	return n, nil
}
