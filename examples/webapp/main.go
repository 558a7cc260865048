// Command webapp is a small server-rendered web app that signs users in
// through a Cognito user pool's hosted UI with cognitokit's Sessions: a home
// page, sign-in, the callback, a page of the ID token's claims (tokens
// refreshed shortly before they expire), an API route behind
// cognito.RequireAccessToken, and sign-out. The tokens stay on the server,
// under an opaque session cookie; the profile page hands the access token to
// its script, to show a call to the API with it.
//
// With no configuration it starts a fake user pool (cognitotest) on loopback
// with a demo user, whose name and password it prints:
//
//	go run ./examples/webapp
//
// With COGNITO_* environment variables it runs against a real user pool, and
// with -redis URL (or COGNITO_REDIS_URL) it keeps its sessions and the
// revocation list in Redis, shared with other replicas; see README.md beside
// this file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
	"github.com/cognitokit/cognito/redisstore"
)

// The demo user of the embedded fake pool.
const (
	demoUsername = "demo"
	demoPassword = "demo-password"
	demoEmail    = "demo@example.com"
)

// demoTokenLifetime is the fake pool's ID and access token lifetime: the
// shortest Cognito allows, so that a refresh is seen within minutes.
const demoTokenLifetime = 5 * time.Minute

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	redisURL := flag.String("redis", os.Getenv("COGNITO_REDIS_URL"),
		"Redis URL (redis://host:port/db) for sessions and the revocation list, shared with other replicas; default $COGNITO_REDIS_URL, else in memory")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *redisURL, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "webapp:", err)
		os.Exit(1)
	}
}

// run serves the app on addr until ctx ends, with its sessions in Redis at
// redisURL, or in memory when it is "". It prints the URL it listens on as
// the last line of its start-up output: "webapp: listening on <URL>".
func run(ctx context.Context, addr, redisURL string, getenv func(string) string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return serve(ctx, ln, displayAddr(addr, ln.Addr()), redisURL, getenv, out)
}

// serve is run on a listener of the caller's: the app's URL is
// http://<host>, where host is the listener's address as a browser reaches it.
// extra options go to newApp after the ones serve sets.
func serve(ctx context.Context, ln net.Listener, host, redisURL string, getenv func(string) string, out io.Writer, extra ...appOption) error {
	defer ln.Close()
	appURL := "http://" + host
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	opts := []appOption{withLogger(logger)}
	if redisURL != "" {
		store, err := openRedis(ctx, redisURL, out)
		if err != nil {
			return err
		}
		defer store.Close()
		opts = append(opts, withStore(store))
	}

	cfg, fromEnv := configFromEnv(getenv)
	emulator, err := emulatorFromEnv(getenv, cfg, fromEnv)
	if err != nil {
		return err
	}
	if fromEnv {
		if cfg.RedirectURI == "" {
			cfg.RedirectURI = appURL + "/callback"
		}
		if cfg.LogoutURI == "" {
			cfg.LogoutURI = appURL + "/"
		}
		fmt.Fprintf(out, "webapp: user pool %s, app client %s\n", cfg.UserPoolID, cfg.ClientID)
		// Cookies are shared by every port of a host, so only the host matters.
		if cb, err := url.Parse(cfg.RedirectURI); err == nil && cb.Hostname() != hostname(host) {
			fmt.Fprintf(out, "webapp: open %s/ (the origin of COGNITO_REDIRECT_URI), so that the login cookie comes back with the callback\n", origin(cfg.RedirectURI))
		}
	} else {
		pool, err := cognitotest.Start(
			cognitotest.WithRedirectURI(appURL+"/callback"),
			cognitotest.WithLogoutURI(appURL+"/"),
			cognitotest.WithTokenLifetimes(demoTokenLifetime, 0),
		)
		if err != nil {
			return err
		}
		defer pool.Close()
		pool.AddUser(cognitotest.User{
			Username: demoUsername, Password: demoPassword, Email: demoEmail, EmailVerified: true,
			Name: "Demo User", Groups: []string{"demo-users"},
			// A sign-in that asks for a level (the security settings page's
			// step-up) reaches level 2, as a user with MFA would.
			ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"},
		})
		cfg = pool.Config()
		fmt.Fprintf(out, "webapp: no COGNITO_* variables set: using a fake user pool (cognitotest) at %s\n", pool.URL())
		fmt.Fprintf(out, "webapp: sign in as %q with password %q (email %s); tokens expire after %s\n",
			demoUsername, demoPassword, demoEmail, demoTokenLifetime)
		if redisURL != "" {
			fmt.Fprintf(out, "webapp: another replica on this pool and Redis: %s\n", replicaCommand(cfg, redisURL, host))
		}
	}

	if emulator {
		fmt.Fprintln(out, "webapp: COGNITO_EMULATOR=1: ID tokens without a nonce are accepted, and sign-out skips the hosted UI's /logout (a failed revocation is only logged); never set it for a real user pool")
		opts = append(opts, withEmulator())
	}
	h, err := newApp(cfg, append(opts, extra...)...)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(out, "webapp: listening on %s\n", appURL)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// openRedis opens the Redis store at redisURL and says where it is. A Redis
// that does not answer yet is no reason not to start: requests that need it
// answer 503 until it does.
func openRedis(ctx context.Context, redisURL string, out io.Writer) (*redisstore.Store, error) {
	store, err := redisstore.Open(redisURL)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(out, "webapp: sessions and the revocation list in Redis at %s\n", redacted(redisURL))
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := store.Client().Ping(pingCtx).Err(); err != nil {
		fmt.Fprintf(out, "webapp: Redis does not answer yet (%v); pages and the API answer 503 until it does\n", err)
	}
	return store, nil
}

// replicaCommand is the shell command that starts another replica of this
// app, which listens on host, on the embedded fake pool cfg and the same
// Redis, on the next port of the same host. Its callback and sign-out URLs
// are this replica's, the only ones the fake pool allows; a browser shares
// cookies across the ports of a host, so a sign-in started on either replica
// finishes on this one and is seen by both.
func replicaCommand(cfg cognito.Config, redisURL, host string) string {
	addr := "127.0.0.1:0"
	if h, p, err := net.SplitHostPort(host); err == nil {
		if n, err := strconv.Atoi(p); err == nil && n > 0 && n < 65535 {
			addr = net.JoinHostPort(h, strconv.Itoa(n+1))
		}
	}
	vars := []string{
		"COGNITO_USER_POOL_ID=" + cfg.UserPoolID,
		"COGNITO_CLIENT_ID=" + cfg.ClientID,
		"COGNITO_CLIENT_SECRET=" + cfg.ClientSecret,
		"COGNITO_DOMAIN=" + cfg.Domain,
		"COGNITO_ISSUER=" + cfg.Issuer,
		"COGNITO_REDIRECT_URI=" + cfg.RedirectURI,
		"COGNITO_LOGOUT_URI=" + cfg.LogoutURI,
		"COGNITO_REDIS_URL=" + redacted(redisURL),
	}
	return strings.Join(vars, " ") + " go run ./examples/webapp -addr " + addr
}

// redacted is a URL (Redis's, the hosted UI's) with its password, if any,
// replaced by "xxxxx", for messages. A URL that does not parse, or has user
// info where url.Parse finds no host (a bare "user:password@host"), is not
// shown at all.
func redacted(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Host == "" && strings.Contains(rawURL, "@")) {
		return "(malformed)"
	}
	return u.Redacted()
}

// hostname is the host of a host:port.
func hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return hostport
}

// displayAddr is the listener's address as a browser can reach it: a host
// name given in addr ("localhost:8080") is kept, since Cognito allows plain
// http callbacks only to localhost, and an unspecified host (":8080",
// "0.0.0.0:8080") becomes localhost.
func displayAddr(addr string, a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if name, _, err := net.SplitHostPort(addr); err == nil && name != "" && net.ParseIP(name) == nil {
		host = name
	} else if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// configFromEnv reads a real user pool's configuration from COGNITO_*
// variables, and reports whether any of them is set.
func configFromEnv(getenv func(string) string) (cognito.Config, bool) {
	cfg := cognito.Config{
		Region:       getenv("COGNITO_REGION"),
		UserPoolID:   getenv("COGNITO_USER_POOL_ID"),
		ClientID:     getenv("COGNITO_CLIENT_ID"),
		ClientSecret: getenv("COGNITO_CLIENT_SECRET"),
		Domain:       getenv("COGNITO_DOMAIN"),
		RedirectURI:  getenv("COGNITO_REDIRECT_URI"),
		LogoutURI:    getenv("COGNITO_LOGOUT_URI"),
		Issuer:       getenv("COGNITO_ISSUER"),
	}
	set := cfg.Region != "" || cfg.UserPoolID != "" || cfg.ClientID != "" || cfg.ClientSecret != "" ||
		cfg.Domain != "" || cfg.RedirectURI != "" || cfg.LogoutURI != "" || cfg.Issuer != ""
	return cfg, set
}

// emulatorFromEnv reads COGNITO_EMULATOR: "1" runs the app against a local
// emulator such as cognito-local (cognito.LoginFlow.InsecureEmulator), which
// needs COGNITO_DOMAIN to be a loopback URL.
func emulatorFromEnv(getenv func(string) string, cfg cognito.Config, fromEnv bool) (bool, error) {
	switch getenv("COGNITO_EMULATOR") {
	case "", "0":
		return false, nil
	case "1":
	default:
		return false, errors.New("COGNITO_EMULATOR must be 1 (an emulator such as cognito-local) or unset")
	}
	if !fromEnv {
		return false, errors.New("COGNITO_EMULATOR=1 needs the emulator's COGNITO_* variables (COGNITO_DOMAIN, COGNITO_USER_POOL_ID, COGNITO_ISSUER, COGNITO_CLIENT_ID)")
	}
	u, err := url.Parse(cfg.Domain)
	if err != nil || u.Scheme == "" || !isLoopback(u.Hostname()) {
		return false, fmt.Errorf("COGNITO_EMULATOR=1 is refused: COGNITO_DOMAIN %q is not a loopback URL such as http://127.0.0.1:9229; a real user pool never runs with it", redacted(cfg.Domain))
	}
	return true, nil
}

// isLoopback reports whether host is localhost or a loopback IP address.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
