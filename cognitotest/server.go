package cognitotest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cognitokit/cognito"
)

// Server is a fake Cognito user pool with one app client, listening on a
// loopback address. Its methods are safe for concurrent use.
type Server struct {
	// settings are fixed once started, but for the server's own client's
	// redirectURIs and logoutURIs, which SetRedirectURIs and SetLogoutURIs
	// replace (never change in place) under mu.
	settings

	tb     testing.TB // nil for servers made by Start
	url    string
	srv    *http.Server
	closed chan struct{}
	faults faults
	keys   keyring

	mu       sync.Mutex
	shutdown bool
	inflight sync.WaitGroup
	users    map[string]User
	signInAs string
	codes    map[string]*authCode
	refresh  map[string]*refreshGrant
	sessions map[string]*session   // by origin_jti
	clients  map[string]*appClient // AddClient's, by ID; the server's own is in settings
}

// NewServer starts a fake user pool on a free port of 127.0.0.1 and closes it
// when the test ends. It fails the test if the options are invalid.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := Start(opts...)
	if err != nil {
		tb.Fatal(err)
		return nil
	}
	s.tb = tb
	tb.Cleanup(s.Close)
	return s
}

// Start starts a fake user pool for a program, such as an example app that
// embeds one, on a free port of 127.0.0.1 or the loopback address of WithAddr.
// The caller stops it with Close.
func Start(opts ...Option) (*Server, error) {
	st := newSettings(opts)
	if err := st.validate(); err != nil {
		return nil, err
	}
	ln, err := listenLoopback(st.addr)
	if err != nil {
		return nil, err
	}
	s := &Server{
		settings: st,
		url:      "http://" + ln.Addr().String(),
		closed:   make(chan struct{}),
		users:    map[string]User{},
		codes:    map[string]*authCode{},
		refresh:  map[string]*refreshGrant{},
		sessions: map[string]*session{},
		clients:  map[string]*appClient{},
	}
	if err := s.keys.init(); err != nil {
		ln.Close()
		return nil, err
	}
	s.srv = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed after Close
	return s, nil
}

// Close stops the server: it closes the listener and every connection, ends
// the requests held by a Failure's Delay, Hang or Trickle, and waits for the
// handlers to return. Calling it again does nothing.
func (s *Server) Close() {
	s.mu.Lock()
	if s.shutdown {
		s.mu.Unlock()
		return
	}
	s.shutdown = true
	s.mu.Unlock()

	s.srv.Close()
	close(s.closed)
	s.inflight.Wait()
}

// URL is the base URL of the hosted UI endpoints, such as
// "http://127.0.0.1:41234", with no trailing slash.
func (s *Server) URL() string { return s.url }

// Issuer is the iss of the pool's tokens: URL()+"/"+poolID. The JWKS is at
// Issuer()+"/.well-known/jwks.json".
func (s *Server) Issuer() string { return s.url + "/" + s.poolID }

// Config is a cognito.Config for the pool's app client: Domain is URL(),
// Issuer is Issuer(), RedirectURI and LogoutURI are the first allowed ones.
// JWKSURL and Scopes are left to their defaults.
func (s *Server) Config() cognito.Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	cfg := cognito.Config{
		UserPoolID:   s.poolID,
		ClientID:     s.clientID,
		ClientSecret: s.clientSecret,
		Domain:       s.url,
		RedirectURI:  s.redirectURIs[0],
		Issuer:       s.Issuer(),
	}
	if len(s.logoutURIs) > 0 {
		cfg.LogoutURI = s.logoutURIs[0]
	}
	return cfg
}

func (s *Server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/oauth2/authorize", s.endpoint(EndpointAuthorize, s.serveAuthorize))
	mux.Handle("/login", s.endpoint(EndpointLogin, s.serveLogin))
	mux.Handle("/logout", s.endpoint(EndpointLogout, s.serveLogout))
	mux.Handle("/oauth2/token", s.endpoint(EndpointToken, s.serveToken))
	mux.Handle("/oauth2/revoke", s.endpoint(EndpointRevoke, s.serveRevoke))
	mux.Handle("/oauth2/userInfo", s.endpoint(EndpointUserInfo, s.serveUserInfo))
	mux.Handle("/"+s.poolID+"/.well-known/jwks.json", s.endpoint(EndpointJWKS, s.serveJWKS))
	mux.Handle("/"+s.poolID+"/.well-known/openid-configuration", s.endpoint(EndpointDiscovery, s.serveDiscovery))
	return mux
}

// endpoint counts the requests to ep, lets a pending Failure answer instead
// of h, keeps Close waiting until the handler returns, and logs what the
// token endpoint answered (WithLogger).
func (s *Server) endpoint(ep Endpoint, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if s.shutdown {
			s.mu.Unlock()
			http.Error(w, "cognitotest: server closed", http.StatusServiceUnavailable)
			return
		}
		s.inflight.Add(1)
		s.mu.Unlock()
		defer s.inflight.Done()

		if ep == EndpointToken && s.logger != nil {
			rec := &answerRecorder{ResponseWriter: w}
			defer s.logTokenRequest(r, rec)
			w = rec
		}
		if f, ok := s.faults.next(ep); ok && !s.inject(w, r, ep, f) {
			return
		}
		h(w, r)
	})
}

func (s *Server) now() time.Time { return s.clock() }

var (
	poolIDPattern   = regexp.MustCompile(`^[0-9A-Za-z-]+_[0-9A-Za-z]+$`)
	clientIDPattern = regexp.MustCompile(`^[\w+]+$`)
)

func (st settings) validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("cognitotest: "+format, args...)) }
	if !poolIDPattern.MatchString(st.poolID) {
		bad("pool ID %q is not of the form <region>_<id>", st.poolID)
	}
	if !clientIDPattern.MatchString(st.clientID) {
		bad("client ID %q is empty or not alphanumeric", st.clientID)
	}
	if st.retryGrace < 0 || st.retryGrace > MaxRetryGracePeriod {
		bad("retry grace period %s is outside 0 to %s", st.retryGrace, MaxRetryGracePeriod)
	}
	if len(st.redirectURIs) == 0 {
		bad("no redirect URI is allowed")
	}
	for _, u := range slices.Concat(st.redirectURIs, st.logoutURIs) {
		if !validURI(u) {
			bad("redirect or logout URI %q is not an absolute URL without fragment", u)
		}
	}
	for _, sc := range st.scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			bad("scope %q is empty or has a space, quote or backslash", sc)
		}
	}
	return errors.Join(errs...)
}

// validURI reports whether u may be a callback or sign-out URL: absolute,
// without a fragment (RFC 6749 section 3.1.2).
func validURI(u string) bool {
	p, err := url.Parse(u)
	return err == nil && p.Scheme != "" && p.Fragment == ""
}

// listenLoopback listens on addr, refusing any host but a loopback one so
// that a fake pool is never reachable from another machine.
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("cognitotest: listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("cognitotest: listen address %q is not a loopback address", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		return nil, fmt.Errorf("cognitotest: %w", err)
	}
	return ln, nil
}
