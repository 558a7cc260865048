package cognito_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
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

// The whole flow in one web app, built from the steps, as docs/manual-flow.md
// shows it for apps that must own their storage: this example's body is the
// guide's main, and newApp follows it there. saveLogin, loadLogin, saveSession and loadSession stand for your storage:
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

// APIs and services: the blocks of docs/api.md and docs/m2m.md, compiled.
// docs_test.go finds each guide's block, line for line, in one of these
// bodies.

// listOrders and adminReport stand for the API's own handlers.
var (
	listOrders  = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	adminReport = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
)

// errTenantSuspended and suspended stand for a service's own tenant rules.
var errTenantSuspended = errors.New("tenant suspended")

func suspended(ctx context.Context, tenant string) bool { return tenant == "" }

func Example_apisSeveralClients() {
	ctx := context.Background()
	verifier, err := cognito.NewVerifier(cognito.Config{UserPoolID: "us-east-1_AbCdEf123"},
		cognito.WithClientIDs("web-client-id", "mobile-client-id", "reporting-service-id"))
	if err != nil {
		log.Fatal(err)
	}
	if err := verifier.Prefetch(ctx); err != nil { // at start-up: the pool's keys, now
		log.Printf("keys not fetched yet: %v", err)
	}
	api := cognito.RequireAccessToken(verifier)
	mux := http.NewServeMux()
	mux.Handle("GET /orders", api(cognito.RequireAnyScope("orders/read")(listOrders)))
	mux.Handle("GET /admin/report", api(cognito.RequireGroup("admins")(adminReport)))
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if verifier.Prefetch(r.Context()) != nil { // fetches only when the keys are missing or due
			http.Error(w, "user pool keys unavailable", http.StatusServiceUnavailable)
		}
	})
	_ = mux
}

func Example_apisSeveralPools() {
	tenantA, err := cognito.NewVerifier(cognito.Config{UserPoolID: "us-east-1_TenantAaa", ClientID: "tenant-a-client"})
	if err != nil {
		log.Fatal(err)
	}
	tenantB, err := cognito.NewVerifier(cognito.Config{UserPoolID: "eu-west-1_TenantBbb"},
		cognito.WithClientIDs("tenant-b-web", "tenant-b-mobile"))
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cognito.NewMultiPoolVerifier(tenantA, tenantB)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", cognito.RequireAccessToken(verifier)(listOrders))
	_ = mux
}

func Example_apisCustomCheck() {
	cfg := cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "app-client-id"}
	verifier, err := cognito.NewVerifier(cfg,
		cognito.WithCheck(func(ctx context.Context, t cognito.VerifiedToken) error {
			var c struct {
				Tenant string `json:"custom:tenant"`
			}
			if err := t.Claims(&c); err != nil {
				return err
			}
			if suspended(ctx, c.Tenant) {
				return errTenantSuspended // errors.Is matches it and cognito.ErrCheckFailed
			}
			return nil
		}),
		cognito.WithLogger(slog.Default()), // keys fetched, failed, rotated; token requests failed
	)
	if err != nil {
		log.Fatal(err)
	}
	_ = verifier
}

// A service gets access tokens of its own with the client_credentials grant;
// the TokenSource keeps one and renews it shortly before it expires. Hand it
// to an SDK that takes an oauth2.TokenSource, or ask it for the token, as
// here; to call an API, HTTPClient does this for every request.
func ExampleClient_TokenSource() {
	pool, _ := examplePool() // a fake pool standing in for yours
	defer pool.Close()
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: "reportingsvc", Scopes: []string{"orders/read"}})
	if err != nil {
		log.Fatal(err)
	}
	client, err := cognito.NewClient(pool.ClientConfig(svc))
	if err != nil {
		log.Fatal(err)
	}
	ts := client.TokenSource("orders/read")

	// The API's side: it accepts the service besides its own client.
	verifier, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(svc.ClientID))
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(cognito.RequireAccessToken(verifier)(cognito.RequireAnyScope("orders/read")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, _ := cognito.AccessTokenFromContext(r.Context())
			fmt.Fprintf(w, "hello %s (username %q), scopes %v", t.ClientID, t.Username, t.Scopes)
		}))))
	defer api.Close()

	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodGet, api.URL, nil)
	if err != nil {
		log.Fatal(err)
	}
	tok.SetAuthHeader(req) // Authorization: Bearer <token>
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	fmt.Println(string(body))
	// Output:
	// hello reportingsvc (username ""), scopes [orders/read]
}

// A service calls an API with its own M2M token: HTTPClient adds it to every
// request, renewed WithRenewMargin before it expires, and sends it only to
// the origin of each request made (never down a redirect to another host).
// oauth2.NewClient over the TokenSource would hold each token until 10 s
// before its expiry instead, and lose the margin.
func ExampleClient_HTTPClient() {
	pool, _ := examplePool() // a fake pool standing in for yours
	defer pool.Close()
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: "reportingsvc", Scopes: []string{"orders/read"}})
	if err != nil {
		log.Fatal(err)
	}
	client, err := cognito.NewClient(pool.ClientConfig(svc))
	if err != nil {
		log.Fatal(err)
	}
	orders := client.HTTPClient("orders/read") // one per set of scopes, kept for the process's life

	// The API's side: it accepts the service besides its own client.
	verifier, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(svc.ClientID))
	if err != nil {
		log.Fatal(err)
	}
	api := httptest.NewServer(cognito.RequireAccessToken(verifier)(cognito.RequireAnyScope("orders/read")(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t, _ := cognito.AccessTokenFromContext(r.Context())
			fmt.Fprintf(w, "hello %s, scopes %v", t.ClientID, t.Scopes)
		}))))
	defer api.Close()

	for range 2 {
		res, err := orders.Get(api.URL + "/orders")
		if err != nil {
			log.Fatal(err) // no token could be had: an *cognito.OAuthError, or cognito.ErrEndpointUnavailable
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Println(res.StatusCode, string(body))
	}
	fmt.Println("token requests:", pool.Requests(cognitotest.EndpointToken))
	// Output:
	// 200 hello reportingsvc, scopes [orders/read]
	// 200 hello reportingsvc, scopes [orders/read]
	// token requests: 1
}

// The M2M block for the README and the guide, compiled here: a service calls
// an API with its own token, shared by every replica through a store.
func Example_m2mHTTPClient() {
	var store cognito.SessionStore = cognito.NewMemoryStore()
	// Guide:
	client, err := cognito.NewClient(cognito.Config{
		UserPoolID:   "us-east-1_AbCdEf123",
		ClientID:     "reporting-service-id",
		ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET"),
		Domain:       "https://myapp.auth.us-east-1.amazoncognito.com",
	}, cognito.WithTokenStore(store)) // optional: one token for every replica (redisstore.Open(...))
	if err != nil {
		log.Fatal(err)
	}
	orders := client.HTTPClient("orders/read") // keep it: it holds the token and renews it before expiry
	res, err := orders.Get("https://orders.example.com/orders")
	if err != nil {
		log.Fatal(err)
	}
	defer res.Body.Close()
}

// Replicas of a service share one M2M token, and one renewal, through a
// store: here two Clients on one MemoryStore stand for two processes on one
// Redis (redisstore.Open). The store holds the token sealed with a key
// derived from the client secret.
func ExampleWithTokenStore() {
	pool, _ := examplePool() // a fake pool standing in for yours
	defer pool.Close()
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: "reportingsvc", Scopes: []string{"orders/read"}})
	if err != nil {
		log.Fatal(err)
	}
	store := cognito.NewMemoryStore() // in production: redisstore.Open(os.Getenv("REDIS_URL"))

	var tokens []string
	for range 2 { // two replicas, each with its own Client
		client, err := cognito.NewClient(pool.ClientConfig(svc), cognito.WithTokenStore(store))
		if err != nil {
			log.Fatal(err)
		}
		tok, err := client.TokenSource("orders/read").Token() // or client.HTTPClient("orders/read")
		if err != nil {
			log.Fatal(err)
		}
		tokens = append(tokens, tok.AccessToken)
	}
	fmt.Println("same token:", tokens[0] == tokens[1])
	fmt.Println("token requests:", pool.Requests(cognitotest.EndpointToken))
	// Output:
	// same token: true
	// token requests: 1
}

// One Verifier for every app client of the pool: the token says which one.
func ExampleWithClientIDs() {
	pool, cfg := examplePool()
	defer pool.Close()
	verifier, err := cognito.NewVerifier(cfg, cognito.WithClientIDs("mobile-client-id"))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, client := range []string{cfg.ClientID, "mobile-client-id", "unknown-client-id"} {
		t, err := verifier.VerifyAccessToken(ctx, pool.MintAccessToken("alice", cognitotest.WithAudience(client)))
		switch {
		case errors.Is(err, cognito.ErrInvalidAudience):
			fmt.Println(client, "refused")
		case err != nil:
			log.Fatal(err)
		default:
			fmt.Println(t.ClientID, "accepted for", t.Username)
		}
	}
	// Output:
	// cognitotest0client0id00000 accepted for alice
	// mobile-client-id accepted for alice
	// unknown-client-id refused
}

// The README's quick start: a web app whose pages need a signed-in user, the
// tokens kept on the server and refreshed before they expire. The README
// shows this body as main; ExampleSessions runs the same routes against a
// fake pool.
func Example_sessionsQuickStart() {
	cfg := cognito.Config{
		UserPoolID:   "us-east-1_AbCdEf123",
		ClientID:     "app-client-id",
		ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET"), // empty for a public client
		Domain:       "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI:  "https://app.example.com/callback",
		LogoutURI:    "https://app.example.com/",
	}
	client, err := cognito.NewClient(cfg) // the pool's OAuth 2.0 endpoints
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cognito.NewVerifier(cfg) // one per pool, shared: it caches the keys
	if err != nil {
		log.Fatal(err)
	}
	store := cognito.NewMemoryStore() // this process only; replicas share Redis (below)
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)       // to the hosted UI, then back to ?return_to=/a/path
	mux.HandleFunc("GET /callback", sessions.Callback) // code exchanged, ID token verified, a new session
	mux.HandleFunc("POST /logout", sessions.Logout)    // refresh token revoked, session deleted, the hosted UI's /logout
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context()) // signed in; tokens refreshed before they expire
		fmt.Fprintf(w, "hello %s", s.IDToken.Email)     // s.AccessToken calls your APIs until s.Expiry
	})))
	log.Fatal(http.ListenAndServe("localhost:8080", mux))
}

// Sessions with a revocation list and a bearer API beside the pages, as
// docs/webapp.md shows it ("A full setup"): sign-in, a session kept in a
// store, refreshed on time, and sign-out refused at once by the API. The
// guide's block is this function's body from `store, revoked :=` on.
func Example_sessions() {
	cfg := cognito.Config{ /* the quick start's */ }
	store, revoked := cognito.NewMemoryStore(), cognito.NewMemoryStore() // one process; scs stores (Redis, ...) to share with replicas
	client, err1 := cognito.NewClient(cfg)
	verifier, err2 := cognito.NewVerifier(cfg, cognito.WithRevocationList(revoked)) // sign-outs refused at once
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)       // 1. to the hosted UI, ?return_to=/a/path
	mux.HandleFunc("GET /callback", sessions.Callback) // 2-5. exchange, verify, store under a new session ID
	mux.HandleFunc("POST /logout", sessions.Logout)    // revoke, forget, then the hosted UI's /logout
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context()) // 6. refreshed on time; 7. refresh token dead: to /login
		fmt.Fprintf(w, "hello %s", s.IDToken.Email)     // and s.AccessToken, valid, for calling APIs
	})))
	mux.Handle("GET /api/me", cognito.RequireAccessToken(verifier)(meHandler)) // bearer tokens; signed-out ones refused
	log.Fatal(http.ListenAndServe("localhost:8080", mux))
}

// Sessions against a fake pool, with a browser's cookie jar: signed out,
// signed in (and back where the user was going), signed out again.
func ExampleSessions() {
	app := httptest.NewUnstartedServer(nil)
	appURL := "http://" + app.Listener.Addr().String()
	pool, err := cognitotest.Start(cognitotest.WithRedirectURI(appURL + "/callback"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com"})
	pool.SignInAs("alice") // the hosted UI signs alice in at once

	cfg := pool.Config()
	client, err1 := cognito.NewClient(cfg)
	verifier, err2 := cognito.NewVerifier(cfg)
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, cognito.NewMemoryStore())
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.HandleFunc("POST /logout", sessions.Logout)
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context())
		fmt.Fprintf(w, "hello %s at %s", s.IDToken.Email, r.URL.Path)
	})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), appURL) && !strings.HasPrefix(req.URL.String(), pool.URL()) {
			return http.ErrUseLastResponse // the hosted UI's /logout sends to LogoutURI: stop there
		}
		return nil
	}}
	show := func(method, path string) {
		req, _ := http.NewRequest(method, appURL+path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load, as a browser sends it
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		res, err := browser.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if loc := res.Header.Get("Location"); loc != "" {
			body = []byte("to " + loc)
		}
		fmt.Printf("%s %s: %d %s\n", method, path, res.StatusCode, strings.TrimSpace(string(body)))
	}
	show("GET", "/orders") // signed out: to /login?return_to=/orders, the hosted UI, the callback, /orders
	show("GET", "/profile")
	show("POST", "/logout")
	req, _ := http.NewRequest("GET", appURL+"/profile", nil)
	res, err := browser.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	fmt.Println("GET /profile from a script:", res.StatusCode)
	// Output:
	// GET /orders: 200 hello alice@example.com at /orders
	// GET /profile: 200 hello alice@example.com at /profile
	// POST /logout: 302 to http://localhost/signed-out
	// GET /profile from a script: 401
}

// A session cookie of your own name keeps the __Host- prefix while the
// cookie is Secure (an https RedirectURI): a name without it is refused,
// rather than silently weaker.
func ExampleWithSessionCookieName() {
	cfg := cognito.Config{
		UserPoolID: "us-east-1_AbCdEf123", ClientID: "4fmvht22tjrgd7d3k3tghttct7",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
	client, err1 := cognito.NewClient(cfg)
	verifier, err2 := cognito.NewVerifier(cfg)
	if err := errors.Join(err1, err2); err != nil {
		log.Fatal(err)
	}
	flow := &cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}

	_, err := cognito.NewSessions(flow, cognito.NewMemoryStore(), cognito.WithSessionCookieName("myapp-session"))
	fmt.Println(err)
	_, err = cognito.NewSessions(flow, cognito.NewMemoryStore(), cognito.WithSessionCookieName("__Host-myapp-session"))
	fmt.Println(err)
	// Output:
	// cognito: invalid config: the session cookie name "myapp-session" lacks the __Host- prefix, without which a sibling subdomain can plant this Secure cookie on path "/": name it "__Host-myapp-session"
	// <nil>
}

// meHandler stands for an API handler, so that Example_sessions compiles.
var meHandler http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// The middleware block of the README's APIs section and of docs/api.md,
// compiled.
func Example_middleware() {
	verifier, err := cognito.NewVerifier(cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "app-client-id"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	auth := cognito.RequireAccessToken(verifier)
	mux.Handle("GET /api/me", auth(meHandler))
	mux.Handle("DELETE /api/things/{id}", auth(cognito.RequireGroup("admins")(deleteHandler)))
	mux.Handle("GET /api/reports", auth(cognito.RequireAnyScope("reports/read")(reportsHandler)))
}

// deleteHandler and reportsHandler stand for an API's own handlers.
var (
	deleteHandler  http.Handler = http.HandlerFunc(deleteThing)
	reportsHandler http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
)

// The emulator configuration of docs/configuration.md ("Local emulators"),
// compiled and validated.
func Example_emulatorConfig() {
	clientID := "emulator-client-id"
	cfg := cognito.Config{
		UserPoolID:  "local_abc123",
		ClientID:    clientID,
		Domain:      "http://localhost:9229",
		Issuer:      "http://localhost:9229/local_abc123",
		RedirectURI: "http://localhost:8080/callback",
	}
	fmt.Println(cfg.Validate())
	// Output: <nil>
}

// The configuration integration/README.md gives for an app run against
// scripts/cognito-local, compiled.
func Example_cognitoLocalConfig() {
	cfg := cognito.Config{
		UserPoolID:   os.Getenv("COGNITO_POOL_ID"),
		ClientID:     os.Getenv("COGNITO_CLIENT_ID"),
		ClientSecret: os.Getenv("COGNITO_CLIENT_SECRET"),
		Domain:       os.Getenv("COGNITO_LOCAL_URL"), // the hosted UI
		RedirectURI:  os.Getenv("COGNITO_REDIRECT_URI"),
		Issuer:       os.Getenv("COGNITO_ISSUER"), // required: emulator pool IDs name no region
	}
	_ = cfg
}

// Public pages and step-up pages with Sessions, as docs/stepup.md shows
// them: the block there is this function's body; a test keeps them
// identical.
func Example_stepUpPages() {
	sessions := newSessions() // cognito.NewSessions(flow, store), as in the quick start
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.Handle("GET /{$}", sessions.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := cognito.SessionFromContext(r.Context()); ok {
			fmt.Fprintf(w, "Hello, %s", s.IDToken.Email) // signed in
			return
		}
		fmt.Fprint(w, `Hello. <a href="/login">Sign in</a>`) // signed out: never redirected
	})))
	// Moving money needs a second factor, at most five minutes old: a session
	// below that goes through the hosted UI once more and comes back here.
	transfer := sessions.RequireStepUp(cognito.StepUp{
		ACR:    []string{"urn:cognito:loa:2"},
		MaxAge: 5 * time.Minute,
	})
	mux.Handle("GET /transfer", transfer(transferPage))
	mux.Handle("POST /transfer", transfer(transferPage)) // a script's POST gets 401 with the challenge
	log.Fatal(http.ListenAndServe("localhost:8080", mux))
}

// A bearer API with the same rule, as docs/stepup.md shows it: the block
// there is this function's body.
func Example_stepUpAPI() {
	verifier, err := cognito.NewVerifier(cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "app-client-id"})
	if err != nil {
		log.Fatal(err)
	}
	auth := cognito.RequireAccessToken(verifier)
	stepUp := cognito.RequireStepUp(cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}, MaxAge: 5 * time.Minute})
	mux := http.NewServeMux()
	mux.Handle("POST /api/transfers", auth(stepUp(transferPage)))
	log.Fatal(http.ListenAndServe("localhost:8080", mux))
}

// A client that got RFC 9470's challenge signs the user in again with what
// it asks for, as docs/stepup.md describes it ("APIs: RequireStepUp").
func Example_stepUpClient() {
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbCdEf123",
		ClientID:    "app-client-id",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
	challenge := `Bearer error="insufficient_user_authentication", acr_values="urn:cognito:loa:2", max_age="300"`
	maxAge, err := strconv.Atoi(authParam(challenge, "max_age"))
	if err != nil {
		log.Fatal(err)
	}
	state, verifier := cognito.GenerateVerifier(), cognito.GenerateVerifier() // kept until the callback, as for any sign-in
	loginURL := cfg.LoginURL(state,
		cognito.WithPKCE(verifier),
		cognito.WithACRValues(strings.Fields(authParam(challenge, "acr_values"))...),
		cognito.WithMaxAge(time.Duration(maxAge)*time.Second),
	)
	u, _ := url.Parse(loginURL)
	fmt.Println(u.Query().Get("acr_values"), u.Query().Get("max_age"))
	// Output: urn:cognito:loa:2 300
}

// authParam reads one quoted parameter of a WWW-Authenticate challenge
// (enough for this example; a client should use a full parser).
func authParam(challenge, name string) string {
	_, v, _ := strings.Cut(challenge, name+`="`)
	v, _, _ = strings.Cut(v, `"`)
	return v
}

// transferPage stands for a page of the app's own.
var transferPage http.Handler = http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})

// newSessions stands for the quick start's NewSessions call.
func newSessions() *cognito.Sessions { return nil }

// Level and freshness on the hosted UI's login URL: WithACRValues asks for
// one of the levels, in order, WithMaxAge for a sign-in no older than that.
// WithAuthParam cannot override either.
func ExampleWithACRValues() {
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbCdEf123",
		ClientID:    "app-client-id",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
	u, _ := url.Parse(cfg.LoginURL("state",
		cognito.WithACRValues("urn:cognito:loa:3", "urn:cognito:loa:2"),
		cognito.WithMaxAge(5*time.Minute),
		cognito.WithAuthParam("max_age", "86400"), // ignored: WithMaxAge owns it
	))
	fmt.Println("acr_values:", u.Query().Get("acr_values"))
	fmt.Println("max_age:", u.Query().Get("max_age"))

	// Bad input is refused: LoginURL leaves the parameter out, and
	// LoginFlow.Start and NewSessions fail.
	u, _ = url.Parse(cfg.LoginURL("state", cognito.WithACRValues("urn:cognito:loa:2 urn:cognito:loa:3")))
	fmt.Println("has acr_values:", u.Query().Has("acr_values"))
	// Output:
	// acr_values: urn:cognito:loa:3 urn:cognito:loa:2
	// max_age: 300
	// has acr_values: false
}

// A bearer API that needs a level-2 sign-in: a token below it gets 401 with
// RFC 9470's challenge, which tells the client what to ask the hosted UI for.
func ExampleRequireStepUp() {
	pool, err := cognitotest.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	verifier, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		log.Fatal(err)
	}
	api := cognito.RequireAccessToken(verifier, cognito.WithRealm("bank"))(
		cognito.RequireStepUp(cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}})(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				tok, _ := cognito.AccessTokenFromContext(r.Context())
				fmt.Fprintf(w, "transfer by %s, signed in with %s", tok.Username, strings.Join(tok.AMR, "+"))
			})))

	for _, level := range []string{"urn:cognito:loa:1", "urn:cognito:loa:2"} {
		token := pool.MintAccessToken("alice",
			cognitotest.WithClaim("acr", level), cognitotest.WithClaim("amr", []string{"pwd", "otp"}))
		req := httptest.NewRequest(http.MethodPost, "/api/transfers", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
		if c := rec.Header().Get("WWW-Authenticate"); c != "" {
			fmt.Println(c)
		}
	}
	// Output:
	// 401 Unauthorized
	// Bearer realm="bank", error="insufficient_user_authentication", error_description="A stronger sign-in is required", acr_values="urn:cognito:loa:2"
	// 200 transfer by alice, signed in with pwd+otp
}

// Optional and RequireStepUp against a fake pool, with a browser's cookie
// jar: the home page greets everyone, an ordinary sign-in, then a page that
// needs level 2 sends the user through the hosted UI once more and back.
func ExampleSessions_RequireStepUp() {
	app := httptest.NewUnstartedServer(nil)
	appURL := "http://" + app.Listener.Addr().String()
	pool, err := cognitotest.Start(cognitotest.WithRedirectURI(appURL + "/callback"))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	// alice has MFA: a sign-in that asks for a level reaches level 2.
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com",
		ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"}})
	pool.SignInAs("alice") // the hosted UI signs alice in at once

	cfg := pool.Config()
	client, err1 := cognito.NewClient(cfg)
	verifier, err2 := cognito.NewVerifier(cfg)
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, cognito.NewMemoryStore())
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.Handle("GET /{$}", sessions.Optional(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := cognito.SessionFromContext(r.Context()); ok {
			fmt.Fprintf(w, "Hello, %s", s.IDToken.Email)
			return
		}
		fmt.Fprint(w, "Hello, please sign in")
	})))
	mux.Handle("GET /transfer", sessions.RequireStepUp(cognito.StepUp{ACR: []string{"urn:cognito:loa:2"}})(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, _ := cognito.SessionFromContext(r.Context())
			fmt.Fprintf(w, "transfer page, signed in at %s with %s", s.IDToken.ACR, strings.Join(s.IDToken.AMR, "+"))
		})))
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	hostedUI := 0
	browser := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), pool.URL()+"/oauth2/authorize") {
			hostedUI++
			fmt.Printf("  (hosted UI, acr_values=%q)\n", req.URL.Query().Get("acr_values"))
		}
		return nil
	}}
	show := func(path string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, appURL+path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load, as a browser sends it
		res, err := browser.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("GET %s: %d %s\n", path, res.StatusCode, body)
	}
	show("/")         // signed out: served all the same
	show("/login")    // an ordinary sign-in, back home
	show("/transfer") // level 2 needed: the hosted UI once more, then back here
	show("/transfer") // upgraded: no more round trips
	fmt.Println("round trips through the hosted UI:", hostedUI)
	// Output:
	// GET /: 200 Hello, please sign in
	//   (hosted UI, acr_values="")
	// GET /login: 200 Hello, alice@example.com
	//   (hosted UI, acr_values="urn:cognito:loa:2")
	// GET /transfer: 200 transfer page, signed in at urn:cognito:loa:2 with pwd+otp+mfa
	// GET /transfer: 200 transfer page, signed in at urn:cognito:loa:2 with pwd+otp+mfa
	// round trips through the hosted UI: 2
}

// A public page with Sessions.Optional, against a fake pool on a Clock: it
// greets a signed-in user and serves everyone else the same page, never
// redirecting; a session that has ended meanwhile reaches it signed out,
// and its cookie is deleted. docs/webapp.md ("Public pages") shows the
// handler and its route, and the README the route alone.
func ExampleSessions_Optional() {
	clk := cognitotest.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC))
	app := httptest.NewUnstartedServer(nil)
	appURL := "http://" + app.Listener.Addr().String()
	pool, err := cognitotest.Start(cognitotest.WithRedirectURI(appURL+"/callback"), cognitotest.WithClock(clk.Now))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com"})
	pool.SignInAs("alice") // the hosted UI signs alice in at once

	cfg := pool.Config()
	client, err1 := cognito.NewClient(cfg, cognito.WithClock(clk.Now))
	verifier, err2 := cognito.NewVerifier(cfg, cognito.WithClock(clk.Now))
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier},
		cognito.NewMemoryStore(), cognito.WithSessionClock(clk.Now))
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	home := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s, ok := cognito.SessionFromContext(r.Context()); ok {
			fmt.Fprintf(w, "Hello, %s", s.IDToken.Email) // signed in: loaded and refreshed as Require does
			return
		}
		fmt.Fprint(w, `Hello. <a href="/login">Sign in</a>`) // signed out, or the session has just ended
	})
	mux.Handle("GET /{$}", sessions.Optional(home)) // public: greets a signed-in user, never redirects
	app.Config.Handler = mux
	app.Start()
	defer app.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	show := func(path string) {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, appURL+path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load, as a browser sends it
		res, err := browser.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		fmt.Printf("GET %s: %d %s\n", path, res.StatusCode, body)
	}
	show("/")      // signed out: the page all the same
	show("/login") // signed in through the hosted UI, and back home
	show("/")
	clk.Advance(25 * time.Hour) // unused for longer than the idle timeout (24 h): the session has ended
	show("/")
	u, _ := url.Parse(appURL)
	fmt.Println("cookies left:", len(jar.Cookies(u)))
	// Output:
	// GET /: 200 Hello. <a href="/login">Sign in</a>
	// GET /login: 200 Hello, alice@example.com
	// GET /: 200 Hello, alice@example.com
	// GET /: 200 Hello. <a href="/login">Sign in</a>
	// cookies left: 0
}

// tenantTable is a service's table of tenants, the user pool of each by its
// issuer, which an admin endpoint fills while the service runs; a database
// table in a real service.
type tenantTable struct {
	mu    sync.RWMutex
	pools map[string]cognito.Config // by Config.IssuerURL()
	names map[string]string         // tenant names, by issuer
}

// Resolve is the table's TenantResolver: a pool of no tenant's is refused
// with ErrInvalidIssuer, and the TenantVerifier then makes no request.
func (tt *tenantTable) Resolve(_ context.Context, iss string) (cognito.Config, error) {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	cfg, ok := tt.pools[iss]
	if !ok {
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}
	return cfg, nil
}

func (tt *tenantTable) put(name string, cfg cognito.Config) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	tt.pools[cfg.IssuerURL()] = cfg
	tt.names[cfg.IssuerURL()] = name
}

func (tt *tenantTable) name(iss string) string {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	return tt.names[iss]
}

// A SaaS API with a user pool per tenant, added while it runs: the
// TenantVerifier asks the table of tenants for the pool of each token's
// issuer, and verifies the token with that pool's keys.
func ExampleNewTenantVerifier() {
	acme, err := cognitotest.Start(cognitotest.WithPoolID("us-east-1_AcmeCorp1")) // stands in for a tenant's pool
	if err != nil {
		fmt.Println(err)
		return
	}
	defer acme.Close()
	globex, err := cognitotest.Start(cognitotest.WithPoolID("eu-west-1_Globex001"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer globex.Close()

	tenants := &tenantTable{pools: map[string]cognito.Config{}, names: map[string]string{}}
	tenants.put("acme", acme.Config())
	verifier, err := cognito.NewTenantVerifier(tenants.Resolve)
	if err != nil {
		fmt.Println(err)
		return
	}
	api := cognito.RequireAccessToken(verifier)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, _ := cognito.AccessTokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s of %s", tok.Username, tenants.name(tok.Issuer))
	}))
	// What the operators' endpoint does for a tenant added, changed or
	// removed: Forget applies it at once on this process.
	addTenant := func(name string, cfg cognito.Config) {
		tenants.put(name, cfg)
		verifier.Forget(cfg.IssuerURL())
	}

	call := func(who, token string) {
		req := httptest.NewRequest(http.MethodGet, "/me", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		api.ServeHTTP(rec, req)
		fmt.Println(who+":", rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	call("acme", acme.MintAccessToken("alice"))
	call("globex", globex.MintAccessToken("bob"))
	addTenant("globex", globex.Config())
	call("globex, added", globex.MintAccessToken("bob"))
	// Output:
	// acme: 200 hello alice of acme
	// globex: 401 Unauthorized
	// globex, added: 200 hello bob of globex
}

// The guides' TenantVerifier: a resolver over the service's tenants, and the
// operators' endpoint that adds them.
func Example_tenantVerifier() {
	admin := http.NewServeMux() // the operators' own endpoint, not the API's
	// README:
	var mu sync.RWMutex
	tenants := map[string]cognito.Config{} // by issuer: your database in a real service
	verifier, err := cognito.NewTenantVerifier(func(ctx context.Context, iss string) (cognito.Config, error) {
		mu.RLock()
		defer mu.RUnlock()
		cfg, ok := tenants[iss]
		if !ok {
			return cognito.Config{}, cognito.ErrInvalidIssuer // none of yours: refused, nothing fetched
		}
		return cfg, nil // any other error: 503, asked again on the next request
	}, cognito.WithMaxTenants(5000)) // more than your tenants active at once
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /orders", cognito.RequireAccessToken(verifier)(listOrders))

	admin.HandleFunc("PUT /tenants/{name}", func(w http.ResponseWriter, r *http.Request) {
		cfg := cognito.Config{UserPoolID: r.FormValue("user_pool_id"), ClientID: r.FormValue("client_id")}
		if err := cfg.Validate(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		tenants[cfg.IssuerURL()] = cfg
		mu.Unlock()
		verifier.Forget(cfg.IssuerURL()) // at once here; other replicas within WithTenantTTL
	})
	_ = mux
}
