// Package cognito signs the users of a Go web backend in through Amazon
// Cognito's hosted UI and verifies the tokens the user pool issues.
//
// Config describes one user pool app client. Client calls the pool's OAuth
// 2.0 endpoints (ExchangeCode, Refresh, Revoke, UserInfo). Verifier checks ID
// and access tokens against the pool's JWKS, which it fetches and caches.
// LoginFlow runs the hosted UI's sign-in for server-rendered apps, and
// RequireAccessToken guards an API. Every error wraps a sentinel of this
// package, so callers branch with errors.Is. Package cognitotest is a fake
// user pool for tests.
package cognito
