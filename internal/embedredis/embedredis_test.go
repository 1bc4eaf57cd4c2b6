package embedredis

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestStartWritesURLAndServes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // created by Start
	s, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "redis://127.0.0.1:") || s.URL() != "redis://"+s.Addr() {
		t.Fatalf("URL = %q", s.URL())
	}
	got, err := ReadURL(dir)
	if err != nil || got != s.URL() {
		t.Fatalf("ReadURL = %q, %v; want %q", got, err, s.URL())
	}

	// It is a working Redis: subscribe and publish through it.
	opts, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sub := redis.NewClient(opts).Subscribe(ctx, "news")
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := Publish(ctx, opts, "news", []byte{0, 1, 2})
	if err != nil || n != 1 {
		t.Fatalf("Publish = %d, %v", n, err)
	}
	msg, err := sub.ReceiveMessage(ctx)
	if err != nil || msg.Payload != "\x00\x01\x02" {
		t.Fatalf("received %v, %v", msg, err)
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, URLFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("URL file still there after Close: %v", err)
	}
	if _, err := ReadURL(dir); !errors.Is(err, ErrNoURL) || !strings.Contains(err.Error(), "--embedded-redis") {
		t.Fatalf("ReadURL after Close: %v", err)
	}
}

func TestFallsBackToFreePort(t *testing.T) {
	first, err := start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	// Ask for the port the first server holds: the second must pick another.
	second, err := start(first.Addr(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if second.Addr() == first.Addr() || !strings.HasPrefix(second.Addr(), "127.0.0.1:") {
		t.Fatalf("second addr %q (first %q)", second.Addr(), first.Addr())
	}
}

func TestCloseKeepsAnotherServersURL(t *testing.T) {
	dir := t.TempDir()
	s, err := Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, URLFile), []byte("redis://127.0.0.1:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := ReadURL(dir); err != nil || got != "redis://127.0.0.1:1" {
		t.Fatalf("ReadURL = %q, %v", got, err)
	}
}

func TestPublishErrorHidesPassword(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := start("127.0.0.1:0", "")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Miniredis().RequireAuth("right")
	_, err = Publish(ctx, &redis.Options{Addr: s.Addr(), Password: "wrong-secret"}, "c", []byte("x"))
	if err == nil || strings.Contains(err.Error(), "wrong-secret") || !strings.Contains(err.Error(), s.Addr()) {
		t.Fatalf("err = %v", err)
	}
}
