package cognito_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// Step 1: send a user without a valid ID token to the hosted UI, with state,
// PKCE and a nonce. Keep the three (in a short-lived cookie, for instance)
// until the callback; LoginFlow does all of it for server-rendered apps.
func ExampleConfig_LoginURL() {
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbCdEf123",
		ClientID:    "app-client-id",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
	if err := cfg.Validate(); err != nil {
		log.Fatal(err)
	}
	// In an app: state, verifier, nonce := cognito.GenerateVerifier(), ... (three fresh values).
	verifier := "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636's example verifier
	loginURL := cfg.LoginURL("af0ifjsldkj", cognito.WithPKCE(verifier), cognito.WithNonce("n-0S6_WzA2Mj"))

	u, _ := url.Parse(loginURL)
	fmt.Println(u.Scheme + "://" + u.Host + u.Path)
	for _, k := range []string{"response_type", "client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method", "nonce"} {
		fmt.Printf("%s=%s\n", k, u.Query().Get(k))
	}
	// Output:
	// https://myapp.auth.us-east-1.amazoncognito.com/oauth2/authorize
	// response_type=code
	// client_id=app-client-id
	// redirect_uri=https://app.example.com/callback
	// scope=openid email profile
	// state=af0ifjsldkj
	// code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
	// code_challenge_method=S256
	// nonce=n-0S6_WzA2Mj
}

// Steps 2 and 3: on the callback, exchange the code for tokens, verify the ID
// token and read the user's claims.
func ExampleClient_ExchangeCode() {
	pool, cfg := examplePool() // a fake pool standing in for yours
	defer pool.Close()
	ctx := context.Background()

	client, err := cognito.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cognito.NewVerifier(cfg)
	if err != nil {
		log.Fatal(err)
	}

	pkce := cognito.GenerateVerifier()
	code := exampleSignIn(cfg.LoginURL("state", cognito.WithPKCE(pkce))) // the hosted UI redirects back with ?code=...

	tokens, err := client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkce))
	if err != nil {
		log.Fatal(err)
	}
	id, err := verifier.VerifyIDToken(ctx, tokens.IDToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Email, id.EmailVerified, id.Groups)

	// A code works once.
	_, err = client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(pkce))
	fmt.Println(errors.Is(err, cognito.ErrInvalidGrant))
	// Output:
	// alice@example.com true [admins]
	// true
}

// Step 3: verify an ID token and read any claim, custom attributes included.
func ExampleVerifier_VerifyIDToken() {
	pool, cfg := examplePool()
	defer pool.Close()
	idToken := pool.MintIDToken("alice") // from Tokens.IDToken in an app

	verifier, err := cognito.NewVerifier(cfg) // one per pool, shared: it caches the JWKS
	if err != nil {
		log.Fatal(err)
	}
	id, err := verifier.VerifyIDToken(context.Background(), idToken)
	if err != nil {
		log.Fatal(err)
	}
	var custom struct {
		Tenant string `json:"custom:tenant"`
	}
	if err := id.Claims(&custom); err != nil {
		log.Fatal(err)
	}
	fmt.Println(id.Username, id.Email, custom.Tenant)

	_, err = verifier.VerifyIDToken(context.Background(), pool.MintIDToken("alice", cognitotest.Expired()))
	fmt.Println(errors.Is(err, cognito.ErrTokenExpired))
	// Output:
	// alice alice@example.com acme
	// true
}

// Step 4: when the ID and access tokens expire, refresh them; when the
// refresh token has expired or was revoked, send the user to sign in again.
func ExampleClient_Refresh() {
	pool, cfg := examplePool()
	defer pool.Close()
	ctx := context.Background()
	client, err := cognito.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	pkce := cognito.GenerateVerifier()
	stored, err := client.ExchangeCode(ctx, exampleSignIn(cfg.LoginURL("s", cognito.WithPKCE(pkce))), cognito.WithCodeVerifier(pkce))
	if err != nil {
		log.Fatal(err)
	}

	fresh, err := client.Refresh(ctx, stored.RefreshToken)
	switch {
	case errors.Is(err, cognito.ErrInvalidGrant):
		fmt.Println("redirect to", cfg.LoginURL("new-state"))
	case err != nil: // ErrEndpointUnavailable: keep the session, retry later
		log.Fatal(err)
	default:
		fmt.Println("refreshed; same refresh token:", fresh.RefreshToken == stored.RefreshToken)
	}

	if err := client.Revoke(ctx, stored.RefreshToken); err != nil { // on sign-out
		log.Fatal(err)
	}
	_, err = client.Refresh(ctx, stored.RefreshToken)
	fmt.Println("after revoke, sign in again:", errors.Is(err, cognito.ErrInvalidGrant))
	// Output:
	// refreshed; same refresh token: true
	// after revoke, sign in again: true
}

// Step 5: check the access token of every API call.
func ExampleVerifier_VerifyAccessToken() {
	pool, cfg := examplePool()
	defer pool.Close()
	verifier, err := cognito.NewVerifier(cfg)
	if err != nil {
		log.Fatal(err)
	}
	at, err := verifier.VerifyAccessToken(context.Background(), pool.MintAccessToken("alice"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(at.Username, at.Scopes, at.Groups)

	// An ID token is not an access token.
	_, err = verifier.VerifyAccessToken(context.Background(), pool.MintIDToken("alice"))
	fmt.Println(errors.Is(err, cognito.ErrInvalidTokenUse))
	// Output:
	// alice [openid email phone profile aws.cognito.signin.user.admin] [admins]
	// true
}

// Step 5: sign the user out of the hosted UI too.
func ExampleConfig_LogoutURL() {
	cfg := cognito.Config{
		UserPoolID: "us-east-1_AbCdEf123",
		ClientID:   "app-client-id",
		Domain:     "myapp.auth.us-east-1.amazoncognito.com", // a bare host gets https://
		LogoutURI:  "https://app.example.com/signed-out",
	}
	fmt.Println(cfg.LogoutURL())
	// Output:
	// https://myapp.auth.us-east-1.amazoncognito.com/logout?client_id=app-client-id&logout_uri=https%3A%2F%2Fapp.example.com%2Fsigned-out
}

// Errors say why with a sentinel, and carry the endpoint's answer.
func ExampleOAuthError() {
	pool, cfg := examplePool()
	defer pool.Close()
	client, err := cognito.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	_, err = client.Refresh(context.Background(), "a-refresh-token-cognito-never-issued")

	var oe *cognito.OAuthError
	if errors.As(err, &oe) {
		fmt.Println(oe.StatusCode, oe.Code)
	}
	fmt.Println("sign in again:", errors.Is(err, cognito.ErrInvalidGrant))
	fmt.Println("retry later:", errors.Is(err, cognito.ErrEndpointUnavailable))
	// Output:
	// 400 invalid_grant
	// sign in again: true
	// retry later: false
}

// examplePool starts a fake pool with one user, alice, and returns it with
// the Config of its app client.
func examplePool() (*cognitotest.Server, cognito.Config) {
	pool, err := cognitotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	pool.AddUser(cognitotest.User{
		Username: "alice", Email: "alice@example.com", EmailVerified: true,
		Groups: []string{"admins"}, Attributes: map[string]string{"custom:tenant": "acme"},
	})
	pool.SignInAs("alice")
	return pool, pool.Config()
}

// exampleSignIn plays the browser at the hosted UI: it follows loginURL and
// returns the code of the redirect to the app's callback.
func exampleSignIn(loginURL string) string {
	browser := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := browser.Get(loginURL)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		log.Fatal(err)
	}
	return loc.Query().Get("code")
}

// The two handlers of a server-rendered app's sign-in.
func ExampleLoginFlow() {
	cfg := cognito.Config{
		UserPoolID:   "us-east-1_AbCdEf123",
		ClientID:     "app-client-id",
		ClientSecret: "app-client-secret",
		Domain:       "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI:  "https://app.example.com/callback",
	}
	client, err := cognito.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cognito.NewVerifier(cfg)
	if err != nil {
		log.Fatal(err)
	}
	flow := &cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		if err := flow.Start(w, r); err != nil {
			http.Error(w, "sign-in is not configured", http.StatusInternalServerError)
		}
	})
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		tokens, id, err := flow.Finish(w, r)
		switch {
		case errors.Is(err, cognito.ErrAccessDenied):
			http.Error(w, "sign-in cancelled", http.StatusForbidden)
			return
		case errors.Is(err, cognito.ErrEndpointUnavailable), errors.Is(err, cognito.ErrJWKSUnavailable):
			http.Error(w, "try again shortly", http.StatusServiceUnavailable)
			return
		case err != nil: // ErrInvalidState: expired, replayed or forged; ErrInvalidGrant: ...
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		// Keep tokens on the server, keyed by a random session cookie, and
		// refresh them with client.Refresh when they expire.
		_ = tokens
		fmt.Fprintf(w, "hello %s", id.Email)
	})
	_ = http.ListenAndServe("127.0.0.1:8080", mux)
}

// An API whose routes need a valid access token, and a group for one of them.
func ExampleRequireAccessToken() {
	pool, err := cognitotest.Start() // stands in for your user pool here
	if err != nil {
		fmt.Println(err)
		return
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})

	verifier, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		fmt.Println(err)
		return
	}
	auth := cognito.RequireAccessToken(verifier, cognito.WithRealm("things"))
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := cognito.AccessTokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s, in %v", tok.Username, tok.Groups)
	})))
	mux.Handle("DELETE /things/{id}", auth(cognito.RequireGroup("admins")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "deleted %s", r.PathValue("id"))
	}))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	for _, token := range []string{pool.MintAccessToken("alice"), ""} {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/me", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%d %s %s", res.StatusCode, strings.TrimSpace(string(body)), res.Header.Get("WWW-Authenticate"))))
	}
	// Output:
	// 200 hello alice, in [admins]
	// 401 Unauthorized Bearer realm="things"
}

// The whole flow in one web app, as the README's quick start shows it: this
// example's body is the README's main, and newApp follows it there.
// saveLogin, loadLogin, saveSession and loadSession stand for your storage:
// a short-lived HttpOnly cookie for the login, a server-side session keyed
// by an opaque cookie for the tokens. LoginFlow and RequireAccessToken do
// steps 1 to 3 and 5 for you. quickstart_test.go runs newApp against a fake
// pool, login CSRF included.
func Example_quickStart() {
	app, err := newApp(cognito.Config{
		UserPoolID:   "us-east-1_AbCdEf123",
		ClientID:     "app-client-id",
		ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET"), // empty for a public client
		Domain:       "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI:  "https://app.example.com/callback",
		LogoutURI:    "https://app.example.com/",
	})
	if err != nil {
		log.Fatal(err)
	}
	log.Fatal(http.ListenAndServe("localhost:8080", app))
}

// newApp serves the sign-in, a page and an API for one app client.
func newApp(cfg cognito.Config) (http.Handler, error) {
	client, err := cognito.NewClient(cfg) // the OAuth 2.0 endpoints
	if err != nil {
		return nil, err
	}
	verifier, err := cognito.NewVerifier(cfg) // one per pool, shared: it caches the keys
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()

	// 1. No valid ID token: send the user to the hosted UI.
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		state, pkce, nonce := cognito.GenerateVerifier(), cognito.GenerateVerifier(), cognito.GenerateVerifier()
		saveLogin(w, state, pkce, nonce)
		http.Redirect(w, r, cfg.LoginURL(state, cognito.WithPKCE(pkce), cognito.WithNonce(nonce)), http.StatusFound)
	})

	// 2. The callback: exchange the code. 3. Verify the ID token, read the claims.
	mux.HandleFunc("GET /callback", func(w http.ResponseWriter, r *http.Request) {
		state, pkce, nonce := loadLogin(r)
		// A browser that started no login has none of the three. Refuse it:
		// empty values match a callback without state, so an attacker could
		// sign this browser into their own account (login CSRF).
		if state == "" || pkce == "" || nonce == "" ||
			subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(state)) != 1 {
			http.Error(w, "bad state", http.StatusBadRequest)
			return
		}
		tokens, err := client.ExchangeCode(r.Context(), r.URL.Query().Get("code"), cognito.WithCodeVerifier(pkce))
		if err != nil {
			http.Error(w, "sign-in failed", http.StatusBadGateway)
			return
		}
		id, err := verifier.VerifyIDToken(r.Context(), tokens.IDToken)
		if err != nil || id.Nonce != nonce {
			http.Error(w, "sign-in failed", http.StatusBadRequest)
			return
		}
		var custom struct {
			Tenant string `json:"custom:tenant"`
		}
		_ = id.Claims(&custom)
		saveSession(w, tokens)
		fmt.Fprintf(w, "hello %s <%s>, groups %v, tenant %s", id.Name, id.Email, id.Groups, custom.Tenant)
	})

	// 4. Refresh expired tokens; a dead refresh token means signing in again.
	mux.HandleFunc("GET /profile", func(w http.ResponseWriter, r *http.Request) {
		tokens := loadSession(r)
		if tokens == nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		if time.Now().After(tokens.Expiry) {
			fresh, err := client.Refresh(r.Context(), tokens.RefreshToken)
			switch {
			case errors.Is(err, cognito.ErrInvalidGrant): // expired (30 days by default) or revoked
				http.Redirect(w, r, "/login", http.StatusFound)
				return
			case err != nil: // ErrEndpointUnavailable: keep the session, try again later
				http.Error(w, "try again shortly", http.StatusServiceUnavailable)
				return
			}
			saveSession(w, fresh) // fresh.RefreshToken: the rotated one, or the one passed
			tokens = fresh
		}
		id, err := verifier.VerifyIDToken(r.Context(), tokens.IDToken)
		if err != nil {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		fmt.Fprintf(w, "%s, signed in until %s", id.Email, id.Expiry)
	})

	// 5. Verify access tokens on API calls, and sign out.
	api := cognito.RequireAccessToken(verifier)
	mux.Handle("GET /api/me", api(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at, _ := cognito.AccessTokenFromContext(r.Context())
		fmt.Fprintf(w, "%s %v %v", at.Username, at.Scopes, at.Groups)
	})))
	mux.Handle("DELETE /api/things/{id}", api(cognito.RequireGroup("admins")(http.HandlerFunc(deleteThing))))
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		if tokens := loadSession(r); tokens != nil {
			_ = client.Revoke(r.Context(), tokens.RefreshToken)
		}
		saveSession(w, nil)
		http.Redirect(w, r, cfg.LogoutURL(), http.StatusFound)
	})
	return mux, nil
}

// Stand-ins for an app's own storage, so that Example_quickStart compiles and
// quickstart_test.go can run it: the login in a short-lived cookie, the
// tokens in memory under a random session cookie. loadLogin returns empty
// strings when the browser has no login cookie, as any store does for a
// login it never saw.
const (
	quickStartLoginCookie   = "quickstart-login"
	quickStartSessionCookie = "quickstart-session"
)

var quickStartSessions sync.Map // session ID → *cognito.Tokens

func saveLogin(w http.ResponseWriter, state, pkce, nonce string) {
	http.SetCookie(w, &http.Cookie{
		Name: quickStartLoginCookie, Value: state + "." + pkce + "." + nonce,
		Path: "/", MaxAge: 600, HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
}

func loadLogin(r *http.Request) (state, pkce, nonce string) {
	c, err := r.Cookie(quickStartLoginCookie)
	if err != nil {
		return "", "", ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return "", "", ""
	}
	return parts[0], parts[1], parts[2]
}

func saveSession(w http.ResponseWriter, tokens *cognito.Tokens) {
	if tokens == nil {
		http.SetCookie(w, &http.Cookie{Name: quickStartSessionCookie, Path: "/", MaxAge: -1})
		return
	}
	id := cognito.GenerateVerifier()
	quickStartSessions.Store(id, tokens)
	http.SetCookie(w, &http.Cookie{
		Name: quickStartSessionCookie, Value: id,
		Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteLaxMode,
	})
}

func loadSession(r *http.Request) *cognito.Tokens {
	c, err := r.Cookie(quickStartSessionCookie)
	if err != nil {
		return nil
	}
	if t, ok := quickStartSessions.Load(c.Value); ok {
		return t.(*cognito.Tokens)
	}
	return nil
}

func deleteThing(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "deleted %s", r.PathValue("id"))
}
