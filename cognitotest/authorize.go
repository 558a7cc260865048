package cognitotest

import (
	"crypto/subtle"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// authRequest is a checked /oauth2/authorize request.
type authRequest struct {
	clientID, redirectURI, responseType, state, nonce string
	rawScope                                          string
	scopes                                            []string
	challenge, method                                 string
	acrValues, maxAge                                 string // as sent; either asks for the sign-in's level
}

// levelAsked reports whether the request asked for a level or a recent
// sign-in, to which Cognito answers with acr and amr claims.
func (r authRequest) levelAsked() bool { return r.acrValues != "" || r.maxAge != "" }

// authCode is what a code stands for until it is exchanged or expires.
type authCode struct {
	req      authRequest
	username string
	authTime time.Time
	expires  time.Time
	acr      string   // the level the sign-in reached, when one was asked for
	amr      []string // the methods it completed, likewise
}

// authError refuses an authorize request: on a page when the redirect_uri
// cannot be trusted, otherwise by redirecting with error and state.
type authError struct {
	page       bool
	code, desc string
}

// An S256 code_challenge is the base64url of a SHA-256 hash: 43 characters.
var challengePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

func (s *Server) parseAuthRequest(v url.Values) (authRequest, *authError) {
	req := authRequest{
		clientID:     v.Get("client_id"),
		redirectURI:  v.Get("redirect_uri"),
		responseType: v.Get("response_type"),
		state:        v.Get("state"),
		nonce:        v.Get("nonce"),
		rawScope:     v.Get("scope"),
		challenge:    v.Get("code_challenge"),
		method:       v.Get("code_challenge_method"),
		acrValues:    v.Get("acr_values"),
		maxAge:       v.Get("max_age"),
	}
	page := func(desc string) (authRequest, *authError) { return req, &authError{page: true, desc: desc} }
	fail := func(code, desc string) (authRequest, *authError) { return req, &authError{code: code, desc: desc} }
	client := s.client(req.clientID)
	switch {
	case req.clientID == "":
		return page("client_id is missing")
	case client == nil:
		return page("client_id is not an app client of the pool")
	case req.redirectURI == "":
		return page("redirect_uri is missing")
	case !slices.Contains(client.redirectURIs, req.redirectURI):
		return page("redirect_mismatch: redirect_uri is not a callback URL of the app client")
	}

	switch req.responseType {
	case "code":
	case "":
		return fail("invalid_request", "response_type is missing")
	case "token":
		return fail("unauthorized_client", "the app client allows only the code grant")
	default:
		return fail("unsupported_response_type", "response_type must be code")
	}

	req.scopes = slices.Clone(client.scopes) // Cognito grants every allowed scope when none is asked
	if req.rawScope != "" {
		req.scopes = nil
		for sc := range strings.FieldsSeq(req.rawScope) {
			if !slices.Contains(client.scopes, sc) {
				return fail("invalid_scope", "scope "+sc+" is not allowed for the app client")
			}
			if !slices.Contains(req.scopes, sc) {
				req.scopes = append(req.scopes, sc)
			}
		}
	}

	switch {
	case req.challenge == "" && req.method != "":
		return fail("invalid_request", "code_challenge_method without code_challenge")
	case req.challenge == "" && client.pkceRequired():
		return fail("invalid_request", "code_challenge is required")
	case req.challenge == "":
	case req.method != "S256":
		return fail("invalid_request", "code_challenge_method must be S256")
	case !challengePattern.MatchString(req.challenge):
		return fail("invalid_request", "code_challenge is not a base64url SHA-256 hash")
	}

	// The sign-in is always fresh (no browser session is kept), so max_age
	// is met whatever it says; it must still be a number of seconds.
	if req.maxAge != "" {
		if n, err := strconv.ParseUint(req.maxAge, 10, 31); err != nil || strconv.FormatUint(n, 10) != req.maxAge {
			return fail("invalid_request", "max_age must be a non-negative number of seconds")
		}
	}
	if strings.ContainsFunc(req.acrValues, unicode.IsControl) || req.acrValues != "" && strings.TrimSpace(req.acrValues) == "" {
		return fail("invalid_request", "acr_values must be levels separated by spaces")
	}
	return req, nil
}

// serveAuthorize is GET /oauth2/authorize.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeErrorPage(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
		return
	}
	s.authorize(w, r, r.URL.Query())
}

// serveLogin is /login: GET works as /oauth2/authorize, POST is the form's.
func (s *Server) serveLogin(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		s.authorize(w, r, r.URL.Query())
	case http.MethodPost:
		s.signIn(w, r)
	default:
		writeErrorPage(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
	}
}

// authorize signs in the SignInAs user, or shows the sign-in form.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, v url.Values) {
	req, aerr := s.parseAuthRequest(v)
	if aerr != nil {
		refuse(w, r, req, aerr)
		return
	}
	s.mu.Lock()
	name := s.signInAs
	s.mu.Unlock()
	if name == "" {
		s.showForm(w, req, v.Get("login_hint"), "")
		return
	}
	if _, ok := s.user(name); !ok {
		writeErrorPage(w, http.StatusInternalServerError, "cognitotest: SignInAs names user "+name+", who was never added")
		return
	}
	s.redirectWithCode(w, r, req, name)
}

// signIn checks the form's username and password.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeErrorPage(w, http.StatusBadRequest, "the form could not be read")
		return
	}
	req, aerr := s.parseAuthRequest(r.Form)
	if aerr != nil {
		refuse(w, r, req, aerr)
		return
	}
	username, password := r.PostForm.Get("username"), r.PostForm.Get("password")
	u, ok := s.user(username)
	if !ok || u.Password == "" || subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) != 1 {
		s.showForm(w, req, username, "Incorrect username or password.")
		return
	}
	s.redirectWithCode(w, r, req, u.Username)
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, req authRequest, username string) {
	code, now := newUUID(), s.now()
	c := &authCode{req: req, username: username, authTime: now, expires: now.Add(CodeLifetime)}
	if u, ok := s.user(username); ok && req.levelAsked() {
		// The user reaches the level they can, whatever was asked: the app
		// must compare acr with what it needs, as with Cognito.
		c.acr, c.amr = u.ACR, u.AMR
	}
	s.mu.Lock()
	s.codes[code] = c
	s.mu.Unlock()
	params := url.Values{"code": {code}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	redirect(w, r, req.redirectURI, params)
}

func refuse(w http.ResponseWriter, r *http.Request, req authRequest, aerr *authError) {
	if aerr.page {
		writeErrorPage(w, http.StatusBadRequest, aerr.desc)
		return
	}
	params := url.Values{"error": {aerr.code}, "error_description": {aerr.desc}}
	if req.state != "" {
		params.Set("state", req.state)
	}
	redirect(w, r, req.redirectURI, params)
}

// serveLogout is GET /logout: with a registered logout_uri it redirects
// there; with redirect_uri instead it signs in again through /oauth2/authorize,
// as Cognito does.
func (s *Server) serveLogout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeErrorPage(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed")
		return
	}
	v := r.URL.Query()
	logoutURI := v.Get("logout_uri")
	client := s.client(v.Get("client_id"))
	switch {
	case client == nil:
		writeErrorPage(w, http.StatusBadRequest, "client_id is missing or not an app client of the pool")
	case logoutURI != "" && slices.Contains(client.logoutURIs, logoutURI):
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, logoutURI, http.StatusFound)
	case logoutURI != "":
		writeErrorPage(w, http.StatusBadRequest, "logout_uri is not a sign-out URL of the app client")
	case v.Get("redirect_uri") != "":
		http.Redirect(w, r, "/oauth2/authorize?"+r.URL.RawQuery, http.StatusFound)
	default:
		writeErrorPage(w, http.StatusBadRequest, "logout_uri is missing")
	}
}

type hiddenField struct{ Name, Value string }

var signInForm = template.Must(template.New("signin").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title></head>
<body>
<h1>Sign in</h1>
<p>Fake user pool {{.PoolID}} (cognitotest): test users only.</p>
{{with .Error}}<p id="error" role="alert">{{.}}</p>
{{end}}<form method="post" action="/login">
{{range .Hidden}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>Username <input name="username" value="{{.Username}}" autocomplete="username" required autofocus></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
`))

// showForm renders the sign-in form, carrying the authorize request in
// hidden fields, with username filled in (from login_hint, or the last try).
func (s *Server) showForm(w http.ResponseWriter, req authRequest, username, errMsg string) {
	var hidden []hiddenField
	for _, f := range []hiddenField{
		{"client_id", req.clientID}, {"redirect_uri", req.redirectURI},
		{"response_type", req.responseType}, {"scope", req.rawScope},
		{"state", req.state}, {"nonce", req.nonce},
		{"code_challenge", req.challenge}, {"code_challenge_method", req.method},
		{"acr_values", req.acrValues}, {"max_age", req.maxAge},
	} {
		if f.Value != "" {
			hidden = append(hidden, f)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	signInForm.Execute(w, map[string]any{ //nolint:errcheck // the client may be gone
		"PoolID": s.poolID, "Error": errMsg, "Hidden": hidden, "Username": username,
	})
}
