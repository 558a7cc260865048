package cognito

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

const (
	// maxTokenBytes bounds the tokens the Verifier looks at; Cognito's are a
	// few KiB even with many groups.
	maxTokenBytes = 64 << 10
	// maxHeaderBytes bounds the decoded JOSE header, which is read before the
	// signature is checked, so anyone can make it costly: Cognito's is about
	// 60 bytes. The claims are read only once the signature holds, and are
	// bounded by maxTokenBytes alone (48 KiB decoded).
	maxHeaderBytes = 4 << 10
	// IssuedAtAllowance is how far in the future, beyond the leeway, a token's
	// iat may lie before the token is refused with ErrTokenNotYetValid: enough
	// for ordinary clock skew between Cognito and this host.
	IssuedAtAllowance = time.Minute
)

var b64 = base64.RawURLEncoding.Strict()

// Verifier checks ID and access tokens against the pool's JWKS, fetched lazily
// and cached. A token is accepted only when every check passes: RS256 with a
// kid naming an RSA key of at least 2048 bits in the JWKS, a valid signature,
// claims of the right JSON types, iss equal to the pool's issuer, the expected
// token_use, aud (ID token) or client_id (access token) equal to the ClientID
// (or one of WithClientIDs),
// exp in the future and nbf not in the future (both within the leeway), and iat
// and auth_time no further ahead than the leeway plus IssuedAtAllowance.
// A token whose claims name another issuer is refused with ErrInvalidIssuer
// before any JWKS fetch, so that another pool's token gets a 401 even while
// this pool's keys cannot be fetched.
// It is safe for concurrent use; share one per user pool.
type Verifier struct {
	issuer, altIssuer string
	clientIDs         []string // Config.ClientID, then WithClientIDs
	checks            []func(context.Context, VerifiedToken) error
	now               func() time.Time
	leeway            time.Duration
	keys              *jwksCache
	cache             *tokenCache // nil when off; shared by the pools of a TenantVerifier

	revocations SessionStore  // nil when off; see WithRevocationList
	clock       verifierClock // now and leeway, for the access tokens to carry
	tenant      *tenantEntry  // the TenantVerifier's entry this Verifier serves; nil otherwise
}

// NewVerifier returns a Verifier for cfg, which must validate. It does no
// network I/O: the JWKS is fetched on the first verify. When cfg.Issuer is
// empty it accepts both of Cognito's issuer forms,
// https://cognito-idp.<region>.amazonaws.com/<pool> and
// https://issuer-cognito-idp.<region>.amazonaws.com/<pool>.
func NewVerifier(cfg Config, opts ...Option) (*Verifier, error) {
	s := newSettings(opts)
	return newVerifier(cfg, &s, newTokenCache(s.tokenCacheSize))
}

// newVerifier is NewVerifier with its settings resolved and its cache of
// verified tokens given, so that a TenantVerifier's pools share one.
func newVerifier(cfg Config, s *settings, cache *tokenCache) (*Verifier, error) {
	clientIDs, err := verifierClientIDs(cfg, s.api.clientIDs)
	if err != nil {
		return nil, err
	}
	v := &Verifier{
		issuer:    cfg.issuer(),
		altIssuer: cfg.altIssuer(),
		clientIDs: clientIDs,
		checks:    s.api.checks,
		now:       s.now,
		leeway:    s.leeway,
		cache:     cache,

		revocations: s.revocations,
		clock:       verifierClock{now: s.now, leeway: s.leeway},
	}
	v.keys = &jwksCache{
		url:        cfg.jwksURL(),
		client:     s.httpClient,
		now:        s.now,
		timeout:    s.jwksTimeout,
		refresh:    s.jwksRefresh,
		minRefetch: s.jwksMinRefetch,
		log:        s.api.logger,
	}
	if v.cache != nil {
		v.keys.onChange = func(set *keySet) { v.cache.retain(v, set) }
	}
	if s.api.hasJWKS {
		if err := v.keys.pin(s.api.jwks); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// IDToken is a verified ID token: who the user is, and how and when they
// signed in. ACR and AMR are empty when the token has no acr or amr claim,
// as Cognito's tokens have none unless the sign-in asked for a level
// (WithACRValues, WithMaxAge).
type IDToken struct {
	Subject, Email, Username, Issuer, Audience, Nonce string
	Name                                              string // the name attribute, when the pool shares it
	EmailVerified                                     bool
	Groups                                            []string // cognito:groups
	IssuedAt, Expiry, AuthTime                        time.Time
	ACR                                               string   // the acr claim: the level the sign-in reached, e.g. "urn:cognito:loa:2"
	AMR                                               []string // the amr claim: the methods completed, e.g. ["pwd", "otp", "mfa"]
	claims                                            []byte
}

// Claims decodes every claim of the token into v, as encoding/json does: use
// it for attributes without a field here, such as "custom:tenant" or
// "phone_number". encoding/json matches names to fields ignoring case, so the
// verifier refuses a token with two claims whose names differ only in case,
// or with a claim read into a field here spelled in another case ("EMAIL"):
// a field of v tagged as one of these claims gets what the field here holds.
func (t *IDToken) Claims(v any) error { return decodeClaims(t.claims, v) }

// AccessToken is a verified access token: what the bearer may do, and how
// and when its user signed in (ACR and AMR empty without acr and amr claims).
type AccessToken struct {
	Subject, ClientID, Username, Issuer string
	Scopes, Groups                      []string
	IssuedAt, Expiry, AuthTime          time.Time
	ACR                                 string   // the acr claim: the level the sign-in reached
	AMR                                 []string // the amr claim: the methods completed
	claims                              []byte
	clock                               *verifierClock // the Verifier's, for RequireStepUp
}

// verifierClock is the time a Verifier judges tokens by, which RequireStepUp
// judges auth_time by too: it runs behind RequireAccessToken, without the
// Verifier, and gets it from the token.
type verifierClock struct {
	now    func() time.Time
	leeway time.Duration
}

// Claims decodes every claim of the token into v, as encoding/json does.
func (t *AccessToken) Claims(v any) error { return decodeClaims(t.claims, v) }

func decodeClaims(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: decoding claims: %w", ErrMalformedToken, jsonError(err))
	}
	return nil
}

// VerifyIDToken verifies raw as an ID token of the pool's app client
// (token_use "id", aud equal to the ClientID) and returns its claims. Compare
// Nonce with the one sent to LoginURL, when one was. ctx bounds a JWKS fetch,
// should one be needed.
func (v *Verifier) VerifyIDToken(ctx context.Context, raw string) (*IDToken, error) {
	if v == nil {
		return nil, errNilVerifier
	}
	return v.verifyIDToken(ctx, raw, nil, time.Time{})
}

// verifyIDToken is VerifyIDToken, given the cache's entry for raw when the
// caller looked it up already (nil: not looked up), and the time when the
// caller read the clock already (zero: not read).
func (v *Verifier) verifyIDToken(ctx context.Context, raw string, hit *verified, now time.Time) (*IDToken, error) {
	e, err := v.verify(ctx, raw, "id", hit, now)
	if err != nil {
		return nil, err
	}
	t := e.id
	if v.cache != nil {
		c := *e.id // the cached one stays unchanged whatever the caller does with its copy
		c.Groups, c.AMR = slices.Clone(c.Groups), slices.Clone(c.AMR)
		t = &c
	}
	if err := v.runChecks(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// VerifyAccessToken verifies raw as an access token issued to the pool's app
// client (token_use "access", client_id equal to the ClientID) and returns its
// claims. ctx bounds a JWKS fetch, should one be needed.
func (v *Verifier) VerifyAccessToken(ctx context.Context, raw string) (*AccessToken, error) {
	if v == nil {
		return nil, errNilVerifier
	}
	return v.verifyAccessToken(ctx, raw, nil, time.Time{})
}

// verifyAccessToken is VerifyAccessToken, given the cache's entry for raw
// when the caller looked it up already (nil: not looked up), and the time
// when the caller read the clock already (zero: not read).
func (v *Verifier) verifyAccessToken(ctx context.Context, raw string, hit *verified, now time.Time) (*AccessToken, error) {
	e, err := v.verify(ctx, raw, "access", hit, now)
	if err != nil {
		return nil, err
	}
	t := e.access
	if v.cache != nil {
		c := *e.access
		c.Scopes, c.Groups, c.AMR = slices.Clone(c.Scopes), slices.Clone(c.Groups), slices.Clone(c.AMR)
		t = &c
	}
	if err := v.runChecks(ctx, t); err != nil {
		return nil, err
	}
	return t, nil
}

// verified is the result of one full verification, as the cache keeps it.
type verified struct {
	use                     string
	kid                     string
	key                     *publicKey
	exp, nbf, iat, authTime time.Time
	id                      *IDToken
	access                  *AccessToken
	revKey                  string    // the revocation list's key, when there is a list
	by                      *Verifier // the Verifier that verified it, in a cache shared by several
}

// verify returns raw's verification, from the cache when it holds one by v
// (hit, when not nil, is what the cache holds for raw) and otherwise by
// checking everything. A hit reads the clock once (now, unless zero), as
// clock reads are a good part of its cost.
func (v *Verifier) verify(ctx context.Context, raw, use string, hit *verified, now time.Time) (*verified, error) {
	if v.cache != nil {
		if hit == nil {
			hit = v.cache.get(raw)
		}
		if hit != nil && now.IsZero() {
			now = v.now()
		}
		if e := hit; e != nil && e.by == v && e.use == use && v.keys.vouches(e.kid, e.key, now) {
			if err := v.checkTimesAt(now, e.exp, e.nbf, e.iat, e.authTime); err != nil {
				v.cache.remove(raw)
				return nil, err
			}
			if err := v.checkRevoked(ctx, e.revKey); err != nil {
				return nil, err
			}
			return e, nil
		}
	}
	e, err := v.verifyToken(ctx, raw, use)
	if err != nil {
		return nil, err
	}
	if v.cache != nil {
		v.cache.put(raw, e)
	}
	if err := v.checkRevoked(ctx, e.revKey); err != nil {
		return nil, err
	}
	return e, nil
}

// verifyToken runs every check on raw. The signature is checked before any
// claim is read.
func (v *Verifier) verifyToken(ctx context.Context, raw, use string) (*verified, error) {
	if len(raw) == 0 || len(raw) > maxTokenBytes {
		return nil, fmt.Errorf("%w: token is empty or longer than %d bytes", ErrMalformedToken, maxTokenBytes)
	}
	dot1, dot2 := splitCompact(raw)
	// The strict decoder refuses padding and the standard alphabet, but skips
	// CR and LF: refuse those here, so that one token has one spelling.
	if dot2 < 0 || strings.IndexByte(raw, '\n') >= 0 || strings.IndexByte(raw, '\r') >= 0 {
		return nil, fmt.Errorf("%w: not three base64url parts separated by dots", ErrMalformedToken)
	}
	if dot1 > b64.EncodedLen(maxHeaderBytes) {
		return nil, fmt.Errorf("%w: header is longer than %d bytes", ErrMalformedToken, maxHeaderBytes)
	}
	tok := []byte(raw) // one copy, decoded in place and hashed as the signing input
	hdrJSON, err := decode(tok[:dot1])
	if err != nil {
		return nil, fmt.Errorf("%w: header is not canonical base64url", ErrMalformedToken)
	}
	hdr, err := parseHeader(hdrJSON)
	if err != nil {
		return nil, err
	}
	if hdr.alg != "RS256" {
		return nil, fmt.Errorf("%w: alg %q (want RS256)", ErrUnsupportedAlgorithm, clean(hdr.alg, 32))
	}
	if hdr.kid == "" {
		return nil, fmt.Errorf("%w: header has no kid", ErrUnknownKey)
	}
	sig, err := decode(tok[dot2+1:])
	if err != nil {
		return nil, fmt.Errorf("%w: signature is not canonical base64url", ErrMalformedToken)
	}
	payload, err := decode(tok[dot1+1 : dot2])
	if err != nil {
		return nil, fmt.Errorf("%w: claims are not canonical base64url", ErrMalformedToken)
	}
	key := v.keys.ready(hdr.kid)
	if key == nil {
		// This verify may fetch the JWKS. A token of another issuer is
		// refused first, unverified as its iss is: it would be refused after
		// the signature anyway, and this way neither its kid nor this pool's
		// key server being down turns the answer into ErrUnknownKey or a 503.
		// A verify whose key is cached skips this second scan of the claims.
		if err := v.checkIssuerBeforeFetch(payload); err != nil {
			return nil, err
		}
		if key, err = v.keys.key(ctx, hdr.kid); err != nil {
			return nil, err
		}
	}
	if key.alg != "" && key.alg != hdr.alg {
		return nil, fmt.Errorf("%w: alg %s differs from the key's %q", ErrUnsupportedAlgorithm, hdr.alg, clean(key.alg, 32))
	}
	if len(sig) != key.pub.Size() {
		return nil, fmt.Errorf("%w: signature is %d bytes, the key's are %d", ErrInvalidSignature, len(sig), key.pub.Size())
	}
	// RS256 is RSASSA-PKCS1-v1_5 over SHA-256 (RFC 7518 section 3.3). jwx's
	// generic jws/jwsbb path ends in this same call, but looks the algorithm
	// up in a registry behind a process-wide lock first; with the algorithm
	// fixed, the hot path calls crypto/rsa itself.
	digest := sha256.Sum256(tok[:dot2])
	if err := rsa.VerifyPKCS1v15(key.pub, crypto.SHA256, digest[:], sig); err != nil {
		return nil, fmt.Errorf("%w: the signature does not verify with kid %q", ErrInvalidSignature, clean(hdr.kid, 64))
	}

	c, err := parseClaims(payload, use)
	if err != nil {
		return nil, err
	}
	if !c.iss.equals(v.issuer) && (v.altIssuer == "" || !c.iss.equals(v.altIssuer)) {
		return nil, fmt.Errorf("%w: iss %q (want %q)", ErrInvalidIssuer, clean(c.iss.String(), 128), redactURL(v.issuer))
	}
	if !c.tokenUse.equals(use) {
		return nil, fmt.Errorf("%w: token_use %q (want %q)", ErrInvalidTokenUse, clean(c.tokenUse.String(), 16), use)
	}
	if c.sub == "" {
		return nil, fmt.Errorf("%w: claims have no sub", ErrMalformedToken)
	}
	e := &verified{use: use, kid: hdr.kid, key: key, exp: c.exp, nbf: c.nbf, iat: c.iat, authTime: c.authTime, by: v}
	if v.revocations != nil {
		e.revKey = c.revocationKey()
	}
	issuer := v.issuer
	if !c.iss.equals(issuer) {
		issuer = v.altIssuer
	}
	if use == "id" {
		client, ok := v.idTokenClient(&c)
		if !ok {
			return nil, fmt.Errorf("%w: aud does not include %s", ErrInvalidAudience, v.clientsWanted())
		}
		e.id = &IDToken{
			Subject: c.sub, Email: c.email, Username: c.username, Issuer: issuer,
			Audience: client, Nonce: c.nonce, Name: c.name, EmailVerified: c.emailVerified,
			Groups: c.groups, IssuedAt: c.iat, Expiry: c.exp, AuthTime: c.authTime,
			ACR: c.acr, AMR: c.amr, claims: payload,
		}
	} else {
		client, ok := v.accessTokenClient(&c)
		if !ok {
			return nil, fmt.Errorf("%w: client_id is not %s", ErrInvalidAudience, v.clientsWanted())
		}
		e.access = &AccessToken{
			Subject: c.sub, ClientID: client, Username: c.username, Issuer: issuer,
			Scopes: strings.Fields(c.scope), Groups: c.groups,
			IssuedAt: c.iat, Expiry: c.exp, AuthTime: c.authTime,
			ACR: c.acr, AMR: c.amr, claims: payload, clock: &v.clock,
		}
	}
	if err := v.checkTimes(c.exp, c.nbf, c.iat, c.authTime); err != nil {
		return nil, err
	}
	return e, nil
}

// checkIssuerBeforeFetch refuses claims that name an issuer, read without
// any other check, that is not the pool's. Claims that are malformed or name
// no issuer are left to the full verification, which judges them after the
// signature as it judges any claims; claims it lets through are checked in
// full once the signature holds.
func (v *Verifier) checkIssuerBeforeFetch(payload []byte) error {
	iss, err := issuerOf(payload)
	if err != nil || iss.equals(v.issuer) || (v.altIssuer != "" && iss.equals(v.altIssuer)) {
		return nil
	}
	return fmt.Errorf("%w: iss %q (want %q)", ErrInvalidIssuer, clean(iss.String(), 128), redactURL(v.issuer))
}

// checkTimes applies exp, nbf, iat and auth_time to the clock, with the
// leeway.
func (v *Verifier) checkTimes(exp, nbf, iat, authTime time.Time) error {
	return v.checkTimesAt(v.now(), exp, nbf, iat, authTime)
}

// checkTimesAt applies exp, nbf, iat and auth_time to now, with the leeway.
// A sign-in cannot have happened after its token was issued, so auth_time
// gets iat's allowance: a later one is forged or from a broken clock, and
// would pass any MaxAge of RequireStepUp.
func (v *Verifier) checkTimesAt(now, exp, nbf, iat, authTime time.Time) error {
	if !now.Before(exp.Add(v.leeway)) {
		return fmt.Errorf("%w: exp %s is not after %s", ErrTokenExpired, exp.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !nbf.IsZero() && now.Add(v.leeway).Before(nbf) {
		return fmt.Errorf("%w: nbf %s is after %s", ErrTokenNotYetValid, nbf.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !iat.IsZero() && iat.After(now.Add(v.leeway+IssuedAtAllowance)) {
		return fmt.Errorf("%w: iat %s is after %s", ErrTokenNotYetValid, iat.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	if !authTime.IsZero() && authTime.After(now.Add(v.leeway+IssuedAtAllowance)) {
		return fmt.Errorf("%w: auth_time %s is after %s", ErrTokenNotYetValid, authTime.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// splitCompact returns the positions of the two dots of a compact JWS, or -1
// for dot2 when raw has fewer or more than two.
func splitCompact(raw string) (dot1, dot2 int) {
	dot1 = strings.IndexByte(raw, '.')
	if dot1 < 0 {
		return -1, -1
	}
	d := strings.IndexByte(raw[dot1+1:], '.')
	if d < 0 {
		return dot1, -1
	}
	dot2 = dot1 + 1 + d
	if strings.IndexByte(raw[dot2+1:], '.') >= 0 {
		return dot1, -1
	}
	return dot1, dot2
}

// decode decodes strict base64url.
func decode(src []byte) ([]byte, error) {
	buf := make([]byte, b64.DecodedLen(len(src)))
	n, err := b64.Decode(buf, src)
	return buf[:n], err
}
