// Package redistest runs a redis-server of a test's own, on a free port of
// 127.0.0.1, for the tests of apps that keep cognito.Sessions and the
// revocation list in Redis, in the spirit of net/http/httptest:
//
//	srv := redistest.NewServer(t) // skips the test when redis-server is not installed
//	store := srv.Store(t)         // a redisstore.Store under a key prefix of the test's own
//	sessions, err := cognito.NewSessions(flow, store)
//
// The server is Debian's (or any) redis-server binary: $REDIS_SERVER, or
// redis-server on $PATH. Without one, NewServer skips the test with a message
// that says what to install, unless $REDIS_REQUIRED is 1 (set it in CI, where
// a skipped Redis test would hide a missing install), which makes it fail.
//
// A server listens on loopback only, keeps nothing on disk unless
// WithPersistence says so, holds at most MaxMemory of data, waits at most
// StartTimeout to answer, and is stopped when the test ends. Stop and Restart
// take it down and bring it back on the same port, for tests of what an app
// does while Redis is away.
//
// The package lives in redisstore's module, so that the cognito library's
// go.mod never names a Redis client.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/cognitokit/cognito/redisstore"
)

// Bounds on a server's process.
const (
	// StartTimeout bounds how long Start and Restart wait for the server to
	// answer.
	StartTimeout = 10 * time.Second
	// StopTimeout bounds how long Stop and Close wait for the server to exit
	// after SIGTERM, before they kill it.
	StopTimeout = 10 * time.Second
	// MaxMemory is the data a server holds at most (its maxmemory); past it,
	// writes fail with an OOM error (maxmemory-policy noeviction) rather than
	// dropping sessions silently.
	MaxMemory = 256 << 20
)

// ErrNoRedisServer is returned by Binary and Start, and makes NewServer skip
// the test, when there is no redis-server to run.
var ErrNoRedisServer = errors.New("redistest: no redis-server on $PATH nor in $REDIS_SERVER (install it: apt-get install redis-server, brew install redis)")

// Binary is the redis-server that NewServer and Start run unless WithBinary
// names another: $REDIS_SERVER, or redis-server on $PATH. It returns
// ErrNoRedisServer when there is neither.
func Binary() (string, error) {
	if p := os.Getenv("REDIS_SERVER"); p != "" {
		return p, nil
	}
	p, err := exec.LookPath("redis-server")
	if err != nil {
		return "", ErrNoRedisServer
	}
	return p, nil
}

// Option configures NewServer and Start.
type Option interface{ apply(*settings) }

type optionFunc func(*settings)

func (f optionFunc) apply(s *settings) { f(s) }

type settings struct {
	bin, dir string
	persist  bool
}

// WithPersistence keeps the server's data in an append-only file, written
// through at every command, so that it survives Stop and Restart as a real
// Redis's would. Without it the server keeps nothing on disk, and Restart
// brings it back empty.
func WithPersistence() Option {
	return optionFunc(func(s *settings) { s.persist = true })
}

// WithBinary runs the redis-server at path instead of Binary's.
func WithBinary(path string) Option {
	return optionFunc(func(s *settings) { s.bin = path })
}

// WithDir makes the server keep its files (with WithPersistence, the
// append-only file) in dir, which stays the caller's: Close leaves it. By
// default they go to a temporary folder of the server's own, which Close
// removes.
func WithDir(dir string) Option {
	return optionFunc(func(s *settings) { s.dir = dir })
}

// Server is a redis-server process on 127.0.0.1. Its methods are safe for
// concurrent use.
type Server struct {
	settings
	port   int
	ownDir bool // Close removes dir

	mu     sync.Mutex
	cmd    *exec.Cmd // nil while stopped
	done   chan struct{}
	closed bool
}

// NewServer starts a redis-server for the test and stops it (and removes its
// files) when the test ends. Without a redis-server to run, it skips the test
// with a message that says what to install, or fails it when $REDIS_REQUIRED
// is 1; it fails the test if the server does not start.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	switch {
	case errors.Is(err, ErrNoRedisServer) && os.Getenv("REDIS_REQUIRED") == "1":
		tb.Fatalf("%v; REDIS_REQUIRED=1 makes this a failure", err)
		return nil
	case errors.Is(err, ErrNoRedisServer):
		tb.Skipf("%v; skipping (set REDIS_REQUIRED=1 to fail instead)", err)
		return nil
	case err != nil:
		tb.Fatal(err)
		return nil
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Error(err)
		}
	})
	return s
}

// Start starts a redis-server for a program or a TestMain, on a free port of
// 127.0.0.1; the caller stops it with Close. It returns ErrNoRedisServer when
// there is no redis-server to run.
func Start(opts ...Option) (*Server, error) {
	s := &Server{}
	for _, o := range opts {
		if o != nil {
			o.apply(&s.settings)
		}
	}
	if s.bin == "" {
		bin, err := Binary()
		if err != nil {
			return nil, err
		}
		s.bin = bin
	}
	if s.dir == "" {
		dir, err := os.MkdirTemp("", "redistest-")
		if err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
		s.dir, s.ownDir = dir, true
	}
	var err error
	for range 5 { // another process may take the port before redis-server binds it
		if s.port, err = freePort(); err != nil {
			break
		}
		if err = s.start(); err == nil {
			return s, nil
		}
	}
	if s.ownDir {
		os.RemoveAll(s.dir)
	}
	return nil, err
}

// URL is the server's redis:// URL, database 0, for redisstore.Open.
func (s *Server) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

// Addr is the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Store opens a redisstore.Store on the server, under a key prefix of its
// own so that tests sharing a server never meet each other's keys, with opts
// applied after it (a WithPrefix of opts wins), and closes it when the test
// ends.
func (s *Server) Store(tb testing.TB, opts ...redisstore.Option) *redisstore.Store {
	tb.Helper()
	b := make([]byte, 8)
	rand.Read(b)
	st, err := redisstore.Open(s.URL(), append([]redisstore.Option{redisstore.WithPrefix("redistest:" + hex.EncodeToString(b) + ":")}, opts...)...)
	if err != nil {
		tb.Fatal(err)
		return nil
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// start runs the server on s.port and waits until this very process answers
// (not another one that holds the port).
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return errors.New("redistest: the server is closed")
	case s.cmd != nil:
		return errors.New("redistest: the server is already running")
	}
	args := []string{
		"--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--protected-mode", "yes",
		"--dir", s.dir, "--save", "", "--daemonize", "no", "--logfile", "",
		"--maxmemory", strconv.Itoa(MaxMemory), "--maxmemory-policy", "noeviction",
	}
	if s.persist {
		args = append(args, "--appendonly", "yes", "--appendfsync", "always")
	} else {
		args = append(args, "--appendonly", "no")
	}
	cmd := exec.Command(s.bin, args...)
	log := &lockedWriter{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("redistest: starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()

	// One dial per poll: go-redis would otherwise retry each failed dial
	// five times, 100ms apart, and the poll below already retries.
	client := redis.NewClient(&redis.Options{Addr: s.Addr(), DialTimeout: time.Second, ReadTimeout: time.Second, MaxRetries: -1, DialerRetries: 1})
	defer client.Close()
	deadline := time.NewTimer(StartTimeout)
	defer deadline.Stop()
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for {
		info, err := client.Info(context.Background(), "server").Result()
		if err == nil && strings.Contains(info, fmt.Sprintf("process_id:%d\r", cmd.Process.Pid)) {
			s.cmd, s.done = cmd, done
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redistest: redis-server exited at start on port %d:\n%s", s.port, log)
		case <-deadline.C:
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redistest: redis-server gave no answer on port %d within %s:\n%s", s.port, StartTimeout, log)
		case <-poll.C:
		}
	}
}

// Stop stops the server with SIGTERM and waits until the process has
// exited: its port then refuses connections, as a Redis that went away.
// Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, done := s.cmd, s.done
	s.cmd, s.done = nil, nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(StopTimeout)
	defer t.Stop()
	select {
	case <-done:
		return nil
	case <-t.C:
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redistest: redis-server did not exit within %s of SIGTERM; killed it", StopTimeout)
	}
}

// Restart starts a stopped server again on the same port, with its data
// when WithPersistence kept it. It fails if the port was taken meanwhile.
func (s *Server) Restart() error { return s.start() }

// Close stops the server for good and removes its files, unless WithDir
// named their folder; it returns what failed of either. Calling it again does
// nothing.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true // from here on, Restart refuses
	s.mu.Unlock()
	err := s.Stop()
	if s.ownDir {
		if rerr := os.RemoveAll(s.dir); rerr != nil {
			err = errors.Join(err, fmt.Errorf("redistest: %w", rerr))
		}
	}
	return err
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// lockedWriter collects a process's output while a test may read it.
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
	if w.b.Len() > 64<<10 { // bounded: a test reads the start
		return len(p), nil
	}
	return w.b.Write(p)
}
