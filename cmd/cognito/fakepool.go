package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/internal/safetext"
)

// Defaults of cognito fake-pool.
const (
	// DefaultFakePoolAddr is where fake-pool listens: a fixed port, so that
	// the printed variables stay the same from one run to the next.
	DefaultFakePoolAddr = "127.0.0.1:9339"
	demoUser            = "demo"
	demoPassword        = "demo-password"
)

// Cognito's limits on an app client's token lifetimes and retry grace
// period. Fake-pool refuses more; it allows less, down to a second, so that
// a refresh can be watched without waiting Cognito's minimum.
const (
	maxTokenLifetime        = 24 * time.Hour        // ID and access tokens (Cognito's minimum: 5 minutes)
	maxRefreshTokenLifetime = 3650 * 24 * time.Hour // 10 years (Cognito's minimum: 1 hour)
	maxRetryGracePeriod     = cognitotest.MaxRetryGracePeriod
)

// defaultRedirectURIs are the callback URLs fake-pool's app client allows
// besides those of --redirect-uri: cognito login's default, and
// examples/webapp's on its default address.
var defaultRedirectURIs = []string{
	"http://localhost:" + strconv.Itoa(DefaultLoginPort) + "/callback",
	"http://127.0.0.1:8080/callback",
	"http://localhost:8080/callback",
}

func runFakePool(ctx context.Context, e *env, args []string) error {
	s := newSettings("fake-pool", "[--addr HOST:PORT] [--pool ID] [--user NAME:PASSWORD[:GROUP,...]...] [--client ID...]\n"+
		"                         [--secret S | --public] [--redirect-uri URL...] [--scope S...]\n"+
		"                         [--token-lifetime D] [--refresh-token-lifetime D] [--rotate-refresh-tokens [--retry-grace-period D]]",
		"Fake-pool runs a fake user pool (cognitokit's cognitotest) on a loopback\n"+
			"address until interrupted: the hosted UI's sign-in form, the token, revoke\n"+
			"and userInfo endpoints, /logout, the JWKS and the discovery document. It\n"+
			"first prints, one a line, the COGNITO_* variables that point an app, or the\n"+
			"other verbs of this command, at it. With no --user it adds a demo user and\n"+
			"says its password on standard error.\n\n"+
			"Its app client allows the callback URLs http://localhost:8484/callback\n"+
			"(cognito login), http://127.0.0.1:8080/callback and\n"+
			"http://localhost:8080/callback (examples/webapp), those of --redirect-uri,\n"+
			"and the origin (\"http://host:port/\") of each as a sign-out URL. It does\n"+
			"not read the COGNITO_* variables: it makes a pool rather than using one.\n\n"+
			"Tokens last as Cognito's do by default (ID and access tokens 1h, refresh\n"+
			"tokens 30 days); the lifetime flags take Go durations (90s, 5m, 720h), in\n"+
			"whole seconds, up to Cognito's limits (24h; 87600h, 10 years), and below\n"+
			"its minimums too, so that a refresh can be watched without waiting.\n"+
			"Every request to the token endpoint gets one line on standard error: its\n"+
			"grant_type, client_id, the answer's status and, if refused, the error;\n"+
			"never a code, a token or a secret.",
		"  cognito fake-pool --user alice:secret1:admins > pool.env &\n"+
			"  set -a; . ./pool.env; set +a\n"+
			"  go run ./examples/webapp\n\n"+
			"  # two replicas refreshing one session: short tokens, rotation, a grace period\n"+
			"  cognito fake-pool --token-lifetime 2m --rotate-refresh-tokens --retry-grace-period 10s")
	addr := s.fs.String("addr", DefaultFakePoolAddr, "loopback `HOST:PORT` to listen on; port 0 picks a free one")
	var users, redirects list
	s.fs.Func("user", "a user `NAME:PASSWORD[:GROUP,...]`; repeatable (the password may not contain \":\")", func(v string) error {
		users = append(users, v)
		return nil
	})
	s.fs.Var(&s.clients, "client", "an app client `ID`; repeatable: the first is COGNITO_CLIENT_ID, the others are more app clients with the same settings")
	s.fs.StringVar(&s.secret, "secret", cognitotest.DefaultClientSecret, "the app client's `secret`")
	public := s.fs.Bool("public", false, "make the app client public: no secret, PKCE required")
	s.fs.StringVar(&s.pool, "pool", cognitotest.DefaultPoolID, "the user pool `ID`")
	s.fs.Var(&redirects, "redirect-uri", "another callback `URL` to allow; repeatable")
	s.scopeFlag("a resource-server `scope` to allow, such as orders/read, for cognito token; repeatable")
	tokenLifetime := s.fs.Duration("token-lifetime", cognitotest.DefaultTokenLifetime, "how long ID and access tokens last: a `D`uration such as 5m (Cognito allows 5m to 24h)")
	refreshLifetime := s.fs.Duration("refresh-token-lifetime", cognitotest.DefaultRefreshLifetime, "how long refresh tokens last: a `D`uration such as 720h (Cognito allows 1h to 87600h)")
	rotate := s.fs.Bool("rotate-refresh-tokens", false, "make every refresh return a new refresh token and invalidate the one it spent, as Cognito's refresh token rotation does")
	grace := s.fs.Duration("retry-grace-period", 0, "with --rotate-refresh-tokens, how long a spent refresh token keeps working: a `D`uration from 0 to 60s, as in Cognito")
	s.noEnv = true // fake-pool makes a pool: the COGNITO_* variables describe one to use
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("takes no arguments, got %q", pos[0])
	}
	if err := checkLifetimes(s.set, *tokenLifetime, *refreshLifetime, *rotate, *grace); err != nil {
		return err
	}
	stderr := &lockedWriter{w: e.stderr} // the pool logs from its handlers' goroutines

	opts := []cognitotest.Option{
		cognitotest.WithAddr(*addr), cognitotest.WithPoolID(s.pool), cognitotest.WithClock(e.now),
		cognitotest.WithTokenLifetimes(*tokenLifetime, *refreshLifetime),
		cognitotest.WithRefreshTokenRotation(*rotate), cognitotest.WithRetryGracePeriod(*grace),
		cognitotest.WithLogger(tokenLogger(stderr)),
	}
	if len(s.clients) > 0 {
		opts = append(opts, cognitotest.WithClientID(s.clients[0]))
	}
	if *public {
		if s.set["secret"] {
			return usagef("--public and --secret contradict each other")
		}
		opts = append(opts, cognitotest.WithPublicClient())
	} else {
		if s.secret == "" {
			return usagef("--secret must not be empty (use --public for a client without one)")
		}
		opts = append(opts, cognitotest.WithClientSecret(s.secret))
	}
	uris := slices.Concat(defaultRedirectURIs, redirects)
	for _, u := range redirects {
		if p, err := url.Parse(u); err != nil || p.Scheme == "" || p.Host == "" || p.Fragment != "" {
			return usagef("--redirect-uri %q is not an absolute URL without a fragment", safetext.URL(u))
		}
	}
	var logouts []string
	for _, u := range uris {
		p, _ := url.Parse(u)
		if o := p.Scheme + "://" + p.Host + "/"; !slices.Contains(logouts, o) {
			logouts = append(logouts, o)
		}
	}
	opts = append(opts, cognitotest.WithRedirectURI(uris...), cognitotest.WithLogoutURI(logouts...))
	if len(s.scopes) > 0 {
		opts = append(opts, cognitotest.WithAllowedScopes(slices.Concat(cognitotest.DefaultScopes, s.scopes)...))
	}

	var added []cognitotest.User
	for _, spec := range users {
		u, err := parseUser(spec)
		if err != nil {
			return err
		}
		added = append(added, u)
	}
	demo := len(added) == 0
	if demo {
		added = append(added, cognitotest.User{Username: demoUser, Password: demoPassword,
			Email: demoUser + "@example.com", EmailVerified: true, Name: "Demo User"})
	}

	pool, err := cognitotest.Start(opts...)
	if err != nil {
		return usagef("%s", strings.TrimPrefix(errorLine(err), "cognitotest: "))
	}
	defer pool.Close()
	for _, u := range added {
		pool.AddUser(u)
	}
	var extra []cognitotest.AppClient
	for _, id := range s.clients[min(1, len(s.clients)):] {
		c := cognitotest.AppClient{ClientID: id, Public: *public, RedirectURIs: uris, LogoutURIs: logouts, Scopes: pool.Clients()[0].Scopes}
		if !*public {
			c.ClientSecret = s.secret
		}
		if _, err := pool.AddClient(c); err != nil {
			return usagef("--client %q: %s", id, strings.TrimPrefix(errorLine(err), "cognitotest: "))
		}
		extra = append(extra, c)
	}
	cfg := pool.Config()
	fmt.Fprintf(e.stdout, "COGNITO_USER_POOL_ID=%s\n", cfg.UserPoolID)
	fmt.Fprintf(e.stdout, "COGNITO_CLIENT_ID=%s\n", cfg.ClientID)
	if cfg.ClientSecret != "" {
		fmt.Fprintf(e.stdout, "COGNITO_CLIENT_SECRET=%s\n", cfg.ClientSecret)
	}
	fmt.Fprintf(e.stdout, "COGNITO_DOMAIN=%s\n", cfg.Domain)
	fmt.Fprintf(e.stdout, "COGNITO_ISSUER=%s\n", cfg.Issuer)
	if f, ok := e.stdout.(interface{ Sync() error }); ok {
		f.Sync() //nolint:errcheck // a pipe cannot sync; the lines are written either way
	}

	fmt.Fprintf(stderr, "fake-pool: a fake user pool (cognitotest) at %s; test users only\n", pool.URL())
	if demo {
		fmt.Fprintf(stderr, "fake-pool: sign in as %q with password %q\n", demoUser, demoPassword)
	} else {
		for _, u := range added {
			fmt.Fprintf(stderr, "fake-pool: user %q\n", u.Username)
		}
	}
	for _, c := range extra {
		fmt.Fprintf(stderr, "fake-pool: another app client %s, with the same secret and callback URLs\n", c.ClientID)
	}
	fmt.Fprintf(stderr, "fake-pool: callback URLs %s\n", strings.Join(uris, " "))
	fmt.Fprintf(stderr, "fake-pool: %s\n", lifetimes(*tokenLifetime, *refreshLifetime, *rotate, *grace))
	fmt.Fprintln(stderr, "fake-pool: serving until interrupted (Ctrl-C)")
	<-ctx.Done()
	pool.Close() // before the last line: no token request is logged after it
	fmt.Fprintln(stderr, "fake-pool: stopped")
	return nil
}

// parseUser parses NAME:PASSWORD[:GROUP,...]. The email is NAME when it
// holds an @, NAME@example.com otherwise.
func parseUser(spec string) (cognitotest.User, error) {
	parts := strings.SplitN(spec, ":", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return cognitotest.User{}, usagef("--user %q is not NAME:PASSWORD[:GROUP,...]", strings.SplitN(spec, ":", 2)[0]+":...")
	}
	u := cognitotest.User{Username: parts[0], Password: parts[1], Email: parts[0], EmailVerified: true}
	if !strings.Contains(u.Email, "@") {
		u.Email += "@example.com"
	}
	if len(parts) == 3 {
		for _, g := range strings.Split(parts[2], ",") {
			if g = strings.TrimSpace(g); g != "" {
				u.Groups = append(u.Groups, g)
			}
		}
	}
	return u, nil
}

// checkLifetimes refuses a lifetime that is not positive, a negative grace
// period, either over Cognito's limit or in fractions of a second (tokens
// count whole seconds), refresh tokens that do not outlive the tokens they
// renew, and a grace period without rotation, where it means nothing.
func checkLifetimes(set map[string]bool, token, refresh time.Duration, rotate bool, grace time.Duration) error {
	for _, f := range []struct {
		flag  string
		d     time.Duration
		zero  bool // 0 is allowed
		limit time.Duration
	}{
		{"token-lifetime", token, false, maxTokenLifetime},
		{"refresh-token-lifetime", refresh, false, maxRefreshTokenLifetime},
		{"retry-grace-period", grace, true, maxRetryGracePeriod},
	} {
		switch {
		case f.d < 0 && f.zero:
			return usagef("--%s %s must not be negative", f.flag, f.d)
		case f.d <= 0 && !f.zero:
			return usagef("--%s %s must be positive", f.flag, f.d)
		case f.d%time.Second != 0:
			return usagef("--%s %s is not a whole number of seconds, as tokens count them", f.flag, f.d)
		case f.d > f.limit:
			return usagef("--%s %s is over Cognito's limit of %s", f.flag, shortDuration(f.d), shortDuration(f.limit))
		}
	}
	if refresh <= token {
		return usagef("--refresh-token-lifetime (%s) must be longer than --token-lifetime (%s): refresh tokens outlive the tokens they renew",
			shortDuration(refresh), shortDuration(token))
	}
	if set["retry-grace-period"] && !rotate {
		return usagef("--retry-grace-period needs --rotate-refresh-tokens: without rotation a refresh token stays valid, and there is no spent one to retry")
	}
	return nil
}

// lifetimes says how long the pool's tokens last, for its start-up lines.
func lifetimes(token, refresh time.Duration, rotate bool, grace time.Duration) string {
	msg := fmt.Sprintf("ID and access tokens last %s, refresh tokens %s", shortDuration(token), shortDuration(refresh))
	switch {
	case rotate && grace > 0:
		msg += fmt.Sprintf("; refresh tokens rotate, and a spent one works %s more", shortDuration(grace))
	case rotate:
		msg += "; refresh tokens rotate, and a spent one is refused at once"
	}
	return msg
}

// shortDuration is d without its zero minutes and seconds: 1h, 720h, 1h30m, 90s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// tokenLogger writes the pool's log of token requests to w, one line each,
// after "fake-pool: ", as logfmt without time or level.
func tokenLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(&prefixWriter{w: w, prefix: "fake-pool: "}, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		},
	}))
}

// prefixWriter writes prefix before each Write, which slog's handlers make
// once per line.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	if _, err := p.w.Write(append([]byte(p.prefix), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// lockedWriter serialises writes to w from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
