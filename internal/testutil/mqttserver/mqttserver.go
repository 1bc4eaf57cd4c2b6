// Package mqttserver starts a real mosquitto broker for end-to-end tests: on
// a free loopback port, anonymous, without persistence, its configuration
// and log in a private directory. A test package starts one broker for all
// its tests with a [Shared] (stopped from TestMain), or one per test with
// [Start].
//
// When mosquitto is not installed the test is skipped, unless
// REDSPIN_E2E=1 (redisserver.EnvE2E), which makes it a failure.
package mqttserver

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/redspin/redspin/internal/testutil/redisserver"
)

// Server is a running mosquitto.
type Server struct {
	Port    int    // on 127.0.0.1
	TLSPort int    // the TLS listener's port on 127.0.0.1 (StartTLS); 0 = none
	Dir     string // configuration and log

	certPEM, keyPEM []byte // the TLS listener's certificate (StartTLS)

	cmd  *exec.Cmd
	exit chan struct{}
}

// TLSURL is the broker's mqtts:// address (StartTLS) with clientID as
// client_id.
func (s *Server) TLSURL(clientID string) string {
	return "mqtts://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(s.TLSPort)) + "?client_id=" + clientID
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

// URL is the broker's mqtt:// address with clientID as client_id.
func (s *Server) URL(clientID string) string {
	return "mqtt://" + s.Addr() + "?client_id=" + clientID
}

// find returns mosquitto's path, or an error saying how to install it.
func find() (string, error) {
	if p, err := exec.LookPath("mosquitto"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("mosquitto not found (apt-get install -y mosquitto)")
}

func skipOrFail(t testing.TB, err error) {
	t.Helper()
	if os.Getenv(redisserver.EnvE2E) == "1" {
		t.Fatalf("%v, and %s=1", err, redisserver.EnvE2E)
	}
	t.Skipf("%v (set %s=1 to make this a failure)", err, redisserver.EnvE2E)
}

// Start starts a broker for one test; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return startFor(t, nil, nil)
}

// StartTLS starts a broker for one test with, besides its plain listener,
// a TLS listener (TLSPort) serving the certificate and key (PEM).
func StartTLS(t testing.TB, certPEM, keyPEM []byte) *Server {
	t.Helper()
	return startFor(t, certPEM, keyPEM)
}

func startFor(t testing.TB, certPEM, keyPEM []byte) *Server {
	t.Helper()
	s, err := start(certPEM, keyPEM)
	if err != nil {
		if errors.Is(err, errMissing) {
			skipOrFail(t, err)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(); os.RemoveAll(s.Dir) })
	return s
}

var errMissing = errors.New("mosquitto is not installed")

func start(certPEM, keyPEM []byte) (*Server, error) {
	bin, err := find()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMissing, err)
	}
	dir, err := os.MkdirTemp("", "redspin-mqtt-")
	if err != nil {
		return nil, err
	}
	var last error
	for range 5 { // a free port can be taken between picking and binding
		s := &Server{Dir: dir, certPEM: certPEM, keyPEM: keyPEM}
		if s.Port, err = redisserver.FreePort(); err != nil {
			return nil, err
		}
		if certPEM != nil {
			if s.TLSPort, err = redisserver.FreePort(); err != nil {
				return nil, err
			}
		}
		if last = s.run(bin); last == nil {
			return s, nil
		}
	}
	os.RemoveAll(dir)
	return nil, last
}

func (s *Server) run(bin string) error {
	conf := filepath.Join(s.Dir, "mosquitto.conf")
	log := filepath.Join(s.Dir, "mosquitto.log")
	text := fmt.Sprintf("per_listener_settings false\nallow_anonymous true\npersistence false\nlog_dest file %s\nlog_type error\nlog_type warning\nlistener %d 127.0.0.1\n", log, s.Port)
	// mosquitto started as root drops to the mosquitto user before it
	// opens its log and certificates: the folder is open to all, the log
	// writable by all, the (test) key readable by all.
	if err := os.Chmod(s.Dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(log, nil, 0o666); err != nil {
		return err
	}
	if err := os.Chmod(log, 0o666); err != nil {
		return err
	}
	if s.TLSPort != 0 {
		cert, key := filepath.Join(s.Dir, "server.crt"), filepath.Join(s.Dir, "server.key")
		if err := os.WriteFile(cert, s.certPEM, 0o644); err != nil {
			return err
		}
		if err := os.WriteFile(key, s.keyPEM, 0o644); err != nil {
			return err
		}
		text += fmt.Sprintf("listener %d 127.0.0.1\ncertfile %s\nkeyfile %s\n", s.TLSPort, cert, key)
	}
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		return err
	}
	cmd := exec.Command(bin, "-c", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mosquitto: %w", err)
	}
	s.cmd, s.exit = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exit) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-s.exit:
			l, _ := os.ReadFile(log)
			return fmt.Errorf("mosquitto exited at startup: %s%s", out.String(), l)
		default:
		}
		// Ready when the port accepts and our process is still running (a
		// process that lost the port race exits).
		if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
			c.Close()
			select {
			case <-s.exit:
				continue
			case <-time.After(20 * time.Millisecond):
				return nil
			}
		}
		if time.Now().After(deadline) {
			s.Stop()
			return fmt.Errorf("mosquitto on port %d did not start", s.Port)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the broker (by pid) and waits for it. Idempotent.
func (s *Server) Stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.exit
	s.cmd = nil
}

// Shared is one broker for a whole test package, started on first use.
// Stop it from TestMain after m.Run.
type Shared struct {
	once sync.Once
	s    *Server
	err  error
}

// Get returns the package's broker, starting it the first time; it skips
// or fails the test (see the package doc) when mosquitto is missing.
func (sh *Shared) Get(t testing.TB) *Server {
	t.Helper()
	sh.once.Do(func() { sh.s, sh.err = start(nil, nil) })
	if sh.err != nil {
		if errors.Is(sh.err, errMissing) {
			skipOrFail(t, sh.err)
		}
		t.Fatal(sh.err)
	}
	return sh.s
}

// Stop stops the broker if it was started and removes its directory.
func (sh *Shared) Stop() {
	if sh.s != nil {
		sh.s.Stop()
		os.RemoveAll(sh.s.Dir)
	}
}

// Subscribe connects a subscriber (MQTT 3.1.1, QoS 2) to filter, e.g.
// "guest/#", and returns the messages the broker delivers to it; it is
// disconnected when the test ends.
func (s *Server) Subscribe(t testing.TB, filter string) <-chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 1000)
	c := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + s.Addr()).SetClientID(fmt.Sprintf("sub-%d-%s", os.Getpid(), t.Name())))
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqttserver: subscriber connect: %v", tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(0) })
	if tok := c.Subscribe(filter, 2, func(_ paho.Client, m paho.Message) { ch <- m }); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqttserver: subscribe %s: %v", filter, tok.Error())
	}
	return ch
}

// Receive returns the next message from ch, failing the test after 10 s.
func Receive(t testing.TB, ch <-chan paho.Message) paho.Message {
	t.Helper()
	select {
	case m := <-ch:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("mqttserver: no message within 10 s")
		return nil
	}
}
