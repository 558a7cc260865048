// Package cognitotest runs a fake Amazon Cognito user pool for tests, in the
// spirit of net/http/httptest: an app client (and any more added with
// AddClient), the hosted UI endpoints on Cognito's paths, and tokens shaped and
// signed as Cognito's are.
//
//	pool := cognitotest.NewServer(t) // closed by t.Cleanup
//	pool.AddUser(cognitotest.User{Username: "alice", Password: "pw", Email: "alice@example.com"})
//	cfg := pool.Config()             // a cognito.Config wired to the fake
//
// The server answers:
//
//   - GET /oauth2/authorize and /login: checks client_id, redirect_uri (exact
//     match), response_type=code, scope and PKCE (S256 only), then signs in
//     the user chosen with SignInAs, or shows a sign-in form that POSTs to
//     /login, and redirects to redirect_uri with code and state. Errors that
//     cannot be redirected (bad client_id or redirect_uri) get a 400 page;
//     others are redirected with error, error_description and state.
//   - POST /oauth2/token: the authorization_code grant (codes are single use
//     and expire after CodeLifetime on the server's clock; redirect_uri and the
//     PKCE verifier are checked), refresh_token (rotation with
//     WithRefreshTokenRotation) and client_credentials (resource-server scopes
//     only). The client authenticates with HTTP Basic or client_secret in the
//     body. Errors are Cognito's JSON bodies and statuses.
//   - POST /oauth2/revoke, GET or POST /oauth2/userInfo and GET /logout.
//   - GET /<pool>/.well-known/jwks.json and /<pool>/.well-known/openid-configuration,
//     under the issuer URL()+"/"+poolID.
//
// As in Cognito, ID tokens and access tokens are signed by two different RSA
// keys, both published in the JWKS. For tests of the code that consumes
// tokens, MintIDToken and MintAccessToken make tokens with any claim changed,
// SignRaw signs hand-made header and claims bytes (repeated members, wrong
// types, any alg) with the key SigningKeyID names, RotateKeys and RetireKey
// change the signing keys, FailNext makes an endpoint fail, hang, trickle or
// answer garbage, Requests counts what each endpoint was asked, and
// WithLogger logs each token request's grant type and outcome.
//
// A pool has as many app clients as a test adds with AddClient, each with its
// own secret (or none), callback URLs and allowed scopes; ClientConfig wires a
// cognito.Config to one. Scopes with a slash ("orders/read") are
// resource-server scopes, which the client_credentials grant issues, and
// MintClientCredentialsToken makes the token that grant gives a client.
//
// A test that starts the pool before its app, which learns its address only
// once it listens (httptest.NewServer), allows the app's callback and
// sign-out URLs afterwards with SetRedirectURIs and SetLogoutURIs. A Clock
// shared by the pool (WithClock(clk.Now)), the library (cognito.WithClock,
// cognito.WithSessionClock) and the test moves time for all three at once:
// tokens expire, and sessions refresh, when the test says so.
//
// The fake keeps no browser session: every authorize request signs in anew,
// so a max_age is always met and auth_time is the sign-in's, on the server's
// clock (it stays the same in refreshed tokens). An authorize request with
// acr_values or max_age gets tokens with acr and amr: the User's ACR and
// AMR, whatever level was asked, as the app must check what was reached.
// Refreshed tokens carry neither: Cognito's documentation does not say that
// they keep them, and an app that needs them must keep the sign-in's.
// MintIDToken and MintAccessToken set them with WithClaim.
//
// It signs with test-only keys shipped in its source (testkeys.pem): never
// trust its tokens outside a test.
package cognitotest
