package cognito_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// tenantDirectory is a service's table of tenants: the pools it knows by
// issuer, and how often the resolver was asked about each.
type tenantDirectory struct {
	mu    sync.Mutex
	byIss map[string]cognito.Config
	calls map[string]int
	total int
	fail  error // when set, every call fails with it
}

func (d *tenantDirectory) resolve(_ context.Context, iss string) (cognito.Config, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls[iss]++
	d.total++
	if d.fail != nil {
		return cognito.Config{}, d.fail
	}
	cfg, ok := d.byIss[iss]
	if !ok {
		return cognito.Config{}, fmt.Errorf("%w: no tenant has this pool", cognito.ErrInvalidIssuer)
	}
	return cfg, nil
}

func (d *tenantDirectory) put(iss string, cfg cognito.Config) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.byIss[iss] = cfg
}

func (d *tenantDirectory) remove(iss string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.byIss, iss)
}

func (d *tenantDirectory) setFail(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.fail = err
}

func (d *tenantDirectory) callsFor(iss string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls[iss]
}

func (d *tenantDirectory) totalCalls() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.total
}

// tenantFixture is fake pools, one per tenant, on one clock, and the
// directory that knows them all.
type tenantFixture struct {
	clock *cognitotest.Clock
	pools []*cognitotest.Server
	dir   *tenantDirectory
}

func newTenantFixture(t *testing.T, n int) *tenantFixture {
	t.Helper()
	f := &tenantFixture{clock: newTestClock(), dir: &tenantDirectory{byIss: map[string]cognito.Config{}, calls: map[string]int{}}}
	for i := range n {
		p := cognitotest.NewServer(t, cognitotest.WithClock(f.clock.Now),
			cognitotest.WithPoolID(fmt.Sprintf("us-east-1_Tenant%d", i)), cognitotest.WithClientID(fmt.Sprintf("client%d", i)))
		f.pools = append(f.pools, p)
		f.dir.put(p.Issuer(), p.Config())
	}
	return f
}

// verifier is a TenantVerifier over the directory, on the fixture's clock.
func (f *tenantFixture) verifier(t testing.TB, opts ...cognito.Option) *cognito.TenantVerifier {
	t.Helper()
	tv, err := cognito.NewTenantVerifier(f.dir.resolve, append([]cognito.Option{cognito.WithClock(f.clock.Now)}, opts...)...)
	require.NoError(t, err)
	return tv
}

func (f *tenantFixture) keyFetches() []int {
	var n []int
	for _, p := range f.pools {
		n = append(n, p.Requests(cognitotest.EndpointJWKS))
	}
	return n
}

// unsignedToken is a token with these claims and no valid signature: enough
// for what is refused before any key is needed.
func unsignedToken(claims string) string {
	return "e30." + b64u.EncodeToString([]byte(claims)) + ".c2ln"
}

func TestTenantVerifierThreePoolsThroughTwo(t *testing.T) {
	for _, tc := range []struct {
		name         string
		max          int
		resolves     int // over four rounds of the three pools
		fetchPerPool int
	}{
		// Round robin is the least-recently-used rule's worst case: each
		// pool is dropped before it comes back, and found again.
		{"a bound of two", 2, 12, 4},
		{"a bound of three", 3, 3, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTenantFixture(t, 3)
			tv := f.verifier(t, cognito.WithMaxTenants(tc.max))
			ctx := context.Background()
			var access, id []string
			for _, p := range f.pools {
				access = append(access, p.MintAccessToken("alice"))
				id = append(id, p.MintIDToken("alice"))
			}
			for range 4 {
				for i, p := range f.pools {
					at, err := tv.VerifyAccessToken(ctx, access[i])
					require.NoError(t, err)
					assert.Equal(t, p.Issuer(), at.Issuer)
					assert.Equal(t, fmt.Sprintf("client%d", i), at.ClientID, "each tenant's own client")
					it, err := tv.VerifyIDToken(ctx, id[i])
					require.NoError(t, err)
					assert.Equal(t, fmt.Sprintf("client%d", i), it.Audience)
					tenants, _, tokens := cognito.TenantCounts(tv)
					assert.LessOrEqual(t, tenants, tc.max)
					assert.LessOrEqual(t, tokens, 2*tc.max, "a pool dropped takes its cached tokens along")
				}
			}
			assert.Equal(t, tc.resolves, f.dir.totalCalls())
			assert.Equal(t, []int{tc.fetchPerPool, tc.fetchPerPool, tc.fetchPerPool}, f.keyFetches())
		})
	}
}

// TestTenantVerifierPicksACachedTokensPoolWithoutReadingIss: a token
// verified before names its pool through the shared token cache, so a repeat
// costs what it costs a Verifier of that pool, with no decoding of the claims
// or the iss.
func TestTenantVerifierPicksACachedTokensPoolWithoutReadingIss(t *testing.T) {
	f := newTenantFixture(t, 1)
	tv := f.verifier(t)
	v, err := cognito.NewVerifier(f.pools[0].Config(), cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	ctx := context.Background()
	tok := f.pools[0].MintAccessToken("alice")
	verify := func(v cognito.AccessTokenVerifier) func() {
		return func() {
			if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
				panic(err)
			}
		}
	}
	verify(tv)() // each caches it
	verify(v)()
	direct := testing.AllocsPerRun(20, verify(v))
	tenant := testing.AllocsPerRun(20, verify(tv))
	t.Logf("allocations per cached verify: %.0f by the pool's Verifier, %.0f through the TenantVerifier", direct, tenant)
	assert.Equal(t, direct, tenant, "no claims decoded to pick the pool")
	assert.Equal(t, 1, f.dir.totalCalls())
}

func TestTenantVerifierDropsTheLeastRecentlyUsed(t *testing.T) {
	for _, tc := range []struct {
		name    string
		order   []int // pools verified, before pool 2 comes
		dropped int
	}{
		{"the first, used again last", []int{0, 1, 0}, 1},
		{"the second, used again last", []int{0, 1, 1}, 0},
		{"the first, used once", []int{0, 1}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newTenantFixture(t, 3)
			tv := f.verifier(t, cognito.WithMaxTenants(2))
			ctx := context.Background()
			for _, i := range append(tc.order, 2) {
				_, err := tv.VerifyAccessToken(ctx, f.pools[i].MintAccessToken("alice"))
				require.NoError(t, err)
			}
			kept := 1 - tc.dropped
			for _, i := range []int{kept, tc.dropped} {
				_, err := tv.VerifyAccessToken(ctx, f.pools[i].MintAccessToken("alice"))
				require.NoError(t, err)
			}
			assert.Equal(t, 1, f.dir.callsFor(f.pools[kept].Issuer()), "the pool used last is kept")
			assert.Equal(t, 2, f.dir.callsFor(f.pools[tc.dropped].Issuer()), "the least recently used was dropped")
		})
	}
}

func TestTenantVerifierUnknownIssuersFetchNothing(t *testing.T) {
	f := newTenantFixture(t, 2)
	stranger := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_Stranger"), cognitotest.WithClock(f.clock.Now))
	tv := f.verifier(t)
	ctx := context.Background()
	a := f.pools[0]
	toks := map[string]string{
		"another pool":                stranger.MintAccessToken("mallory"),
		"a tenant's issuer, reworded": a.MintAccessToken("mallory", cognitotest.WithIssuer(a.Issuer()+"/")),
		"an attacker's URL":           a.MintAccessToken("mallory", cognitotest.WithIssuer("https://attacker.example/pool")),
	}
	for range 2 {
		for name, tok := range toks {
			_, err := tv.VerifyAccessToken(ctx, tok)
			assert.ErrorIs(t, err, cognito.ErrInvalidIssuer, name)
			_, err = tv.VerifyIDToken(ctx, tok)
			assert.ErrorIs(t, err, cognito.ErrInvalidIssuer, name)
		}
	}
	assert.Equal(t, []int{0, 0}, f.keyFetches(), "a token of no tenant never triggers a fetch")
	assert.Zero(t, stranger.Requests(cognitotest.EndpointJWKS))
	assert.Equal(t, 3, f.dir.totalCalls(), "one call per issuer: a refusal is remembered")
	_, refusals, _ := cognito.TenantCounts(tv)
	assert.Equal(t, 3, refusals)

	f.clock.Advance(cognito.TenantRefusalTTL - time.Second)
	_, err := tv.VerifyAccessToken(ctx, toks["another pool"])
	assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)
	assert.Equal(t, 3, f.dir.totalCalls(), "still remembered")
	f.clock.Advance(time.Second)
	_, err = tv.VerifyAccessToken(ctx, toks["another pool"])
	assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)
	assert.Equal(t, 4, f.dir.totalCalls(), "forgotten after TenantRefusalTTL")
	assert.Zero(t, stranger.Requests(cognitotest.EndpointJWKS))
}

// A resolver that answers a pool for an issuer that is not the pool's (here:
// one that ignores a trailing slash) must not make a verifier for it, which
// could push real tenants out.
func TestTenantVerifierRefusesAConfigOfAnotherIssuer(t *testing.T) {
	f := newTenantFixture(t, 1)
	a := f.pools[0]
	lax := func(ctx context.Context, iss string) (cognito.Config, error) {
		return f.dir.resolve(ctx, strings.TrimSuffix(iss, "/"))
	}
	tv, err := cognito.NewTenantVerifier(lax, cognito.WithClock(f.clock.Now), cognito.WithMaxTenants(1))
	require.NoError(t, err)
	ctx := context.Background()
	_, err = tv.VerifyAccessToken(ctx, a.MintAccessToken("alice"))
	require.NoError(t, err)
	reworded := a.MintAccessToken("mallory", cognitotest.WithIssuer(a.Issuer()+"/"))
	for range 2 {
		_, err = tv.VerifyAccessToken(ctx, reworded)
		assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)
	}
	assert.Equal(t, 2, f.dir.totalCalls(), "the refusal is remembered")
	tenants, refusals, _ := cognito.TenantCounts(tv)
	assert.Equal(t, 1, tenants)
	assert.Equal(t, 1, refusals)
	_, err = tv.VerifyAccessToken(ctx, a.MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, 2, f.dir.totalCalls(), "the real tenant was not pushed out")
	assert.Equal(t, 1, a.Requests(cognitotest.EndpointJWKS))
}

func TestTenantVerifierIssuerFlood(t *testing.T) {
	clock := newTestClock()
	var mu sync.Mutex
	calls := 0
	tv, err := cognito.NewTenantVerifier(func(context.Context, string) (cognito.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	called := func() int {
		mu.Lock()
		defer mu.Unlock()
		return calls
	}
	ctx := context.Background()
	flood := func(from, to int) {
		for i := from; i < to; i++ {
			_, err := tv.VerifyAccessToken(ctx, unsignedToken(fmt.Sprintf(`{"iss":"https://made-up-%d.example/pool"}`, i)))
			require.ErrorIs(t, err, cognito.ErrInvalidIssuer)
		}
	}

	flood(0, 10000)
	assert.Equal(t, 10000, called(), "one call per distinct issuer")
	flood(0, 10000)
	assert.Equal(t, 10000, called(), "the same issuers again: remembered, no call")
	tenants, refusals, _ := cognito.TenantCounts(tv)
	assert.Zero(t, tenants)
	assert.Equal(t, cognito.MaxTenantRefusals, refusals)

	flood(10000, 20000)
	assert.Equal(t, 20000, called())
	_, refusals, _ = cognito.TenantCounts(tv)
	assert.Equal(t, cognito.MaxTenantRefusals, refusals, "the memory of refusals stays bounded")
	flood(19999, 20000)
	assert.Equal(t, 20000, called(), "the newest are remembered")
	flood(0, 1)
	assert.Equal(t, 20001, called(), "the oldest were forgotten first")

	clock.Advance(cognito.TenantRefusalTTL)
	flood(10000, 10001)
	assert.Equal(t, 20002, called(), "and all of them after TenantRefusalTTL")
	_, refusals, _ = cognito.TenantCounts(tv)
	assert.LessOrEqual(t, refusals, cognito.MaxTenantRefusals)
}

func TestTenantVerifierRefusesIssuersBeforeTheResolver(t *testing.T) {
	f := newTenantFixture(t, 1)
	tv := f.verifier(t)
	longest := "https://long.example/" + strings.Repeat("a", 512-len("https://long.example/"))
	for _, tc := range []struct {
		name   string
		claims string
		want   error
	}{
		{"huge iss", `{"iss":"https://huge.example/` + strings.Repeat("a", 10<<10) + `"}`, cognito.ErrInvalidIssuer},
		{"iss one byte over", `{"iss":"` + longest + `a"}`, cognito.ErrInvalidIssuer},
		{"not a URL", `{"iss":"not a url"}`, cognito.ErrInvalidIssuer},
		{"a URN", `{"iss":"urn:example:pool"}`, cognito.ErrInvalidIssuer},
		{"empty iss", `{"iss":""}`, cognito.ErrInvalidIssuer},
		{"no iss", `{"sub":"x"}`, cognito.ErrInvalidIssuer},
		{"ftp", `{"iss":"ftp://pool.example/x"}`, cognito.ErrInvalidIssuer},
		{"plain http to a remote host", `{"iss":"http://pool.example/x"}`, cognito.ErrInvalidIssuer},
		{"user info", `{"iss":"https://user:secret@pool.example/x"}`, cognito.ErrInvalidIssuer},
		{"a query", `{"iss":"https://pool.example/x?a=b"}`, cognito.ErrInvalidIssuer},
		{"a control character", `{"iss":"https://pool.example/x\u0000"}`, cognito.ErrInvalidIssuer},
		{"iss not a string", `{"iss":42}`, cognito.ErrMalformedToken},
		{"claims not JSON", `not json`, cognito.ErrMalformedToken},
	} {
		_, err := tv.VerifyAccessToken(context.Background(), unsignedToken(tc.claims))
		assert.ErrorIs(t, err, tc.want, tc.name)
		if err != nil {
			assert.LessOrEqual(t, len(err.Error()), 512, "%s: the message is bounded", tc.name)
			assert.NotContains(t, err.Error(), "secret", tc.name)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), tc.name)
		}
	}
	_, err := tv.VerifyAccessToken(context.Background(), strings.Repeat("a", 70<<10))
	assert.ErrorIs(t, err, cognito.ErrMalformedToken)
	assert.Zero(t, f.dir.totalCalls(), "none reaches the resolver")

	_, err = tv.VerifyAccessToken(context.Background(), unsignedToken(`{"iss":"`+longest+`"}`))
	assert.ErrorIs(t, err, cognito.ErrInvalidIssuer)
	assert.Equal(t, 1, f.dir.callsFor(longest), "an iss of 512 bytes is asked about")
	assert.Equal(t, []int{0}, f.keyFetches())
}

func TestTenantVerifierPoolWithKeysDown(t *testing.T) {
	f := newTenantFixture(t, 3)
	tv := f.verifier(t)
	var hookErr error
	h := chain(whoami, cognito.RequireAccessToken(tv, cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err })))
	down := f.pools[1]
	down.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: http.StatusInternalServerError})
	for range 2 {
		for i, p := range f.pools {
			rec := serve(h, "Bearer "+p.MintAccessToken("alice"))
			if p == down {
				assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "pool %d", i)
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
				assert.ErrorIs(t, hookErr, cognito.ErrJWKSUnavailable)
			} else {
				assert.Equal(t, http.StatusOK, rec.Code, "pool %d: other tenants are unaffected", i)
			}
		}
	}
	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+down.MintAccessToken("alice")).Code, "back once its keys are")
	assert.Equal(t, 1, f.dir.callsFor(down.Issuer()), "the pool is kept while its keys are down")
}

func TestTenantVerifierResolverFaults(t *testing.T) {
	f := newTenantFixture(t, 1)
	tok := f.pools[0].MintAccessToken("alice")
	for _, tc := range []struct {
		name    string
		resolve cognito.TenantResolver
		log     string
	}{
		{"an error", func(context.Context, string) (cognito.Config, error) {
			return cognito.Config{}, errors.New("database is down")
		}, `level=WARN msg="cognito: tenant resolver failed"`},
		{"a panic", func(context.Context, string) (cognito.Config, error) {
			panic("a bug in the resolver")
		}, `level=ERROR msg="cognito: tenant resolver panicked"`},
		{"a panic with an error", func(context.Context, string) (cognito.Config, error) {
			panic(cognito.ErrInvalidIssuer) // still a fault, not a refusal
		}, `level=ERROR msg="cognito: tenant resolver panicked"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			var logs bytes.Buffer
			tv, err := cognito.NewTenantVerifier(func(ctx context.Context, iss string) (cognito.Config, error) {
				calls++
				return tc.resolve(ctx, iss)
			}, cognito.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			require.NoError(t, err)
			_, err = tv.VerifyAccessToken(context.Background(), tok)
			assert.ErrorIs(t, err, cognito.ErrTenantUnavailable)
			assert.NotErrorIs(t, err, cognito.ErrInvalidIssuer)
			assert.True(t, strings.HasPrefix(err.Error(), "cognito: "), err.Error())

			var hookErr error
			h := chain(whoami, cognito.RequireAccessToken(tv, cognito.WithErrorHook(func(_ *http.Request, err error) { hookErr = err })))
			rec := serve(h, "Bearer "+tok)
			assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "never 401: the token may be fine")
			assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			assert.ErrorIs(t, hookErr, cognito.ErrTenantUnavailable)
			assert.Equal(t, 2, calls, "a failure is not remembered")
			assert.Contains(t, logs.String(), tc.log)
			assert.NotContains(t, logs.String(), tok)
			assert.Zero(t, f.pools[0].Requests(cognitotest.EndpointJWKS))

			quiet, err := cognito.NewTenantVerifier(tc.resolve) // no logger
			require.NoError(t, err)
			_, err = quiet.VerifyAccessToken(context.Background(), tok)
			assert.ErrorIs(t, err, cognito.ErrTenantUnavailable, "the same answer without a logger")
		})
	}
}

// The resolver's Config for a tenant is the operator's to fix: 500, asked
// again next time.
func TestTenantVerifierInvalidConfigFromTheResolver(t *testing.T) {
	f := newTenantFixture(t, 1)
	p := f.pools[0]
	cfg := p.Config()
	cfg.ClientID = ""
	f.dir.put(p.Issuer(), cfg)
	tv := f.verifier(t)
	_, err := tv.VerifyAccessToken(context.Background(), p.MintAccessToken("alice"))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	assert.ErrorContains(t, err, "ClientID")
	rec := serve(cognito.RequireAccessToken(tv)(whoami), "Bearer "+p.MintAccessToken("alice"))
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.Equal(t, 2, f.dir.totalCalls())
	assert.Zero(t, p.Requests(cognitotest.EndpointJWKS))
}

// watchedContext reports when its Done channel is first asked for: a
// request asks for it once it waits for a resolve under way.
type watchedContext struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func watch(ctx context.Context) *watchedContext {
	return &watchedContext{Context: ctx, waiting: make(chan struct{})}
}

func (c *watchedContext) Done() <-chan struct{} {
	c.once.Do(func() { close(c.waiting) })
	return c.Context.Done()
}

// hangingDirectory is a resolver that holds its answers about one issuer
// until released (answering what the directory said when asked), and
// answers the others at once.
type hangingDirectory struct {
	*tenantDirectory
	hung    string
	started chan string
	release chan struct{}
}

func (d *hangingDirectory) resolve(ctx context.Context, iss string) (cognito.Config, error) {
	cfg, err := d.tenantDirectory.resolve(ctx, iss)
	if iss == d.hung {
		d.started <- iss
		<-d.release // ignores ctx: the worst a resolver can do
	}
	return cfg, err
}

func TestTenantVerifierHangingResolver(t *testing.T) {
	f := newTenantFixture(t, 2)
	hung := f.pools[0]
	d := &hangingDirectory{tenantDirectory: f.dir, hung: hung.Issuer(), started: make(chan string, 16), release: make(chan struct{})}
	tv, err := cognito.NewTenantVerifier(d.resolve, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	tok := hung.MintAccessToken("alice")

	// Several requests for the hung issuer: one call, each request bounded
	// by its own context.
	const waiters = 8
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, waiters)
	for i := range waiters {
		wctx := watch(ctx)
		go func() {
			_, err := tv.VerifyAccessToken(wctx, tok)
			errs <- err
		}()
		if i == 0 {
			<-d.started
		}
		select {
		case <-wctx.waiting:
		case <-d.started:
			t.Fatal("a second call about an issuer under way")
		}
	}
	// Other tenants are not held up.
	_, err = tv.VerifyAccessToken(context.Background(), f.pools[1].MintAccessToken("bob"))
	require.NoError(t, err)
	h := cognito.RequireAccessToken(tv)(whoami)
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	cancel()
	for range waiters {
		err := <-errs
		assert.ErrorIs(t, err, cognito.ErrTenantUnavailable)
		assert.ErrorIs(t, err, context.Canceled)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code, "a request that gave up waiting")
	assert.Equal(t, 1, f.dir.callsFor(f.pools[1].Issuer()))

	close(d.release)
	_, err = tv.VerifyAccessToken(context.Background(), tok)
	require.NoError(t, err, "the call's answer serves the requests after it")
	assert.Equal(t, 1, f.dir.callsFor(hung.Issuer()), "one call about the hung issuer in all")
}

type tenantCtxKey struct{}

// The call to the resolver outlives the request that started it (others may
// wait on it), keeps its values, and is bounded all the same.
func TestTenantVerifierResolverContext(t *testing.T) {
	f := newTenantFixture(t, 1)
	p := f.pools[0]
	started, release := make(chan struct{}), make(chan struct{})
	var deadline time.Time
	var value any
	tv, err := cognito.NewTenantVerifier(func(ctx context.Context, iss string) (cognito.Config, error) {
		deadline, _ = ctx.Deadline()
		value = ctx.Value(tenantCtxKey{})
		close(started)
		select {
		case <-release:
		case <-ctx.Done():
			return cognito.Config{}, ctx.Err()
		}
		return f.dir.resolve(ctx, iss)
	}, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	tok := p.MintAccessToken("alice")

	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), tenantCtxKey{}, "trace-1"))
	first := make(chan error, 1)
	go func() {
		_, err := tv.VerifyAccessToken(ctx, tok)
		first <- err
	}()
	<-started
	second := watch(context.Background())
	secondErr := make(chan error, 1)
	go func() {
		_, err := tv.VerifyAccessToken(second, tok)
		secondErr <- err
	}()
	<-second.waiting
	start := time.Now()
	cancel()
	assert.ErrorIs(t, <-first, cognito.ErrTenantUnavailable, "the first request gave up")
	close(release)
	assert.NoError(t, <-secondErr, "the call went on for the second")
	assert.Equal(t, "trace-1", value)
	require.False(t, deadline.IsZero(), "a request's context has no deadline: the call must have one")
	assert.True(t, deadline.Before(start.Add(time.Minute)), "bounded: %s", deadline.Sub(start))
}

func TestTenantVerifierForgetDuringAResolve(t *testing.T) {
	f := newTenantFixture(t, 1)
	p := f.pools[0]
	d := &hangingDirectory{tenantDirectory: f.dir, hung: p.Issuer(), started: make(chan string, 1), release: make(chan struct{})}
	tv, err := cognito.NewTenantVerifier(d.resolve, cognito.WithClock(f.clock.Now))
	require.NoError(t, err)
	tok := p.MintAccessToken("alice")
	done := make(chan error, 1)
	go func() {
		_, err := tv.VerifyAccessToken(context.Background(), tok)
		done <- err
	}()
	<-d.started
	// The tenant moves to another client while the resolver is asked.
	mobile, err := p.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true})
	require.NoError(t, err)
	f.dir.put(p.Issuer(), p.ClientConfig(mobile))
	tv.Forget(p.Issuer())
	d.hung = ""
	// A request after Forget asks again rather than wait for the old
	// answer (the bound only ends the test should it wait).
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = tv.VerifyAccessToken(ctx, p.MintAccessToken("alice", cognitotest.WithAudience("mobile")))
	require.NoError(t, err, "answered while the old call still hangs")
	assert.Equal(t, 2, f.dir.callsFor(p.Issuer()))
	close(d.release)
	require.NoError(t, <-done, "the old answer serves the request that asked before Forget")
	_, err = tv.VerifyAccessToken(context.Background(), p.MintAccessToken("alice", cognitotest.WithAudience("mobile")))
	require.NoError(t, err, "the old answer was not kept")
	_, err = tv.VerifyAccessToken(context.Background(), p.MintAccessToken("alice"))
	require.ErrorIs(t, err, cognito.ErrInvalidAudience)
	assert.Equal(t, 2, f.dir.callsFor(p.Issuer()))
}

func TestTenantVerifierConfigChanges(t *testing.T) {
	f := newTenantFixture(t, 1)
	p := f.pools[0]
	iss := p.Issuer()
	mobile, err := p.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true})
	require.NoError(t, err)
	const ttl = 10 * time.Minute
	tv := f.verifier(t, cognito.WithTenantTTL(ttl))
	ctx := context.Background()
	verify := func(client string) error {
		_, err := tv.VerifyAccessToken(ctx, p.MintAccessToken("alice", cognitotest.WithAudience(client)))
		return err
	}
	require.NoError(t, verify("client0"))
	require.ErrorIs(t, verify("mobile"), cognito.ErrInvalidAudience)

	// The tenant moves to its mobile client. Until the TTL, the pool is
	// served as it was.
	f.dir.put(iss, p.ClientConfig(mobile))
	f.clock.Advance(ttl - time.Second)
	require.NoError(t, verify("client0"))
	assert.Equal(t, 1, f.dir.totalCalls())
	f.clock.Advance(time.Second)
	assert.ErrorIs(t, verify("client0"), cognito.ErrInvalidAudience, "the new Config, after the TTL")
	assert.NoError(t, verify("mobile"))
	assert.Equal(t, 2, f.dir.totalCalls())
	assert.Equal(t, 2, p.Requests(cognitotest.EndpointJWKS), "a new Config, a new Verifier")

	// The same Config keeps the keys and the verified tokens, even when the
	// check comes from a token in the cache.
	cached := p.MintAccessToken("alice", cognitotest.WithAudience("mobile"))
	_, err = tv.VerifyAccessToken(ctx, cached)
	require.NoError(t, err)
	f.clock.Advance(ttl)
	_, err = tv.VerifyAccessToken(ctx, cached)
	require.NoError(t, err)
	assert.Equal(t, 3, f.dir.totalCalls())
	assert.Equal(t, 2, p.Requests(cognitotest.EndpointJWKS), "the keys are kept")
	_, err = tv.VerifyAccessToken(ctx, cached)
	require.NoError(t, err)
	assert.Equal(t, 3, f.dir.totalCalls(), "for another TTL")

	// A resolver that fails leaves the pool as it was, asked again a minute
	// later.
	f.dir.setFail(errors.New("database is down"))
	f.clock.Advance(ttl)
	require.NoError(t, verify("mobile"))
	require.NoError(t, verify("mobile"))
	assert.Equal(t, 4, f.dir.totalCalls())
	f.clock.Advance(time.Minute)
	require.NoError(t, verify("mobile"))
	assert.Equal(t, 5, f.dir.totalCalls())
	f.dir.setFail(nil)

	// A tenant removed is refused after the TTL, and remembered.
	f.dir.remove(iss)
	f.clock.Advance(ttl)
	assert.ErrorIs(t, verify("mobile"), cognito.ErrInvalidIssuer)
	assert.ErrorIs(t, verify("mobile"), cognito.ErrInvalidIssuer)
	assert.Equal(t, 6, f.dir.totalCalls())
	tenants, _, _ := cognito.TenantCounts(tv)
	assert.Zero(t, tenants)

	// Forget applies a change at once, a refusal included.
	f.dir.put(iss, p.Config())
	tv.Forget(iss)
	require.NoError(t, verify("client0"))
	assert.Equal(t, 7, f.dir.totalCalls())
	f.dir.put(iss, p.ClientConfig(mobile))
	tv.Forget(iss)
	assert.ErrorIs(t, verify("client0"), cognito.ErrInvalidAudience)
	assert.Equal(t, 8, f.dir.totalCalls())
	tv.Forget("https://never.example/seen") // harmless
}

// A Config with no Issuer accepts both of Cognito's issuer forms: one pool,
// one Verifier, one resolve, under either form.
func TestTenantVerifierBothIssuerForms(t *testing.T) {
	clock := newTestClock()
	p := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_Derived1"), cognitotest.WithClock(clock.Now))
	cfg := cognito.Config{UserPoolID: "us-east-1_Derived1", ClientID: p.Config().ClientID, JWKSURL: p.Issuer() + "/.well-known/jwks.json"}
	primary := "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Derived1"
	alt := "https://issuer-cognito-idp.us-east-1.amazonaws.com/us-east-1_Derived1"
	calls := 0
	tv, err := cognito.NewTenantVerifier(func(_ context.Context, iss string) (cognito.Config, error) {
		calls++
		if iss == primary || iss == alt {
			return cfg, nil
		}
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	ctx := context.Background()
	for _, iss := range []string{primary, alt, primary} {
		at, err := tv.VerifyAccessToken(ctx, p.MintAccessToken("alice", cognitotest.WithIssuer(iss)))
		require.NoError(t, err)
		assert.Equal(t, iss, at.Issuer)
	}
	assert.Equal(t, 1, calls)
	assert.Equal(t, 1, p.Requests(cognitotest.EndpointJWKS))
	tenants, _, _ := cognito.TenantCounts(tv)
	assert.Equal(t, 1, tenants)

	tv.Forget(primary)
	_, err = tv.VerifyAccessToken(ctx, p.MintAccessToken("alice", cognitotest.WithIssuer(alt)))
	require.NoError(t, err)
	assert.Equal(t, 2, calls, "Forget drops the pool under both forms")

	// A resolver that names the pool by one form, then by both, leaves one
	// Verifier for it.
	explicit := cfg
	explicit.Issuer = primary
	tv, err = cognito.NewTenantVerifier(func(_ context.Context, iss string) (cognito.Config, error) {
		if iss == primary {
			return explicit, nil
		}
		return cfg, nil
	}, cognito.WithClock(clock.Now))
	require.NoError(t, err)
	for _, iss := range []string{primary, alt, primary} {
		_, err := tv.VerifyAccessToken(ctx, p.MintAccessToken("alice", cognitotest.WithIssuer(iss)))
		require.NoError(t, err)
	}
	tenants, _, _ = cognito.TenantCounts(tv)
	assert.Equal(t, 1, tenants)
}

func TestTenantVerifierMiddlewareAndOptions(t *testing.T) {
	f := newTenantFixture(t, 2)
	a, b := f.pools[0], f.pools[1]
	a.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	b.AddUser(cognitotest.User{Username: "bob", Groups: []string{"users"}})
	list := &cognito.MemoryStore{Now: f.clock.Now}
	hc, sent := countingClient(t)
	var logs bytes.Buffer
	var logMu sync.Mutex
	tv := f.verifier(t,
		cognito.WithHTTPClient(hc),
		cognito.WithLogger(slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))),
		cognito.WithRevocationList(list),
		cognito.WithLeeway(time.Minute),
		cognito.WithCheck(func(_ context.Context, t cognito.VerifiedToken) error {
			if at, ok := t.(*cognito.AccessToken); ok && at.Username == "mallory" {
				return errors.New("mallory is barred")
			}
			return nil
		}))
	h := chain(whoami, cognito.RequireAccessToken(tv), cognito.RequireGroup("admins"))

	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+a.MintAccessToken("alice")).Code)
	assert.Equal(t, http.StatusForbidden, serve(h, "Bearer "+b.MintAccessToken("bob")).Code)
	scoped := chain(whoami, cognito.RequireAccessToken(tv), cognito.RequireAnyScope("notes/write"))
	assert.Equal(t, http.StatusOK, serve(scoped, "Bearer "+b.MintAccessToken("bob", cognitotest.WithClaim("scope", "notes/write"))).Code)
	assert.Equal(t, http.StatusForbidden, serve(scoped, "Bearer "+b.MintAccessToken("bob")).Code)
	assert.Equal(t, int64(2), sent.n.Load(), "each pool's keys, through the given HTTP client")
	logMu.Lock()
	assert.Equal(t, 2, strings.Count(logs.String(), "JWKS fetched"), "and reported to the given logger")
	logMu.Unlock()
	stranger := cognitotest.NewServer(t, cognitotest.WithPoolID("us-east-1_Stranger"))
	rec := serve(h, "Bearer "+stranger.MintAccessToken("alice"))
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`)

	// The options reach every tenant's Verifier: the check, the leeway and
	// the clock, the revocation list.
	_, err := tv.VerifyAccessToken(context.Background(), b.MintAccessToken("mallory"))
	assert.ErrorIs(t, err, cognito.ErrCheckFailed)
	late := b.MintAccessToken("bob", cognitotest.WithExpiry(f.clock.Now().Add(-30*time.Second)))
	_, err = tv.VerifyAccessToken(context.Background(), late)
	assert.NoError(t, err, "within the leeway")
	f.clock.Advance(31 * time.Second)
	_, err = tv.VerifyAccessToken(context.Background(), late)
	assert.ErrorIs(t, err, cognito.ErrTokenExpired, "on the given clock, from the cache too")

	signedIn := a.MintAccessToken("alice", cognitotest.WithClaim("origin_jti", "sign-in-1"))
	assert.Equal(t, http.StatusOK, serve(h, "Bearer "+signedIn).Code)
	require.NoError(t, list.Commit("cognito-revoked:sign-in-1", []byte{1}, f.clock.Now().Add(time.Hour)))
	assert.Equal(t, http.StatusUnauthorized, serve(h, "Bearer "+signedIn).Code, "signed out")
	_, err = tv.VerifyAccessToken(context.Background(), signedIn)
	assert.ErrorIs(t, err, cognito.ErrTokenRevoked)
}

// TestTenantVerifierUnderRequireStepUp: RequireStepUp works behind a
// TenantVerifier as behind a Verifier: each tenant's token is judged on
// the TenantVerifier's clock (the fixture's, years from the wall clock)
// and leeway, and a token short of the step gets RFC 9470's challenge.
func TestTenantVerifierUnderRequireStepUp(t *testing.T) {
	f := newTenantFixture(t, 2)
	tv := f.verifier(t, cognito.WithLeeway(30*time.Second))
	now := f.clock.Now()
	step := cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}, MaxAge: 5 * time.Minute}
	h := chain(whoami, cognito.RequireAccessToken(tv, cognito.WithRealm("api")), cognito.RequireStepUp(step))
	signedIn := func(p *cognitotest.Server, ago time.Duration, level string) string {
		return p.MintAccessToken("alice", cognitotest.WithClaim("auth_time", now.Add(-ago).Unix()), cognitotest.WithClaim("acr", level))
	}
	for i, p := range f.pools {
		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+signedIn(p, time.Minute, "urn:cognito:loa:2")).Code, "tenant %d", i)
		assert.Equal(t, http.StatusOK, serve(h, "Bearer "+signedIn(p, 5*time.Minute+30*time.Second, "urn:cognito:loa:2")).Code,
			"tenant %d: within MaxAge and the leeway", i)
		rec := serve(h, "Bearer "+signedIn(p, 5*time.Minute+31*time.Second, "urn:cognito:loa:2"))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "tenant %d: a second too long ago", i)
		assert.Equal(t, `Bearer realm="api", error="insufficient_user_authentication", error_description="A more recent sign-in is required", acr_values="urn:cognito:loa:2", max_age="300"`,
			rec.Header().Get("WWW-Authenticate"))
		rec = serve(h, "Bearer "+signedIn(p, time.Minute, "urn:cognito:loa:1"))
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "tenant %d: level below", i)
		assert.Contains(t, rec.Header().Get("WWW-Authenticate"), `error_description="A stronger sign-in is required"`)
	}
}

// lockedWriter serialises writes from the goroutines of the verifiers.
type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestNewTenantVerifierRefusals(t *testing.T) {
	calls := 0
	resolve := func(context.Context, string) (cognito.Config, error) {
		calls++
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}
	_, err := cognito.NewTenantVerifier(nil)
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	_, err = cognito.NewTenantVerifier(resolve, cognito.WithClientIDs(""))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig, "a malformed option, found at once")
	_, err = cognito.NewTenantVerifier(resolve, cognito.WithJWKS([]byte(`{"keys":[]}`)))
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	_, err = cognito.NewTenantVerifier(resolve, cognito.WithMaxTenants(0), cognito.WithMaxTenants(-1), cognito.WithTenantTTL(-time.Second))
	assert.NoError(t, err, "out-of-range bounds are ignored")
	assert.Zero(t, calls, "the constructor asks nothing")

	// An out-of-range value leaves the one before it in force.
	f := newTenantFixture(t, 2)
	tv := f.verifier(t, cognito.WithMaxTenants(1), cognito.WithMaxTenants(0), cognito.WithTenantTTL(time.Hour), cognito.WithTenantTTL(0))
	for _, p := range f.pools {
		_, err := tv.VerifyAccessToken(context.Background(), p.MintAccessToken("alice"))
		require.NoError(t, err)
	}
	tenants, _, _ := cognito.TenantCounts(tv)
	assert.Equal(t, 1, tenants)
	f.clock.Advance(cognito.DefaultTenantTTL)
	_, err = tv.VerifyAccessToken(context.Background(), f.pools[1].MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, 2, f.dir.totalCalls(), "an hour's TTL")
	f.clock.Advance(time.Hour)
	_, err = tv.VerifyAccessToken(context.Background(), f.pools[1].MintAccessToken("alice"))
	require.NoError(t, err)
	assert.Equal(t, 3, f.dir.totalCalls())

	var nilTV *cognito.TenantVerifier
	_, err = nilTV.VerifyAccessToken(context.Background(), "x")
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	_, err = nilTV.VerifyIDToken(context.Background(), "x")
	assert.ErrorIs(t, err, cognito.ErrInvalidConfig)
	nilTV.Forget("https://pool.example/x")
	assert.Equal(t, http.StatusInternalServerError, serve(cognito.RequireAccessToken(nilTV)(whoami), "Bearer x").Code)
}

// FuzzTenantVerifyAccessToken feeds any string to a TenantVerifier whose
// one tenant is the fuzz verifier's pool, its keys fetched and its quiet
// period started: it must never panic, accept only the tokens signed for the
// pool, refuse with exactly one sentinel, and never fetch again.
func FuzzTenantVerifyAccessToken(f *testing.F) {
	fz := newFuzzVerifier(f)
	pool := cognito.Config{UserPoolID: cognitotest.DefaultPoolID, ClientID: cognitotest.DefaultClientID, JWKSURL: fz.jwksURL}
	tv, err := cognito.NewTenantVerifier(func(_ context.Context, iss string) (cognito.Config, error) {
		if iss == pool.IssuerURL() {
			return pool, nil
		}
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}, cognito.WithClock(func() time.Time { return fz.now }), cognito.WithMaxTenants(1))
	require.NoError(f, err)
	ctx := context.Background()
	for _, s := range fz.seeds { // fetches the keys, and starts the quiet period with the unknown kid
		_, _ = tv.VerifyAccessToken(ctx, s)
	}
	primed := fz.hits.Load()
	require.Equal(f, fz.primed+2, primed)
	for _, s := range fz.seeds {
		f.Add(s)
	}
	f.Add(unsignedToken(`{"iss":"https://made-up.example/pool"}`))
	f.Add(unsignedToken(`{"iss":"https://user:pw@made-up.example/pool"}`))
	f.Add(unsignedToken(`{"iss":"` + strings.Repeat("a", 600) + `"}`))
	f.Fuzz(func(t *testing.T, raw string) {
		at, err := tv.VerifyAccessToken(ctx, raw)
		switch {
		case err == nil && !fz.goodAccess[raw]:
			t.Fatalf("accepted a token that was never signed: %q", raw)
		case err == nil && at.ClientID != cognitotest.DefaultClientID:
			t.Fatalf("accepted token with claims %+v", at)
		case err != nil:
			checkRefusal(t, err)
			if fz.goodAccess[raw] {
				t.Fatalf("a good access token is refused: %v", err)
			}
		}
		if n := fz.hits.Load(); n != primed {
			t.Fatalf("the pool's JWKS was fetched %d times after priming", n-primed)
		}
	})
}

// BenchmarkVerifyCached compares a verification served from the
// verified-token cache by a pool's Verifier and by a TenantVerifier that
// holds the pool among three, one goroutine at a time and in parallel.
func BenchmarkVerifyCached(b *testing.B) {
	clock := newTestClock()
	dir := &tenantDirectory{byIss: map[string]cognito.Config{}, calls: map[string]int{}}
	var pools []*cognitotest.Server
	for i := range 3 {
		p := cognitotest.NewServer(b, cognitotest.WithClock(clock.Now), cognitotest.WithPoolID(fmt.Sprintf("us-east-1_Bench%d", i)))
		dir.put(p.Issuer(), p.Config())
		pools = append(pools, p)
	}
	v, err := cognito.NewVerifier(pools[0].Config(), cognito.WithClock(clock.Now))
	require.NoError(b, err)
	tv, err := cognito.NewTenantVerifier(dir.resolve, cognito.WithClock(clock.Now))
	require.NoError(b, err)
	ctx := context.Background()
	for _, p := range pools[1:] {
		_, err := tv.VerifyAccessToken(ctx, p.MintAccessToken("bob"))
		require.NoError(b, err)
	}
	tok := pools[0].MintAccessToken("alice")
	for _, x := range []cognito.AccessTokenVerifier{v, tv} {
		_, err := x.VerifyAccessToken(ctx, tok)
		require.NoError(b, err)
	}
	for _, bc := range []struct {
		name string
		v    cognito.AccessTokenVerifier
	}{{"Verifier", v}, {"TenantVerifier", tv}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bc.v.VerifyAccessToken(ctx, tok); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(bc.name+"/parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := bc.v.VerifyAccessToken(ctx, tok); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
