package cognitotest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

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
