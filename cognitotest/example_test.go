package cognitotest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// hello is the handler under test, as a user of cognito writes it: it greets
// the bearer of a valid ID token, asks for a new sign-in when the token is
// refused, and says "try again" when the pool's keys cannot be fetched.
func hello(v *cognito.Verifier) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		tok, err := v.VerifyIDToken(r.Context(), raw)
		switch {
		case errors.Is(err, cognito.ErrJWKSUnavailable):
			http.Error(w, "try again later", http.StatusServiceUnavailable)
		case err != nil:
			http.Error(w, "please sign in", http.StatusUnauthorized)
		default:
			fmt.Fprintf(w, "hello %s", tok.Username)
		}
	})
}

// call sends a request with an ID token to h and prints the answer.
func call(h http.Handler, idToken string) {
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+idToken)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
}

// Test a handler with tokens of the fake pool: a valid one, an expired one,
// one for another app client.
func Example() {
	// In a test: pool := cognitotest.NewServer(t), closed when the test ends.
	pool, err := cognitotest.Start()
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", Groups: []string{"admins"}})

	v, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		panic(err)
	}
	h := hello(v)

	call(h, pool.MintIDToken("alice"))
	call(h, pool.MintIDToken("alice", cognitotest.Expired()))
	call(h, pool.MintIDToken("alice", cognitotest.WithAudience("another-app")))
	// Output:
	// 200 hello alice
	// 401 please sign in
	// 401 please sign in
}

// Rotate the pool's signing keys: the handler's verifier fetches the JWKS
// again for the new kid, and once the old keys are gone, a verifier that
// has not cached them refuses their tokens.
func ExampleServer_RotateKeys() {
	pool, err := cognitotest.Start()
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	v, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		panic(err)
	}
	h := hello(v)
	old := pool.MintIDToken("alice")
	call(h, old)

	pool.RotateKeys(cognitotest.DropOld)
	call(h, pool.MintIDToken("alice"))
	fmt.Println("JWKS fetches:", pool.Requests(cognitotest.EndpointJWKS))

	restarted, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		panic(err)
	}
	call(hello(restarted), old)
	// Output:
	// 200 hello alice
	// 200 hello alice
	// JWKS fetches: 2
	// 401 please sign in
}

// Make the JWKS fail twice: the handler answers 503 until the keys can be
// fetched, then caches them.
func ExampleServer_FailNext() {
	pool, err := cognitotest.Start()
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	v, err := cognito.NewVerifier(pool.Config())
	if err != nil {
		panic(err)
	}
	h := hello(v)

	pool.FailNext(cognitotest.EndpointJWKS, 2, cognitotest.Failure{Status: http.StatusInternalServerError})
	tok := pool.MintIDToken("alice")
	for range 4 {
		call(h, tok)
	}
	fmt.Println("JWKS fetches:", pool.Requests(cognitotest.EndpointJWKS))
	// Output:
	// 503 try again later
	// 503 try again later
	// 200 hello alice
	// 200 hello alice
	// JWKS fetches: 3
}

// Sign a user in through the hosted UI without a browser: SignInAs makes
// /oauth2/authorize redirect to the callback with a code at once.
func ExampleServer_SignInAs() {
	pool, err := cognitotest.Start()
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice", Email: "alice@example.com", EmailVerified: true})
	pool.SignInAs("alice")
	cfg := pool.Config()

	// What the app's login handler does: redirect to the hosted UI.
	verifier := cognito.GenerateVerifier()
	loginURL := cfg.LoginURL("state-123", cognito.WithPKCE(verifier))

	// What the browser does: follow it to the callback.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(loginURL)
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	callback, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		panic(err)
	}
	fmt.Println("state:", callback.Query().Get("state"))

	// What the app's callback handler does.
	client, err := cognito.NewClient(cfg)
	if err != nil {
		panic(err)
	}
	tokens, err := client.ExchangeCode(context.Background(), callback.Query().Get("code"), cognito.WithCodeVerifier(verifier))
	if err != nil {
		panic(err)
	}
	v, err := cognito.NewVerifier(cfg)
	if err != nil {
		panic(err)
	}
	id, err := v.VerifyIDToken(context.Background(), tokens.IDToken)
	if err != nil {
		panic(err)
	}
	fmt.Println(id.Username, id.Email, id.EmailVerified)
	// Output:
	// state: state-123
	// alice alice@example.com true
}

// newSessions builds Sessions on cfg with a memory store; opts go to the
// Client and the Verifier, sessionOpts to Sessions.
func newSessions(cfg cognito.Config, opts []cognito.Option, sessionOpts ...cognito.SessionOption) *cognito.Sessions {
	client, err1 := cognito.NewClient(cfg, opts...)
	verifier, err2 := cognito.NewVerifier(cfg, opts...)
	sessions, err3 := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, cognito.NewMemoryStore(), sessionOpts...)
	if err := errors.Join(err1, err2, err3); err != nil {
		log.Fatal(err)
	}
	return sessions
}

// serve routes mux to sessions' handlers and a page that greets the
// signed-in user, and returns a browser's GET of a page of app, which signs
// in through the pool first when needed.
func serve(app *httptest.Server, mux *http.ServeMux, sessions *cognito.Sessions) func(path string) string {
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.Handle("GET /", sessions.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, _ := cognito.SessionFromContext(r.Context())
		fmt.Fprintf(w, "hello %s, your tokens expire at %s", s.IDToken.Username, s.Expiry.UTC().Format(time.Kitchen))
	})))
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	return func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, app.URL+path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate") // a page load, as a browser sends it
		res, err := browser.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return fmt.Sprintf("%d %s", res.StatusCode, body)
	}
}

// Start the pool first and the app second, on a port chosen when it
// listens: SetRedirectURIs then allows the app's callback URL, and Config
// returns it.
func ExampleServer_SetRedirectURIs() {
	pool, err := cognitotest.Start() // in a test: cognitotest.NewServer(t)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")

	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	if err := pool.SetRedirectURIs(pool.Config().ClientID, app.URL+"/callback"); err != nil {
		log.Fatal(err)
	}
	cfg := pool.Config()
	fmt.Println(cfg.RedirectURI == app.URL+"/callback")

	get := serve(app, mux, newSessions(cfg, nil))
	fmt.Println(get("/orders")[:15])
	// Output:
	// true
	// 200 hello alice
}

// Share one Clock between the pool, the library and the test: when the test
// moves it past the tokens' expiry, Sessions refreshes them on the next
// request and a Verifier refuses the old ones, with no sleep.
func ExampleClock() {
	clk := cognitotest.NewClock(time.Date(2030, 1, 2, 9, 0, 0, 0, time.UTC))
	pool, err := cognitotest.Start(cognitotest.WithClock(clk.Now))
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	pool.SignInAs("alice")
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	if err := pool.SetRedirectURIs(pool.Config().ClientID, app.URL+"/callback"); err != nil {
		log.Fatal(err)
	}
	cfg := pool.Config()
	get := serve(app, mux, newSessions(cfg,
		[]cognito.Option{cognito.WithClock(clk.Now)}, // the Client and the Verifier
		cognito.WithSessionClock(clk.Now)))           // Sessions
	verifier, err := cognito.NewVerifier(cfg, cognito.WithClock(clk.Now))
	if err != nil {
		log.Fatal(err)
	}
	old := pool.MintIDToken("alice")

	fmt.Println(get("/"))
	clk.Advance(time.Hour + time.Minute)
	fmt.Println(get("/"))
	fmt.Println("token requests:", pool.Requests(cognitotest.EndpointToken)) // the sign-in's and the refresh
	_, err = verifier.VerifyIDToken(context.Background(), old)
	fmt.Println(errors.Is(err, cognito.ErrTokenExpired))
	// Output:
	// 200 hello alice, your tokens expire at 10:00AM
	// 200 hello alice, your tokens expire at 11:01AM
	// token requests: 2
	// true
}

// Tokens for another app client of the pool: WithAudience names it, and an
// access token then carries that client's scopes, as the tokens of its
// sign-ins do, so that a test of an API's scope guards needs no sign-in.
func ExampleWithAudience() {
	pool, err := cognitotest.Start() // in a test: cognitotest.NewServer(t)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	pool.AddUser(cognitotest.User{Username: "alice"})
	mobile, err := pool.AddClient(cognitotest.AppClient{ClientID: "mobile", Public: true, Scopes: []string{"openid", "orders/read"}})
	if err != nil {
		log.Fatal(err)
	}
	verifier, err := cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(pool.Config().ClientID, mobile.ClientID))
	if err != nil {
		log.Fatal(err)
	}
	for _, client := range []string{pool.Config().ClientID, mobile.ClientID} {
		token := pool.MintAccessToken("alice", cognitotest.WithAudience(client)) // that client's scopes
		at, err := verifier.VerifyAccessToken(context.Background(), token)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(at.ClientID, at.Scopes)
	}
	// Output:
	// cognitotest0client0id00000 [openid email phone profile aws.cognito.signin.user.admin]
	// mobile [openid orders/read]
}
