package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/internal/safetext"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	s := newSettings("verify", "--pool ID --client ID [--client ID...] [--use id|access] [--json] TOKEN|-",
		"Verify checks a token as a backend using cognitokit would: signature against\n"+
			"the pool's JWKS, alg, kid, iss, token_use, aud or client_id, exp, nbf and iat.\n"+
			"A valid token gets exit status 0 and a summary on standard output: whose it\n"+
			"is, for which client, until when; then when and how the user signed in,\n"+
			"from auth_time and, when the pool records them (step-up authentication),\n"+
			"the level reached (acr) and the methods completed (amr).\n"+
			"An invalid one gets exit status 1 and one line on standard error that names\n"+
			"the failed check, the library's sentinel error, and what would fix it.\n"+
			"Without --use, the token's own token_use says which kind to verify it as.",
		"  cognito verify --pool us-east-1_AbCdEf123 --client 7abc1example \"$ID_TOKEN\"\n"+
			"  cognito verify --use access --json - < access.jwt")
	s.poolFlags()
	s.clientFlags(true)
	s.fs.DurationVar(&s.timeout, "timeout", DefaultTimeout, "bound on fetching the JWKS")
	use := s.fs.String("use", "", "verify as an ID or access token (`id|access`); default: what the token's token_use says")
	s.jsonFlag("print one JSON object, {\"valid\": ...}, on standard output, valid or not")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	switch *use {
	case "", "id", "access":
	default:
		return usagef("--use must be id or access, not %q", *use)
	}
	if err := s.needPool(""); err != nil {
		return err
	}
	if err := s.need("", "client"); err != nil {
		return err
	}
	raw, err := tokenArg(e, pos, "token")
	if err != nil {
		return err
	}
	cfg := s.config()
	v, err := cognito.NewVerifier(cfg, cognito.WithClientIDs(s.clients[1:]...), cognito.WithHTTPClient(s.httpClient()),
		cognito.WithClock(e.now), cognito.WithJWKSFetchTimeout(s.timeout))
	if err != nil {
		return usagef("%s", errorLine(err))
	}
	tok, _ := parseUnverified(raw) // for the explanation only; nil when not a JWT
	kind := *use
	if kind == "" {
		kind = "id"
		if tok != nil && str(tok.claims, "token_use") == "access" {
			kind = "access"
		}
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	var sum summary
	var si signIn
	if kind == "id" {
		var t *cognito.IDToken
		if t, err = v.VerifyIDToken(ctx, raw); err == nil {
			sum = summary{Valid: true, TokenUse: "id", Subject: t.Subject, Username: t.Username, Email: t.Email,
				Client: t.Audience, Issuer: t.Issuer, Groups: t.Groups, Expiry: t.Expiry}
			si = readSignIn(t.Claims, t.AuthTime)
		}
	} else {
		var t *cognito.AccessToken
		if t, err = v.VerifyAccessToken(ctx, raw); err == nil {
			sum = summary{Valid: true, TokenUse: "access", Subject: t.Subject, Username: t.Username,
				Client: t.ClientID, Issuer: t.Issuer, Groups: t.Groups, Scopes: t.Scopes, Expiry: t.Expiry}
			si = readSignIn(t.Claims, t.AuthTime)
		}
	}
	if err != nil {
		if errors.Is(err, cognito.ErrInvalidConfig) {
			return usagef("%s", errorLine(err))
		}
		x := explain(err, explainContext{tok: tok, use: kind, useGiven: *use != "", clients: s.clients,
			issuer: safetext.URL(cfg.IssuerURL()), jwksURL: safetext.URL(cfg.KeySetURL()), now: e.now()})
		if s.jsonOut {
			if werr := writeJSON(e.stdout, x); werr != nil {
				return werr
			}
		} else {
			fmt.Fprintf(e.stderr, "invalid: %s: %s (cognito.%s)\n", x.Check, x.Reason, x.Sentinel)
		}
		return reported{exitFailure}
	}
	now := e.now()
	sum.ExpiresIn = relative("exp", sum.Expiry, now)
	sum.AuthTime, sum.SignedIn, sum.ACR, sum.AMR = si.At, si.ago(now), si.ACR, si.AMR
	if s.jsonOut {
		return writeJSON(e.stdout, sum)
	}
	who := sum.Username
	if who == "" {
		who = sum.Subject
	}
	fmt.Fprintf(e.stdout, "valid %s token of %s for client %s, %s (%s)\n",
		map[string]string{"id": "ID", "access": "access"}[sum.TokenUse], clip(who, 256), sum.Client,
		sum.ExpiresIn, sum.Expiry.UTC().Format("2006-01-02 15:04:05 MST"))
	signedIn := "signed in"
	if sum.TokenUse == "access" && sum.Username == "" && sum.Subject == sum.Client {
		signedIn = "the client authenticated" // client_credentials: no user
	}
	if line := si.line(signedIn, now); line != "" {
		fmt.Fprintln(e.stdout, line)
	}
	return nil
}

// summary is what verify says of a valid token.
type summary struct {
	Valid     bool      `json:"valid"`
	TokenUse  string    `json:"token_use"`
	Subject   string    `json:"sub"`
	Username  string    `json:"username,omitempty"`
	Email     string    `json:"email,omitempty"`
	Client    string    `json:"client_id"`
	Issuer    string    `json:"iss"`
	Groups    []string  `json:"groups,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`
	Expiry    time.Time `json:"exp"`
	ExpiresIn string    `json:"expires_in"`
	// How and when the user signed in: auth_time, and Cognito's acr and amr
	// claims (step-up authentication), each left out when the token lacks it.
	AuthTime time.Time `json:"auth_time,omitzero"`
	SignedIn string    `json:"signed_in,omitempty"` // auth_time from now: "12m ago"
	ACR      string    `json:"acr,omitempty"`
	AMR      []string  `json:"amr,omitempty"`
}

// explanation is why verify refused a token, for people and for --json.
type explanation struct {
	Valid    bool   `json:"valid"`
	Check    string `json:"check"`    // the check that failed: "token_use", "aud", "exp", ...
	Sentinel string `json:"sentinel"` // the sentinel the library's error wraps: "ErrInvalidTokenUse"
	Reason   string `json:"reason"`   // what failed and what would fix it
	Error    string `json:"error"`    // the library's own message
}

type explainContext struct {
	tok      *unverified // nil when raw is not a JWT
	use      string      // "id" or "access": what the token was verified as
	useGiven bool        // --use was given
	clients  []string
	issuer   string
	jwksURL  string
	now      time.Time
}

// explain turns a verification error into the check that failed and what
// would fix it. Facts read from a token whose signature did not verify are
// said to be unverified. An iss that names another pool is refused before
// the keys are fetched, so it is unverified too; the other claims of a token
// refused after its signature verified (token_use, aud, times) were signed by
// the pool's key.
func explain(err error, c explainContext) explanation {
	x := explanation{Error: errorLine(err)}
	var hdr, claims map[string]any
	if c.tok != nil {
		hdr, claims = c.tok.hdr, c.tok.claims
	}
	// Strings from the token are cut and stripped of control characters, so
	// that a hostile token cannot write escape sequences to the terminal.
	kid := clip(str(hdr, "kid"), 128)
	set := func(check, sentinel, format string, args ...any) {
		x.Check, x.Sentinel, x.Reason = check, sentinel, fmt.Sprintf(format, args...)
	}
	switch {
	// JWKS first: a failed refetch for an unknown kid matches ErrUnknownKey too.
	case errors.Is(err, cognito.ErrJWKSUnavailable):
		set("jwks", "ErrJWKSUnavailable",
			"could not fetch the pool's keys from %s (%s): the token may be fine; check --pool, --region or --jwks-url, and the network",
			c.jwksURL, causeOf(err))
	case errors.Is(err, cognito.ErrMalformedToken):
		set("format", "ErrMalformedToken", "%s: pass the whole token (three base64url parts), without \"Bearer \"",
			strings.TrimPrefix(x.Error, "malformed token: "))
	case errors.Is(err, cognito.ErrUnsupportedAlgorithm):
		alg := clip(str(hdr, "alg"), 32)
		set("alg", "ErrUnsupportedAlgorithm",
			"alg is %q (unverified header), but Cognito signs with RS256: the token is not from a Cognito pool, or was forged", alg)
	case errors.Is(err, cognito.ErrUnknownKey) && kid == "":
		set("kid", "ErrUnknownKey", "the header names no kid (unverified); Cognito always sets one: the token is not from a Cognito pool")
	case errors.Is(err, cognito.ErrUnknownKey):
		set("kid", "ErrUnknownKey",
			"signed by kid %s (unverified header), which the pool no longer publishes at %s: the key was rotated, or the token was not signed by this pool (check --pool and --region)",
			kid, c.jwksURL)
	case errors.Is(err, cognito.ErrInvalidSignature):
		set("signature", "ErrInvalidSignature",
			"the signature does not verify with the pool's key %s: the token was altered, or signed by a key that is not the pool's",
			kid)
	case errors.Is(err, cognito.ErrInvalidIssuer):
		set("iss", "ErrInvalidIssuer", "iss is %s, not the expected %s: use the --pool (and --region) or --issuer of the pool that issued the token",
			clip(str(claims, "iss"), 256), c.issuer)
	case errors.Is(err, cognito.ErrInvalidTokenUse):
		x.Check, x.Sentinel = "token_use", "ErrInvalidTokenUse"
		got := clip(str(claims, "token_use"), 32)
		want := map[string]string{"id": "an ID token", "access": "an access token"}
		switch {
		case got == "id" || got == "access":
			x.Reason = fmt.Sprintf("token_use is %s, you asked for %s: use --use %s", got, want[c.use], got)
		default:
			x.Reason = fmt.Sprintf("token_use is %q, neither id nor access: this is not a Cognito ID or access token", got)
		}
	case errors.Is(err, cognito.ErrInvalidAudience):
		claim := "aud"
		if c.use == "access" {
			claim = "client_id"
		}
		got := clip(claimString(claims, claim), 256)
		set(claim, "ErrInvalidAudience", "%s is %s, not one of --client (%s): the token was issued to another app client; add --client %s if that one is yours",
			claim, got, strings.Join(c.clients, ", "), got)
	case errors.Is(err, cognito.ErrTokenExpired):
		exp, _ := unixTime(claims, "exp")
		set("exp", "ErrTokenExpired", "expired at %s, %s ago: get a fresh token (cognito refresh, or cognito login)",
			exp.Format("2006-01-02 15:04:05 MST"), human(c.now.Sub(exp)))
	case errors.Is(err, cognito.ErrTokenNotYetValid):
		// The verifier checks nbf, then iat and auth_time, which get an
		// allowance for clock skew: name the first that fails.
		claim := "auth_time"
		if nbf, ok := unixTime(claims, "nbf"); ok && nbf.After(c.now) {
			claim = "nbf"
		} else if iat, ok := unixTime(claims, "iat"); ok && iat.After(c.now.Add(cognito.IssuedAtAllowance)) {
			claim = "iat"
		}
		at, _ := unixTime(claims, claim)
		set(claim, "ErrTokenNotYetValid", "%s is %s, %s from now: the clock of this machine or of the issuer is wrong, or the token was made for later",
			claim, at.Format("2006-01-02 15:04:05 MST"), human(at.Sub(c.now)))
	default:
		set("other", sentinelName(err), "%s", x.Error)
	}
	return x
}

// claimString is a string or an array of strings claim, for messages.
func claimString(claims map[string]any, name string) string {
	switch v := claims[name].(type) {
	case string:
		return v
	case []any:
		var s []string
		for _, e := range v {
			if str, ok := e.(string); ok {
				s = append(s, str)
			}
		}
		return strings.Join(s, ", ")
	}
	return "missing"
}

// causeOf is the last part of an error chain's message: the reason a fetch
// failed, such as "connection refused" or "answered 404".
func causeOf(err error) string {
	msg := errorLine(err)
	msg = strings.TrimPrefix(msg, "JWKS unavailable: ")
	return msg
}

// sentinelName names the sentinel of an error no check above explains.
func sentinelName(err error) string {
	if errors.Is(err, cognito.ErrEndpointUnavailable) {
		return "ErrEndpointUnavailable"
	}
	return "none"
}
