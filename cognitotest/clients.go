package cognitotest

import (
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cognitokit/cognito"
)

// AppClient is an app client of the fake pool. Besides the one the options of
// NewServer describe, a pool may have any number, as a Cognito pool has a web
// client, a mobile client and M2M clients side by side; each has its own
// secret (or none), callback URLs and allowed scopes, and its tokens name it
// in aud or client_id.
type AppClient struct {
	ClientID     string   // 26 random lowercase alphanumerics when empty, as Cognito's
	ClientSecret string   // random when empty, unless Public
	Public       bool     // no secret: the token endpoint refuses one, PKCE is required, client_credentials is not allowed
	RedirectURIs []string // callback URLs; default DefaultRedirectURI
	LogoutURIs   []string // sign-out URLs; default DefaultLogoutURI
	// Scopes the client may request; default DefaultScopes. Resource-server
	// scopes ("orders/read", a resource server's identifier, a slash and a
	// scope name) are the only ones the client_credentials grant issues, as
	// in Cognito.
	Scopes []string
}

// appClient is an app client as the server keeps it.
type appClient struct {
	id, secret   string
	redirectURIs []string
	logoutURIs   []string
	scopes       []string
	pkce         *bool // nil: required for a public client only
}

func (c *appClient) pkceRequired() bool {
	if c.pkce != nil {
		return *c.pkce
	}
	return c.secret == ""
}

// resourceScopes are the client's scopes that the client_credentials grant
// may issue.
func (c *appClient) resourceScopes() []string {
	return slices.DeleteFunc(slices.Clone(c.scopes), func(sc string) bool { return !strings.Contains(sc, "/") })
}

func (c *appClient) export() AppClient {
	return AppClient{
		ClientID: c.id, ClientSecret: c.secret, Public: c.secret == "",
		RedirectURIs: slices.Clone(c.redirectURIs), LogoutURIs: slices.Clone(c.logoutURIs),
		Scopes: slices.Clone(c.scopes),
	}
}

// AddClient adds the app client c to the pool, or replaces the one with the
// same ClientID, and returns it as stored, with the ID and secret it was
// given. It fails on a malformed ID, URL or scope, and refuses to replace the
// client the server was started with.
func (s *Server) AddClient(c AppClient) (AppClient, error) {
	if c.ClientID == "" {
		c.ClientID = randomString(26)
	}
	if c.ClientSecret == "" && !c.Public {
		c.ClientSecret = randomString(52)
	}
	if c.Public && c.ClientSecret != "" {
		return AppClient{}, errors.New("cognitotest: a Public app client has no ClientSecret")
	}
	if len(c.RedirectURIs) == 0 {
		c.RedirectURIs = []string{DefaultRedirectURI}
	}
	if c.LogoutURIs == nil {
		c.LogoutURIs = []string{DefaultLogoutURI}
	}
	if c.Scopes == nil {
		c.Scopes = DefaultScopes
	}
	st := settings{poolID: s.poolID, clientID: c.ClientID, redirectURIs: c.RedirectURIs, logoutURIs: c.LogoutURIs, scopes: c.Scopes}
	if err := st.validate(); err != nil {
		return AppClient{}, err
	}
	ac := &appClient{
		id: c.ClientID, secret: c.ClientSecret,
		redirectURIs: slices.Clone(c.RedirectURIs), logoutURIs: slices.Clone(c.LogoutURIs), scopes: slices.Clone(c.Scopes),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.ClientID == s.clientID {
		return AppClient{}, fmt.Errorf("cognitotest: app client %q is the server's own; configure it with NewServer's options, or its URLs with SetRedirectURIs and SetLogoutURIs", c.ClientID)
	}
	s.clients[c.ClientID] = ac
	return ac.export(), nil
}

// SetRedirectURIs replaces the callback URLs that the app client clientID
// (the server's own, or one AddClient added) allows, so that a test can
// start the pool before its app, whose address it learns only once the
// app listens:
//
//	pool := cognitotest.NewServer(t)
//	app := httptest.NewServer(mux) // mux's handlers are set up below, from pool.Config()
//	err := pool.SetRedirectURIs(pool.Config().ClientID, app.URL+"/callback")
//	cfg := pool.Config() // RedirectURI is app.URL+"/callback"
//
// Config and ClientConfig use the first URL. It is refused, and nothing
// changes, for a client the pool does not have, with no URL, or with a URL
// that is not absolute or has a fragment, as NewServer refuses them. Codes
// already issued keep the redirect_uri they were issued for.
func (s *Server) SetRedirectURIs(clientID string, uris ...string) error {
	if len(uris) == 0 {
		return errors.New("cognitotest: SetRedirectURIs needs at least one URL")
	}
	return s.setURIs(clientID, uris, func(c *appClient, uris []string) { c.redirectURIs = uris })
}

// SetLogoutURIs replaces the sign-out URLs that the app client clientID
// allows at /logout, as SetRedirectURIs does the callback URLs. With none,
// the client allows no sign-out URL and Config's LogoutURI is empty.
func (s *Server) SetLogoutURIs(clientID string, uris ...string) error {
	return s.setURIs(clientID, uris, func(c *appClient, uris []string) { c.logoutURIs = uris })
}

// setURIs validates uris and has set store a copy of them in the client
// clientID. Readers hold the client's slices without the lock, so the
// client is replaced, never changed in place.
func (s *Server) setURIs(clientID string, uris []string, set func(*appClient, []string)) error {
	for _, u := range uris {
		if !validURI(u) {
			return fmt.Errorf("cognitotest: URL %q is not an absolute URL without fragment", u)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if clientID == s.clientID {
		c := s.primaryClient()
		set(c, slices.Clone(uris))
		s.redirectURIs, s.logoutURIs = c.redirectURIs, c.logoutURIs
		return nil
	}
	old, ok := s.clients[clientID]
	if !ok {
		return fmt.Errorf("cognitotest: %q is not an app client of the pool", clientID)
	}
	c := *old
	set(&c, slices.Clone(uris))
	s.clients[clientID] = &c
	return nil
}

// ClientConfig is a cognito.Config for the app client c of this pool, as
// Config is for the server's own client. For a client the pool has, the
// callback and sign-out URLs are those it allows now (SetRedirectURIs may
// have changed them since c was returned).
func (s *Server) ClientConfig(c AppClient) cognito.Config {
	s.mu.Lock()
	if c.ClientID != s.clientID {
		if live, ok := s.clients[c.ClientID]; ok {
			c.RedirectURIs, c.LogoutURIs = live.redirectURIs, live.logoutURIs
		}
	}
	s.mu.Unlock()
	cfg := s.Config()
	cfg.ClientID, cfg.ClientSecret = c.ClientID, c.ClientSecret
	cfg.RedirectURI, cfg.LogoutURI = "", ""
	if len(c.RedirectURIs) > 0 {
		cfg.RedirectURI = c.RedirectURIs[0]
	}
	if len(c.LogoutURIs) > 0 {
		cfg.LogoutURI = c.LogoutURIs[0]
	}
	return cfg
}

// Clients lists the pool's app clients, the server's own first.
func (s *Server) Clients() []AppClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []AppClient{s.primaryClient().export()}
	ids := make([]string, 0, len(s.clients))
	for id := range s.clients {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		out = append(out, s.clients[id].export())
	}
	return out
}

// primaryClient is the client of NewServer's options, with the URLs
// SetRedirectURIs and SetLogoutURIs may have set since. s.mu must be held.
func (s *Server) primaryClient() *appClient {
	return &appClient{
		id: s.clientID, secret: s.clientSecret, redirectURIs: s.redirectURIs,
		logoutURIs: s.logoutURIs, scopes: s.scopes, pkce: s.pkce,
	}
}

// client returns the app client id, or nil.
func (s *Server) client(id string) *appClient {
	if id == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == s.clientID {
		return s.primaryClient()
	}
	return s.clients[id]
}

// MintClientCredentialsToken makes an access token as the client_credentials
// grant gives the app client clientID: no user, sub and client_id equal to
// clientID, no username, origin_jti or groups, and scope holding the client's
// resource-server scopes (none for a client the pool does not have), with
// opts applied (WithScopes sets other scopes). It is the token an M2M service
// presents to an API.
func (s *Server) MintClientCredentialsToken(clientID string, opts ...TokenOption) string {
	var scopes []string
	if c := s.client(clientID); c != nil {
		scopes = c.resourceScopes()
	}
	return s.mintWith("access", opts, func(_ *mintSpec, iat, exp time.Time) map[string]any {
		return s.clientClaims(clientID, scopes, iat, exp)
	})
}

// WithScopes sets an access token's scope claim to scopes, space-separated;
// with none, the token has no scope claim.
func WithScopes(scopes ...string) TokenOption {
	if len(scopes) == 0 {
		return WithClaim("scope", nil)
	}
	return WithClaim("scope", strings.Join(scopes, " "))
}

var lowerAlnum = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// randomString is n random characters of [a-z2-7].
func randomString(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return lowerAlnum.EncodeToString(b)[:n]
}
