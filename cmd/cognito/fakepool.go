package main

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

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

// defaultRedirectURIs are the callback URLs fake-pool's app client allows
// besides those of --redirect-uri: cognito login's default, and
// examples/webapp's on its default address.
var defaultRedirectURIs = []string{
	"http://localhost:" + strconv.Itoa(DefaultLoginPort) + "/callback",
	"http://127.0.0.1:8080/callback",
	"http://localhost:8080/callback",
}

func runFakePool(ctx context.Context, e *env, args []string) error {
	s := newSettings("fake-pool", "[--addr HOST:PORT] [--user NAME:PASSWORD[:GROUP,...]...] [--client ID...] [--secret S | --public]",
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
			"not read the COGNITO_* variables: it makes a pool rather than using one.",
		"  cognito fake-pool --user alice:secret1:admins > pool.env &\n"+
			"  set -a; . ./pool.env; set +a\n"+
			"  go run ./examples/webapp")
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
	s.noEnv = true // fake-pool makes a pool: the COGNITO_* variables describe one to use
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("takes no arguments, got %q", pos[0])
	}

	opts := []cognitotest.Option{cognitotest.WithAddr(*addr), cognitotest.WithPoolID(s.pool)}
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

	fmt.Fprintf(e.stderr, "fake-pool: a fake user pool (cognitotest) at %s; test users only\n", pool.URL())
	if demo {
		fmt.Fprintf(e.stderr, "fake-pool: sign in as %q with password %q\n", demoUser, demoPassword)
	} else {
		for _, u := range added {
			fmt.Fprintf(e.stderr, "fake-pool: user %q\n", u.Username)
		}
	}
	for _, c := range extra {
		fmt.Fprintf(e.stderr, "fake-pool: another app client %s, with the same secret and callback URLs\n", c.ClientID)
	}
	fmt.Fprintf(e.stderr, "fake-pool: callback URLs %s\n", strings.Join(uris, " "))
	fmt.Fprintln(e.stderr, "fake-pool: serving until interrupted (Ctrl-C)")
	<-ctx.Done()
	fmt.Fprintln(e.stderr, "fake-pool: stopped")
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
