package cognito_test

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// Fuzz targets. `go test ./...` runs their seeds (the f.Add calls and the
// files in testdata/fuzz/<FuzzName>/); to fuzz one for real, one at a time:
//
//	go test -run '^$' -fuzz '^FuzzVerifyIDToken$' -fuzztime 3m .
//
// The other targets are FuzzLoginURL here and, in fuzz_internal_test.go,
// FuzzEachMember, FuzzParseHeader, FuzzParseClaims, FuzzParseJWKS and
// FuzzParseTokenResponse. A failing input is written to testdata/fuzz and
// stays there as a regression seed.

// fuzzKids are the kids the fuzz verifier's JWKS gives the pool's two keys:
// fixed, unlike the pool's own, so that the seed tokens in testdata/fuzz
// stay valid from run to run.
const fuzzIDKid, fuzzAccessKid = "fuzz-id-key", "fuzz-access-key"

// fuzzVerifier is a Verifier whose keys are fetched and whose quiet period
// has started before fuzzing, on a clock that never moves, so that no input
// makes it touch the network again.
type fuzzVerifier struct {
	v          *cognito.Verifier
	goodID     map[string]bool // every token VerifyIDToken may accept
	goodAccess map[string]bool // every token VerifyAccessToken may accept
	seeds      []string
	hits       *atomic.Int64 // JWKS requests
	primed     int64
	jwksURL    string
	now        time.Time // the frozen clock's
}

func newFuzzVerifier(f *testing.F) *fuzzVerifier {
	f.Helper()
	// The pool lends its embedded keys, the same in every process.
	pool := cognitotest.NewServer(f)
	idKey, accessKey := pool.SigningKey("id"), pool.SigningKey("access")
	pool.Close()

	fz := &fuzzVerifier{goodID: map[string]bool{}, goodAccess: map[string]bool{}, hits: new(atomic.Int64)}
	body := jwks(jwkJSON(&idKey.PublicKey, fuzzIDKid, "RS256", "sig", ""), jwkJSON(&accessKey.PublicKey, fuzzAccessKid, "RS256", "sig", ""))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fz.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, body)
	}))
	f.Cleanup(srv.Close)

	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	fz.jwksURL, fz.now = srv.URL+"/.well-known/jwks.json", now
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	v, err := cognito.NewVerifier(cognito.Config{
		UserPoolID: cognitotest.DefaultPoolID,
		ClientID:   cognitotest.DefaultClientID,
		JWKSURL:    fz.jwksURL,
	}, cognito.WithClock(func() time.Time { return now }))
	if err != nil {
		f.Fatal(err)
	}
	fz.v = v

	idHdr := hdr(q(fuzzIDKid), q("RS256")).bytes()
	accessHdr := hdr(q(fuzzAccessKid), q("RS256")).bytes()
	id := object{
		{"sub", q("2f9e4c3a-1b2d-4e5f-8a9b-0c1d2e3f4a5b")}, {"iss", q(hostileIssuer)},
		{"cognito:username", q("alice")}, {"aud", q(cognitotest.DefaultClientID)},
		{"token_use", q("id")}, {"auth_time", at(-time.Minute)}, {"exp", at(time.Hour)},
		{"iat", at(-time.Minute)}, {"email", q("alice@example.com")}, {"email_verified", "true"},
	}
	access := object{
		{"sub", q("2f9e4c3a-1b2d-4e5f-8a9b-0c1d2e3f4a5b")}, {"iss", q(hostileIssuer)},
		{"client_id", q(cognitotest.DefaultClientID)}, {"token_use", q("access")},
		{"scope", q("openid email")}, {"auth_time", at(-time.Minute)}, {"exp", at(time.Hour)},
		{"iat", at(-time.Minute)}, {"username", q("alice")},
	}
	for _, c := range []object{
		id,
		id.set("cognito:groups", `["admins","users"]`).set("nonce", q("n-0")).set("custom:tenant", q("acme")),
		id.set("aud", `["other",`+q(cognitotest.DefaultClientID)+`]`).set("azp", q(cognitotest.DefaultClientID)).set("email_verified", `"false"`).set("nbf", at(0)),
	} {
		fz.goodID[signed(idKey, crypto.SHA256, false, idHdr, c.bytes())] = true
	}
	for _, c := range []object{access, access.set("cognito:groups", `["admins"]`).set("exp", at(time.Minute)+".25")} {
		fz.goodAccess[signed(accessKey, crypto.SHA256, false, accessHdr, c.bytes())] = true
	}

	ctx := context.Background()
	for raw := range fz.goodID {
		if _, err := v.VerifyIDToken(ctx, raw); err != nil {
			f.Fatalf("a good ID token is refused: %v", err)
		}
		fz.seeds = append(fz.seeds, raw)
	}
	for raw := range fz.goodAccess {
		if _, err := v.VerifyAccessToken(ctx, raw); err != nil {
			f.Fatalf("a good access token is refused: %v", err)
		}
		fz.seeds = append(fz.seeds, raw)
	}
	// An unknown kid refetches once and starts the quiet period, which
	// the frozen clock never ends.
	unknown := signed(idKey, crypto.SHA256, false, hdr(q("unknown"), q("RS256")).bytes(), id.bytes())
	if _, err := v.VerifyIDToken(ctx, unknown); !errors.Is(err, cognito.ErrUnknownKey) {
		f.Fatalf("unknown kid: %v", err)
	}
	fz.primed = fz.hits.Load()
	if fz.primed != 2 {
		f.Fatalf("%d JWKS fetches while priming, want 2", fz.primed)
	}
	// Hostile variants of a good token, in the spirit of hostile_test.go.
	good := signed(idKey, crypto.SHA256, false, idHdr, id.bytes())
	parts := strings.Split(good, ".")
	fz.seeds = append(fz.seeds,
		unknown,
		b64u.EncodeToString(hdr(q(fuzzIDKid), q("none")).bytes())+"."+parts[1]+".",
		hmacToken(sha256.New, idKey.N.Bytes(), hdr(q(fuzzIDKid), q("HS256")).bytes(), id.bytes()),
		signed(idKey, crypto.SHA256, false, idHdr, id.add("exp", at(-time.Hour)).bytes()),
		signed(idKey, crypto.SHA256, false, idHdr, id.set("exp", `"`+at(time.Hour)+`"`).bytes()),
		signed(idKey, crypto.SHA256, false, hdr(q(fuzzIDKid), q("RS256")).add(`\u0061lg`, q("none")).bytes(), id.bytes()),
		// Names that encoding/json, and so Claims(v), takes for the same
		// field: validly signed, never accepted.
		signed(idKey, crypto.SHA256, false, idHdr, id.add("EMAIL", q("mallory@example.com")).bytes()),
		signed(idKey, crypto.SHA256, false, idHdr, id.add(`\u017fub`, q("admin")).bytes()),
		signed(idKey, crypto.SHA256, false, idHdr, id.del("email").add("Email", q("mallory@example.com")).bytes()),
		signed(idKey, crypto.SHA256, false, idHdr, id.add("custom:k", q("a")).add("custom:\u212a", q("b")).bytes()),
		parts[0]+"."+parts[1]+"."+parts[2][:len(parts[2])-1],
		parts[0]+"."+base64.RawStdEncoding.EncodeToString([]byte(`{"sub":"x"}`))+"."+parts[2],
		"..", "a.b.c", "",
	)
	return fz
}

// checkRefusal fails t unless err is a well-formed refusal: exactly one of
// the verifier's sentinels, a "cognito: " message without control characters
// and of bounded length.
func checkRefusal(t *testing.T, err error) {
	t.Helper()
	n := 0
	for _, s := range verifierSentinels {
		if errors.Is(err, s) {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("error matches %d sentinels, want 1: %v", n, err)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "cognito: ") || len(msg) > 512 ||
		strings.ContainsFunc(msg, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		t.Fatalf("ill-formed error message %q", msg)
	}
}

// FuzzVerifyIDToken feeds any string to a Verifier whose keys are cached: it
// must never panic, never touch the network again, and accept only the
// tokens signed for it, unmodified.
func FuzzVerifyIDToken(f *testing.F) {
	fz := newFuzzVerifier(f)
	for _, s := range fz.seeds {
		f.Add(s)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, raw string) {
		id, err := fz.v.VerifyIDToken(ctx, raw)
		switch {
		case err == nil && !fz.goodID[raw]:
			t.Fatalf("VerifyIDToken accepted a token that was never signed: %q", raw)
		case err == nil && (id.Subject == "" || id.Audience != cognitotest.DefaultClientID):
			t.Fatalf("accepted token with claims %+v", id)
		case err == nil:
			checkClaimsAgree(t, id)
		case err != nil:
			checkRefusal(t, err)
			if fz.goodID[raw] {
				t.Fatalf("a good ID token is refused: %v", err)
			}
		}
		at, err := fz.v.VerifyAccessToken(ctx, raw)
		switch {
		case err == nil && !fz.goodAccess[raw]:
			t.Fatalf("VerifyAccessToken accepted a token that was never signed: %q", raw)
		case err == nil && at.ClientID != cognitotest.DefaultClientID:
			t.Fatalf("accepted token with claims %+v", at)
		case err != nil:
			checkRefusal(t, err)
		}
		if n := fz.hits.Load(); n != fz.primed {
			t.Fatalf("the JWKS was fetched %d times after priming", n-fz.primed)
		}
	})
}

// checkClaimsAgree fails t unless Claims(v), which decodes as encoding/json
// does (matching names ignoring case), reads the same claims as id's fields.
func checkClaimsAgree(t *testing.T, id *cognito.IDToken) {
	t.Helper()
	var v struct {
		Sub           string   `json:"sub"`
		Email         string   `json:"email"`
		EmailVerified any      `json:"email_verified"`
		Name          string   `json:"name"`
		Nonce         string   `json:"nonce"`
		Username      string   `json:"cognito:username"`
		Groups        []string `json:"cognito:groups"`
		Exp           float64  `json:"exp"`
	}
	if err := id.Claims(&v); err != nil {
		t.Fatalf("Claims of an accepted token: %v", err)
	}
	verified := v.EmailVerified == true || v.EmailVerified == "true"
	if v.Sub != id.Subject || v.Email != id.Email || verified != id.EmailVerified || v.Name != id.Name ||
		v.Nonce != id.Nonce || v.Username != id.Username || !slices.Equal(v.Groups, id.Groups) ||
		int64(v.Exp) != id.Expiry.Unix() {
		t.Fatalf("Claims(v) reads %+v, the fields %+v", v, id)
	}
}

// FuzzLoginURL checks that LoginURL's values round-trip exactly through
// url.Parse, whatever they hold: no value can add, drop or change another
// parameter, the host or the path.
func FuzzLoginURL(f *testing.F) {
	for _, s := range [][4]string{
		{"state", "nonce", "Google", "verifier"},
		{"", "", "", ""},
		{"a&redirect_uri=https://evil.example", "n#frag", "COGNITO?x=1", "v"},
		{"%zz%00\x00\r\n", "+ +", "é\xff\xfe", "\u2028"},
		{"/../../", "a=b;c=d", "https://evil.example/", strings.Repeat("x", 200)},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbC123",
		ClientID:    "client123",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback?x=1&y=2",
		Scopes:      []string{"openid", "email"},
	}
	f.Fuzz(func(t *testing.T, state, nonce, idp, verifier string) {
		raw := cfg.LoginURL(state, cognito.WithNonce(nonce), cognito.WithIdentityProvider(idp), cognito.WithPKCE(verifier))
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("url.Parse(%q): %v", raw, err)
		}
		if u.Scheme != "https" || u.Host != "myapp.auth.us-east-1.amazoncognito.com" || u.Path != "/oauth2/authorize" ||
			u.Fragment != "" || u.User != nil || u.Opaque != "" {
			t.Fatalf("LoginURL %q escapes its endpoint", raw)
		}
		got, err := url.ParseQuery(u.RawQuery)
		if err != nil {
			t.Fatalf("query of %q: %v", raw, err)
		}
		sum := sha256.Sum256([]byte(verifier))
		want := url.Values{
			"response_type":         {"code"},
			"client_id":             {"client123"},
			"redirect_uri":          {"https://app.example.com/callback?x=1&y=2"},
			"scope":                 {"openid email"},
			"state":                 {state},
			"nonce":                 {nonce},
			"identity_provider":     {idp},
			"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
			"code_challenge_method": {"S256"},
		}
		if len(got) != len(want) {
			t.Fatalf("query %q has %d parameters, want %d", u.RawQuery, len(got), len(want))
		}
		for k, w := range want {
			if g := got[k]; len(g) != 1 || g[0] != w[0] {
				t.Fatalf("%s = %q, want %q", k, g, w)
			}
		}
	})
}
