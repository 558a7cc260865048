package redistest_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/redisstore/redistest"
)

// recorder is a testing.TB whose Skip and Fatal are recorded instead of
// ending the test, to test what NewServer does without a redis-server.
type recorder struct {
	testing.TB
	mu             sync.Mutex
	skipped, fatal string
}

func (r *recorder) Skipf(format string, args ...any) {
	r.mu.Lock()
	r.skipped = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Skip(args ...any) { r.Skipf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.mu.Lock()
	r.fatal = fmt.Sprintf(format, args...)
	r.mu.Unlock()
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }

// newServerOn runs NewServer with r on a goroutine of its own, which Skip
// and Fatal end, and returns what it returned.
func newServerOn(r *recorder, opts ...redistest.Option) *redistest.Server {
	var s *redistest.Server
	done := make(chan struct{})
	go func() {
		defer close(done)
		s = redistest.NewServer(r, opts...)
	}()
	<-done
	return s
}

// withoutRedisServer makes redis-server impossible to find for the test.
func withoutRedisServer(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("REDIS_SERVER", "")
}

func TestNewServerSkipsWithoutRedisServer(t *testing.T) {
	withoutRedisServer(t)
	t.Setenv("REDIS_REQUIRED", "")
	r := &recorder{TB: t}
	s := newServerOn(r)
	assert.Nil(t, s)
	assert.Empty(t, r.fatal)
	assert.Equal(t, "redistest: no redis-server on $PATH nor in $REDIS_SERVER (install it: apt-get install redis-server, brew install redis); "+
		"skipping (set REDIS_REQUIRED=1 to fail instead)", r.skipped)
}

func TestNewServerFailsWithoutRedisServerWhenRequired(t *testing.T) {
	withoutRedisServer(t)
	t.Setenv("REDIS_REQUIRED", "1")
	r := &recorder{TB: t}
	assert.Nil(t, newServerOn(r))
	assert.Empty(t, r.skipped)
	assert.Contains(t, r.fatal, "no redis-server on $PATH")
	assert.Contains(t, r.fatal, "REDIS_REQUIRED=1 makes this a failure")
}

func TestStartWithoutRedisServer(t *testing.T) {
	withoutRedisServer(t)
	_, err := redistest.Binary()
	assert.ErrorIs(t, err, redistest.ErrNoRedisServer)
	s, err := redistest.Start()
	assert.ErrorIs(t, err, redistest.ErrNoRedisServer)
	assert.Nil(t, s)
}

func TestBinaryPrefersREDIS_SERVER(t *testing.T) {
	t.Setenv("REDIS_SERVER", "/opt/redis/bin/redis-server")
	bin, err := redistest.Binary()
	require.NoError(t, err)
	assert.Equal(t, "/opt/redis/bin/redis-server", bin)
}

// TestABinaryThatFailsSaysWhatItPrinted: the error of a redis-server that
// exits at start carries what it printed, since that says why (a config
// directive this version lacks, a port taken).
func TestABinaryThatFailsSaysWhatItPrinted(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	t.Setenv("REDIS_REQUIRED", "")
	bin := filepath.Join(t.TempDir(), "redis-server")
	script := "#!/bin/sh\necho '*** FATAL CONFIG FILE ERROR (Redis 6.0.0) ***'\necho 'Bad directive or wrong number of arguments' >&2\nexit 1\n"
	require.NoError(t, os.WriteFile(bin, []byte(script), 0o755))
	_, err := redistest.Start(redistest.WithBinary(bin))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "redistest: redis-server exited at start on port "), err.Error())
	assert.Contains(t, err.Error(), "FATAL CONFIG FILE ERROR", "its standard output")
	assert.Contains(t, err.Error(), "Bad directive", "and its standard error")
}

func TestABinaryThatIsNotRedisFails(t *testing.T) {
	t.Setenv("REDIS_REQUIRED", "")
	for _, tt := range []struct {
		name, bin, want string
	}{
		{"missing", filepath.Join(t.TempDir(), "redis-server"), "redistest: starting redis-server: "},
		{"exits at once", "/bin/false", "redistest: redis-server exited at start on port "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := os.Stat(tt.bin); tt.name == "exits at once" && err != nil {
				t.Skip("no " + tt.bin)
			}
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp) // where Start makes its folder
			_, err := redistest.Start(redistest.WithBinary(tt.bin))
			require.Error(t, err)
			assert.NotErrorIs(t, err, redistest.ErrNoRedisServer, "a binary named explicitly is not a missing install")
			assert.True(t, strings.HasPrefix(err.Error(), tt.want), err.Error())
			left, err := os.ReadDir(tmp)
			require.NoError(t, err)
			assert.Empty(t, left, "its temporary folder is removed")

			r := &recorder{TB: t}
			assert.Nil(t, newServerOn(r, redistest.WithBinary(tt.bin)))
			assert.Empty(t, r.skipped, "NewServer fails, never skips, on a broken binary")
			assert.True(t, strings.HasPrefix(r.fatal, tt.want), r.fatal)
		})
	}
}

// client is a go-redis client on s, closed when the test ends.
func client(t *testing.T, s *redistest.Server) *redis.Client {
	t.Helper()
	o, err := redis.ParseURL(s.URL())
	require.NoError(t, err)
	c := redis.NewClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

func TestNewServer(t *testing.T) {
	s := redistest.NewServer(t)
	assert.Regexp(t, `^redis://127\.0\.0\.1:\d+/0$`, s.URL())
	assert.Equal(t, strings.TrimSuffix(strings.TrimPrefix(s.URL(), "redis://"), "/0"), s.Addr())
	c := client(t, s)
	ctx := t.Context()

	cfg, err := c.ConfigGet(ctx, "*").Result()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1", cfg["bind"], "loopback only")
	assert.Equal(t, "yes", cfg["protected-mode"])
	assert.Equal(t, fmt.Sprint(redistest.MaxMemory), cfg["maxmemory"], "bounded")
	assert.Equal(t, "noeviction", cfg["maxmemory-policy"], "a full server refuses writes rather than drop sessions")
	assert.Equal(t, "no", cfg["appendonly"], "no persistence")
	assert.Equal(t, "", cfg["save"], "no snapshots")

	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.NoError(t, s.Stop())
	_, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	assert.Error(t, err, "a stopped server's port refuses connections")
	require.NoError(t, s.Stop(), "stopping again does nothing")
	require.NoError(t, s.Restart())
	n, err := c.Exists(ctx, "k").Result()
	require.NoError(t, err, "the same client reconnects")
	assert.Zero(t, n, "without WithPersistence, a restart comes back empty")
	assert.Error(t, s.Restart(), "already running")
}

func TestWithPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := redistest.Start(redistest.WithPersistence(), redistest.WithDir(dir))
	if errors.Is(err, redistest.ErrNoRedisServer) && os.Getenv("REDIS_REQUIRED") != "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	c := client(t, s)
	ctx := t.Context()
	appendOnly, err := c.ConfigGet(ctx, "appendonly").Result()
	require.NoError(t, err)
	assert.Equal(t, "yes", appendOnly["appendonly"])

	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	require.NoError(t, s.Stop())
	require.NoError(t, s.Restart())
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err, "the data survives a restart")
	assert.Equal(t, "v", got)

	require.NoError(t, s.Close())
	require.NoError(t, s.Close(), "closing again does nothing")
	assert.Error(t, s.Restart(), "a closed server stays closed")
	files, err := os.ReadDir(dir)
	require.NoError(t, err, "WithDir's folder is the caller's: Close leaves it")
	assert.NotEmpty(t, files, "the append-only file is there")
}

func TestCloseRemovesItsOwnFolder(t *testing.T) {
	s, err := redistest.Start(redistest.WithPersistence())
	if errors.Is(err, redistest.ErrNoRedisServer) && os.Getenv("REDIS_REQUIRED") != "1" {
		t.Skip(err)
	}
	require.NoError(t, err)
	var dir string
	c := client(t, s)
	res, err := c.ConfigGet(t.Context(), "dir").Result()
	require.NoError(t, err)
	dir = res["dir"]
	require.DirExists(t, dir)
	require.NoError(t, s.Close())
	assert.NoDirExists(t, dir)
	_, err = net.DialTimeout("tcp", s.Addr(), time.Second)
	assert.Error(t, err, "the process is gone")
}

func TestStore(t *testing.T) {
	s := redistest.NewServer(t)
	a, b := s.Store(t), s.Store(t)
	ctx := context.Background()
	require.NoError(t, a.CommitCtx(ctx, "id", []byte("a"), time.Now().Add(time.Minute)))
	_, found, err := b.FindCtx(ctx, "id")
	require.NoError(t, err)
	assert.False(t, found, "each Store has a prefix of its own")
	got, found, err := a.FindCtx(ctx, "id")
	require.NoError(t, err)
	require.True(t, found)
	assert.Equal(t, []byte("a"), got)

	keys, err := client(t, s).Keys(ctx, "redistest:*:id").Result()
	require.NoError(t, err)
	assert.Len(t, keys, 1)
}

func TestServersInParallel(t *testing.T) {
	addrs := make(chan string, 3)
	t.Run("group", func(t *testing.T) {
		for i := range 3 {
			t.Run(fmt.Sprint(i), func(t *testing.T) {
				t.Parallel()
				s := redistest.NewServer(t)
				require.NoError(t, client(t, s).Ping(t.Context()).Err())
				addrs <- s.Addr()
			})
		}
	})
	close(addrs)
	seen := map[string]bool{}
	for a := range addrs {
		assert.False(t, seen[a], "each on a port of its own")
		seen[a] = true
	}
}
