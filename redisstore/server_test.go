package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The tests need a Redis. They use the one at $REDIS_URL (scripts/redis run
// sets it), or else start Debian's redis-server from $PATH on a free loopback
// port, or else skip, unless REDIS_REQUIRED=1 (CI), which makes them fail.
// Each test keeps its keys under a prefix of its own, so that tests, runs
// and other packages can share one server.

const (
	serverStartTimeout = 10 * time.Second // for redis-server to answer
	serverStopTimeout  = 10 * time.Second // for it to exit after SIGTERM
	pollInterval       = 10 * time.Millisecond
)

// redisServer is a redis-server process that a test owns: it can stop it
// (for real) and start it again on the same port with the same data.
type redisServer struct {
	bin, dir string
	port     int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedWriter
}

// redisServerPath is the redis-server binary, or "" when there is none.
func redisServerPath() string {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return ""
	}
	return p
}

func redisRequired() bool { return os.Getenv("REDIS_REQUIRED") == "1" }

// newRedisServer starts a redis-server of the test's own, with its append-only
// file in a temporary folder, and stops it when the test ends.
func newRedisServer(t testing.TB) *redisServer {
	t.Helper()
	bin := redisServerPath()
	if bin == "" {
		if redisRequired() {
			t.Fatal("REDIS_REQUIRED=1 but there is no redis-server on $PATH (apt-get install redis-server), nor $REDIS_SERVER")
		}
		t.Skip("no redis-server on $PATH (apt-get install redis-server); set REDIS_REQUIRED=1 to fail instead")
	}
	s, err := startRedisServer(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// startRedisServer starts bin on a free port of 127.0.0.1 with its data in dir.
func startRedisServer(bin, dir string) (*redisServer, error) {
	s := &redisServer{bin: bin, dir: dir}
	var err error
	for range 5 { // another process may take the port before redis-server binds it
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// URL is the server's redis:// URL.
func (s *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Addr is the server's host:port.
func (s *redisServer) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Start starts the server on its port with its data folder, and waits until
// this very process answers (not another one holding the port).
func (s *redisServer) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("redis-server is already running")
	}
	// --save "" leaves persistence to the append-only file alone, fsynced
	// at every write so that a stop loses nothing.
	cmd := exec.Command(s.bin,
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--protected-mode", "yes",
		"--dir", s.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--daemonize", "no", "--logfile", "")
	log := &lockedWriter{}
	cmd.Stdout = log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	client := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1})
	defer client.Close()
	deadline := time.Now().Add(serverStartTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return fmt.Errorf("redis-server exited at start on port %d:\n%s", s.port, log)
		default:
		}
		info, err := client.Info(context.Background(), "server").Result()
		if err == nil && strings.Contains(info, fmt.Sprintf("process_id:%d\r", cmd.Process.Pid)) {
			s.cmd, s.done, s.log = cmd, done, log
			return nil
		}
		time.Sleep(pollInterval) // bounded polling for the server to come up
	}
	_ = cmd.Process.Kill()
	<-done
	return fmt.Errorf("redis-server gave no answer on port %d within %s:\n%s", s.port, serverStartTimeout, log)
}

// Stop stops the server with SIGTERM (Redis then flushes its append-only
// file) and waits until the process has exited. A stopped server's port
// refuses connections.
func (s *redisServer) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
		return nil
	case <-time.After(serverStopTimeout):
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server did not exit within %s of SIGTERM; killed it", serverStopTimeout)
	}
}

// lockedWriter collects a process's output while the test may read it.
type lockedWriter struct {
	mu sync.Mutex
	b  strings.Builder
}

func (w *lockedWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// The package's shared server, when $REDIS_URL is not set.
var shared struct {
	once sync.Once
	url  string
	srv  *redisServer
	dir  string
	err  error
}

// redisURL returns the URL of a Redis the test may write keys to (under a
// prefix of its own), skipping or failing the test when there is none.
func redisURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	shared.once.Do(func() {
		bin := redisServerPath()
		if bin == "" {
			shared.err = errors.New("no REDIS_URL, and no redis-server on $PATH (apt-get install redis-server, or scripts/redis run -- go test ...)")
			return
		}
		if shared.dir, shared.err = os.MkdirTemp("", "redisstore-test-"); shared.err != nil {
			return
		}
		shared.srv, shared.err = startRedisServer(bin, shared.dir)
		if shared.err == nil {
			shared.url = shared.srv.URL()
		}
	})
	if shared.err != nil {
		if redisRequired() {
			t.Fatalf("REDIS_REQUIRED=1: %v", shared.err)
		}
		t.Skip(shared.err)
	}
	return shared.url
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
