// Package bench compares the cost of verifying a Cognito token with this
// library against the RSA floor and the Go peers (go-oidc, golang-jwt, jwx).
// It lives in its own module so the library's go.mod names none of the peers.
// Everything is in the _test.go files; run.sh prints the table.
package bench
