package redisstore_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/redisstore"
)

// The cost of a signed-in request, in process (httptest.ResponseRecorder, no
// network between client and app): a bare handler, then the same handler
// behind Sessions.Require with each store, with and without the revocation
// list on the flow's Verifier (which adds one store read per request), and
// the API side, RequireAccessToken with and without the list. The Redis is
// the test one (REDIS_URL, or a redis-server of the package's own) on
// loopback; the pool is cognitotest's, which a signed-in request does not
// reach. cpu-ns/op is this process's CPU time per request (Redis's own is
// not in it).
//
//	scripts/redis run -- sh -c 'cd redisstore && go test -run "^$" -bench . -benchmem'

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	io.WriteString(w, "ok")
})

// benchStores are the stores to compare, each opened on demand.
func benchStores(b *testing.B) map[string]func() cognito.SessionStore {
	return map[string]func() cognito.SessionStore{
		"memory": func() cognito.SessionStore { return cognito.NewMemoryStore() },
		"redis": func() cognito.SessionStore {
			s, err := redisstore.Open(redisURL(b), redisstore.WithPrefix("bench:"+randomID(b)+":"))
			require.NoError(b, err)
			b.Cleanup(func() { s.Close() })
			return s
		},
		"redis-scs": func() cognito.SessionStore {
			o, err := redis.ParseURL(redisURL(b))
			require.NoError(b, err)
			c := redis.NewClient(o)
			b.Cleanup(func() { c.Close() })
			return goredisstore.NewWithPrefix(c, "bench:"+randomID(b)+":")
		},
	}
}

// signedIn builds Sessions on store (with the revocation list in it when
// revocation is set) and signs a user in through the fake pool; it returns
// the Sessions, the Verifier, a request that carries the session cookie and
// the session's access token.
func signedIn(b *testing.B, store cognito.SessionStore, revocation bool) (*cognito.Sessions, *cognito.Verifier, *http.Request, string) {
	b.Helper()
	pool := cognitotest.NewServer(b)
	pool.AddUser(cognitotest.User{Username: "bench", Email: "bench@example.com"})
	pool.SignInAs("bench")
	cfg := pool.Config()
	var vopts []cognito.Option
	if revocation {
		vopts = append(vopts, cognito.WithRevocationList(store))
	}
	client, err := cognito.NewClient(cfg)
	require.NoError(b, err)
	verifier, err := cognito.NewVerifier(cfg, vopts...)
	require.NoError(b, err)
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	require.NoError(b, err)

	login := httptest.NewRecorder()
	sessions.Login(login, httptest.NewRequest(http.MethodGet, "http://localhost/login", nil))
	require.Equal(b, http.StatusFound, login.Code)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(login.Header().Get("Location"))
	require.NoError(b, err)
	res.Body.Close()
	callbackURL, err := url.Parse(res.Header.Get("Location"))
	require.NoError(b, err)
	cb := httptest.NewRequest(http.MethodGet, callbackURL.String(), nil)
	for _, c := range login.Result().Cookies() {
		cb.AddCookie(c)
	}
	done := httptest.NewRecorder()
	sessions.Callback(done, cb)
	require.Equal(b, http.StatusSeeOther, done.Code, done.Body.String())

	req := httptest.NewRequest(http.MethodGet, "http://localhost/page", nil)
	for _, c := range done.Result().Cookies() {
		if c.MaxAge >= 0 && c.Value != "" {
			req.AddCookie(c)
		}
	}
	h := sessions.Require(okHandler)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(b, http.StatusOK, rec.Code, "signed in")

	// The access token, for the API benchmarks.
	var access string
	sessions.Require(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context())
		access = s.AccessToken
	})).ServeHTTP(httptest.NewRecorder(), req)
	require.NotEmpty(b, access)
	return sessions, verifier, req, access
}

// serve runs h on req b.N times, and reports cpu-ns/op beside ns/op.
func serve(b *testing.B, h http.Handler, req *http.Request) {
	start := cpuTime(b)
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the CPU time (user and system) this process has used so far.
// Per operation, it leaves out the time other processes held the CPUs and
// the time spent waiting for Redis, so it stays steady on a busy machine,
// where ns/op, which counts a Redis round trip's scheduling delays, does not.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSignedInRequest is one signed-in page request: the bare handler,
// then Sessions.Require in front of it, and Sessions.Optional on the memory
// store, which must cost what Require does.
func BenchmarkSignedInRequest(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		serve(b, okHandler, httptest.NewRequest(http.MethodGet, "http://localhost/page", nil))
	})
	b.Run("memory/optional", func(b *testing.B) {
		sessions, _, req, _ := signedIn(b, cognito.NewMemoryStore(), false)
		b.ReportAllocs()
		b.ResetTimer()
		serve(b, sessions.Optional(okHandler), req)
	})
	stores := benchStores(b)
	for _, name := range []string{"memory", "redis", "redis-scs"} {
		for _, revocation := range []bool{false, true} {
			sub := name
			if revocation {
				sub += "+revocation-list"
			}
			b.Run(sub, func(b *testing.B) {
				sessions, _, req, _ := signedIn(b, stores[name](), revocation)
				b.ReportAllocs()
				b.ResetTimer()
				serve(b, sessions.Require(okHandler), req)
			})
		}
	}
}

// BenchmarkAccessTokenRequest is one API request with a bearer access token:
// RequireAccessToken without and with the revocation list, whose check is
// one store read per request.
func BenchmarkAccessTokenRequest(b *testing.B) {
	stores := benchStores(b)
	for _, name := range []string{"none", "memory", "redis"} {
		b.Run(name, func(b *testing.B) {
			store := cognito.SessionStore(cognito.NewMemoryStore())
			if name != "none" {
				store = stores[name]()
			}
			_, verifier, _, access := signedIn(b, store, name != "none")
			h := cognito.RequireAccessToken(verifier)(okHandler)
			req := httptest.NewRequest(http.MethodGet, "http://localhost/api/me", nil)
			req.Header.Set("Authorization", "Bearer "+access)
			b.ReportAllocs()
			b.ResetTimer()
			serve(b, h, req)
		})
	}
}
