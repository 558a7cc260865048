package redisstore_test

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/cognitokit/cognito/redisstore/redistest"
)

// The tests need a Redis. They use the one at $REDIS_URL (scripts/redis run
// sets it), or else a redis-server that redistest starts from $PATH on a free
// loopback port, or else skip, unless REDIS_REQUIRED=1 (CI), which makes them
// fail. Each test keeps its keys under a prefix of its own, so that tests,
// runs and other packages can share one server. The helpers below predate
// redistest and are kept, as thin wrappers over it, for the tests that call
// them.

// redisServer is a redis-server process that a test owns: it can stop it
// (for real) and start it again on the same port with the same data.
type redisServer struct{ *redistest.Server }

// Start starts the stopped server again, on its port, with its data.
func (s *redisServer) Start() error { return s.Restart() }

// redisServerPath is the redis-server binary, or "" when there is none.
func redisServerPath() string {
	bin, _ := redistest.Binary()
	return bin
}

func redisRequired() bool { return os.Getenv("REDIS_REQUIRED") == "1" }

// newRedisServer starts a redis-server of the test's own, with its
// append-only file in a temporary folder, and stops it when the test ends.
func newRedisServer(t testing.TB) *redisServer {
	t.Helper()
	return &redisServer{redistest.NewServer(t, redistest.WithPersistence())}
}

// startRedisServer starts bin on a free port of 127.0.0.1 with its data in
// dir, which stays the caller's.
func startRedisServer(bin, dir string) (*redisServer, error) {
	s, err := redistest.Start(redistest.WithBinary(bin), redistest.WithDir(dir), redistest.WithPersistence())
	if err != nil {
		return nil, err
	}
	return &redisServer{s}, nil
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
			shared.err = fmt.Errorf("no REDIS_URL (scripts/redis run -- go test ... sets one), and %w", redistest.ErrNoRedisServer)
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
		if err := shared.srv.Close(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	if shared.dir != "" {
		_ = os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}
