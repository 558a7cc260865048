package cognitotest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// session is one sign-in: the refresh tokens and the tokens issued from it
// share its origin_jti and fall together when it is revoked.
type session struct {
	originJTI, eventID string
	username           string
	clientID           string // the app client the sign-in was for
	scopes             []string
	authTime           time.Time
	acr                string   // the level the sign-in reached, when one was asked for
	amr                []string // the methods it completed
	revoked            bool     // guarded by Server.mu
}

type refreshGrant struct {
	sess    *session
	expires time.Time
	// graceUntil is set once the token is rotated out: it works until then
	// (WithRetryGracePeriod) and is refused from then on.
	graceUntil time.Time
}

// tokenError is an error answer of the token and revoke endpoints.
type tokenError struct {
	status     int
	code, desc string
	basic      bool // the client tried Basic authentication: say how to retry
}

func badRequest(code, desc string) *tokenError {
	return &tokenError{status: http.StatusBadRequest, code: code, desc: desc}
}

func (e *tokenError) write(w http.ResponseWriter) {
	if e.status == http.StatusUnauthorized && e.basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="cognitotest"`)
	}
	writeError(w, e.status, e.code, e.desc)
}

// serveToken is POST /oauth2/token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	form, client, terr := s.clientRequest(w, r)
	if terr != nil {
		terr.write(w)
		return
	}
	var resp map[string]any
	switch form.Get("grant_type") {
	case "authorization_code":
		resp, terr = s.exchangeCode(client, form)
	case "refresh_token":
		resp, terr = s.refreshTokens(client, form)
	case "client_credentials":
		resp, terr = s.clientCredentials(client, form)
	case "":
		terr = badRequest("invalid_request", "grant_type is missing")
	default:
		terr = badRequest("unsupported_grant_type", "grant_type must be authorization_code, refresh_token or client_credentials")
	}
	if terr != nil {
		terr.write(w)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// clientRequest reads a form POST and authenticates the app client: by HTTP
// Basic, whose user and password are form-encoded (RFC 6749 section 2.3.1),
// or by client_id and client_secret in the body. A public client sends only
// client_id. It returns the form and the client.
func (s *Server) clientRequest(w http.ResponseWriter, r *http.Request) (url.Values, *appClient, *tokenError) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return nil, nil, &tokenError{status: http.StatusMethodNotAllowed, code: "invalid_request", desc: "only POST is allowed"}
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		return nil, nil, badRequest("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return nil, nil, badRequest("invalid_request", "the body is not a readable form")
	}
	form := r.PostForm

	unauthorized := func(desc string, basic bool) (url.Values, *appClient, *tokenError) {
		return nil, nil, &tokenError{status: http.StatusUnauthorized, code: "invalid_client", desc: desc, basic: basic}
	}
	id, secret, basic := r.BasicAuth()
	switch {
	case basic:
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return unauthorized("the Basic credentials are not form-encoded", true)
		}
		if form.Has("client_secret") {
			return nil, nil, badRequest("invalid_request", "the client authenticated both by Basic and client_secret")
		}
		if b := form.Get("client_id"); b != "" && b != id {
			return unauthorized("client_id in the body differs from the Basic user", true)
		}
	case r.Header.Get("Authorization") != "":
		return unauthorized("the Authorization header is not Basic", false)
	default:
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}

	client := s.client(id)
	switch {
	case id == "":
		return unauthorized("client_id is missing", basic)
	case client == nil:
		return unauthorized("client_id is not an app client of the pool", basic)
	case client.secret == "" && secret != "":
		return unauthorized("the app client is public and has no secret", basic)
	case client.secret != "" && secret == "":
		return unauthorized("the client secret is missing", basic)
	case subtle.ConstantTimeCompare([]byte(secret), []byte(client.secret)) != 1:
		return unauthorized("the client secret is wrong", basic)
	}
	return form, client, nil
}

// exchangeCode is the authorization_code grant. A code is spent by any
// attempt to exchange it, successful or not.
func (s *Server) exchangeCode(client *appClient, form url.Values) (map[string]any, *tokenError) {
	code, redirectURI, verifier := form.Get("code"), form.Get("redirect_uri"), form.Get("code_verifier")
	if code == "" {
		return nil, badRequest("invalid_request", "code is missing")
	}
	if redirectURI == "" {
		return nil, badRequest("invalid_request", "redirect_uri is missing")
	}
	s.mu.Lock()
	c := s.codes[code]
	delete(s.codes, code)
	s.mu.Unlock()

	now := s.now()
	switch {
	case c == nil:
		return nil, badRequest("invalid_grant", "the code is invalid or was already used")
	case !now.Before(c.expires):
		return nil, badRequest("invalid_grant", "the code has expired")
	case c.req.clientID != client.id:
		return nil, badRequest("invalid_grant", "the code was issued to another app client")
	case c.req.redirectURI != redirectURI:
		return nil, badRequest("invalid_grant", "redirect_uri differs from the authorize request's")
	case c.req.challenge == "" && verifier != "":
		return nil, badRequest("invalid_grant", "code_verifier was sent but the authorize request had no code_challenge")
	case c.req.challenge != "" && verifier == "":
		return nil, badRequest("invalid_request", "code_verifier is missing")
	case c.req.challenge != "" && s256(verifier) != c.req.challenge:
		return nil, badRequest("invalid_grant", "code_verifier does not match the code_challenge")
	}

	sess := &session{
		originJTI: newUUID(), eventID: newUUID(), username: c.username, clientID: client.id,
		scopes: c.req.scopes, authTime: c.authTime, acr: c.acr, amr: c.amr,
	}
	resp, terr := s.tokensFor(sess, c.req.nonce, true)
	if terr != nil {
		return nil, terr
	}
	rt := newRefreshToken()
	s.mu.Lock()
	s.sessions[sess.originJTI] = sess
	s.refresh[rt] = &refreshGrant{sess: sess, expires: now.Add(s.refreshLifetime)}
	s.mu.Unlock()
	resp["refresh_token"] = rt
	return resp, nil
}

// refreshTokens is the refresh_token grant: new ID and access tokens of the
// same sign-in, and a new refresh token only when rotation is on.
func (s *Server) refreshTokens(client *appClient, form url.Values) (map[string]any, *tokenError) {
	rt := form.Get("refresh_token")
	if rt == "" {
		return nil, badRequest("invalid_request", "refresh_token is missing")
	}
	now := s.now()
	s.mu.Lock()
	g := s.refresh[rt]
	var terr *tokenError
	switch {
	case g == nil || g.sess.clientID != client.id:
		terr = badRequest("invalid_grant", "Invalid Refresh Token")
	case g.sess.revoked:
		terr = badRequest("invalid_grant", "Refresh Token has been revoked")
	case !now.Before(g.expires):
		terr = badRequest("invalid_grant", "Refresh Token has expired")
	case !g.graceUntil.IsZero() && !now.Before(g.graceUntil):
		delete(s.refresh, rt)
		terr = badRequest("invalid_grant", "Invalid Refresh Token")
	}
	if terr != nil {
		s.mu.Unlock()
		return nil, terr
	}
	var rotated string
	if s.rotateRefresh {
		rotated = newRefreshToken()
		switch {
		case s.retryGrace <= 0:
			delete(s.refresh, rt)
		case g.graceUntil.IsZero(): // rotated out now; a retry within the grace works
			g.graceUntil = now.Add(s.retryGrace)
		}
		s.refresh[rotated] = &refreshGrant{sess: g.sess, expires: now.Add(s.refreshLifetime)}
	}
	s.mu.Unlock()

	resp, terr := s.tokensFor(g.sess, "", false)
	if terr != nil {
		return nil, terr
	}
	if rotated != "" {
		resp["refresh_token"] = rotated
	}
	return resp, nil
}

// clientCredentials is the client_credentials grant: an access token for the
// app client itself, with resource-server scopes only, as in Cognito.
func (s *Server) clientCredentials(client *appClient, form url.Values) (map[string]any, *tokenError) {
	if client.secret == "" {
		return nil, badRequest("unauthorized_client", "a public client cannot use client_credentials")
	}
	allowed := client.resourceScopes()
	if len(allowed) == 0 {
		return nil, badRequest("unauthorized_client", "the app client has no resource-server scope for client_credentials")
	}
	scopes := allowed
	if raw := form.Get("scope"); raw != "" {
		scopes = nil
		for sc := range strings.FieldsSeq(raw) {
			if !slices.Contains(allowed, sc) {
				return nil, badRequest("invalid_scope", "scope "+sc+" is not a resource-server scope of the app client")
			}
			scopes = append(scopes, sc)
		}
	}
	now := s.now()
	access, err := s.sign("access", s.clientClaims(client.id, scopes, now, now.Add(s.tokenLifetime)))
	if err != nil {
		return nil, &tokenError{status: http.StatusInternalServerError, code: "internal_error", desc: err.Error()}
	}
	return map[string]any{
		"access_token": access,
		"expires_in":   int(s.tokenLifetime / time.Second),
		"token_type":   "Bearer",
	}, nil
}

// tokensFor signs an access token, and an ID token when openid was granted,
// for the user of sess as they are now. Those of the sign-in itself (signIn)
// carry acr and amr when the sign-in asked for a level; refreshed ones keep
// its auth_time but not acr and amr, the stricter of the readings Cognito's
// documentation leaves open, so that an app's tests do not count on them.
func (s *Server) tokensFor(sess *session, nonce string, signIn bool) (map[string]any, *tokenError) {
	u, ok := s.user(sess.username)
	if !ok {
		return nil, badRequest("invalid_grant", "the user no longer exists")
	}
	now := s.now()
	exp := now.Add(s.tokenLifetime)
	resp := map[string]any{"expires_in": int(s.tokenLifetime / time.Second), "token_type": "Bearer"}
	level := func(c map[string]any) map[string]any {
		if signIn && sess.acr != "" {
			c["acr"], c["amr"] = sess.acr, slices.Clone(sess.amr)
		}
		return c
	}
	access, err := s.sign("access", level(s.accessClaims(u, sess, now, exp)))
	if err != nil {
		return nil, &tokenError{status: http.StatusInternalServerError, code: "internal_error", desc: err.Error()}
	}
	resp["access_token"] = access
	if slices.Contains(sess.scopes, "openid") {
		id, err := s.sign("id", level(s.idClaims(u, sess, now, exp, nonce)))
		if err != nil {
			return nil, &tokenError{status: http.StatusInternalServerError, code: "internal_error", desc: err.Error()}
		}
		resp["id_token"] = id
	}
	return resp, nil
}

// serveRevoke is POST /oauth2/revoke: it revokes a refresh token with every
// refresh token and access token of its sign-in. Unknown tokens are
// answered 200, as RFC 7009 section 2.2 asks.
func (s *Server) serveRevoke(w http.ResponseWriter, r *http.Request) {
	form, client, terr := s.clientRequest(w, r)
	if terr != nil {
		terr.write(w)
		return
	}
	tok := form.Get("token")
	if tok == "" {
		badRequest("invalid_request", "token is missing").write(w)
		return
	}
	s.mu.Lock()
	g := s.refresh[tok]
	if g != nil && g.sess.clientID != client.id {
		g = nil // another client's token: Cognito leaves it alone
	}
	if g != nil {
		g.sess.revoked = true
	}
	s.mu.Unlock()
	if g == nil && strings.Count(tok, ".") == 2 { // a JWT: an ID or access token
		badRequest("unsupported_token_type", "only refresh tokens can be revoked").write(w)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

func s256(verifier string) string {
	h := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(h[:])
}
