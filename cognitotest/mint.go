package cognitotest

import (
	"crypto/rsa"
	"slices"
	"time"
)

// MintIDToken makes an ID token for the user username, signed and shaped as
// the pool's own, with opts applied. A user never added gets a stand-in
// with only that username and a sub derived from it. If signing fails, it
// reports the error to the test of NewServer and returns "".
func (s *Server) MintIDToken(username string, opts ...TokenOption) string {
	return s.mint("id", username, opts)
}

// MintAccessToken makes an access token for the user username, with every
// scope its app client allows and opts applied, as MintIDToken does. The app
// client is the server's own, or the one WithAudience names when the pool
// has it (AddClient); for a client it lacks, the server's own client's
// scopes are kept.
func (s *Server) MintAccessToken(username string, opts ...TokenOption) string {
	return s.mint("access", username, opts)
}

// TokenOption changes a token made by MintIDToken or MintAccessToken. Options
// apply in order, so a later WithClaim overrides an earlier option.
type TokenOption interface{ applyToken(*mintSpec) }

type tokenOptionFunc func(*mintSpec)

func (f tokenOptionFunc) applyToken(m *mintSpec) { f(m) }

type mintSpec struct {
	audience         string // WithAudience's client ID, when given
	issuedAt, expiry time.Time
	expired          bool
	claims           []func(use string, c map[string]any)
	header           []headerField
	key              *rsa.PrivateKey
}

func (m *mintSpec) setClaim(name string, value any) {
	m.claims = append(m.claims, func(_ string, c map[string]any) {
		if value == nil {
			delete(c, name)
		} else {
			c[name] = value
		}
	})
}

// Expired makes the token expire one minute before the server's clock,
// having lived the pool's token lifetime (unless WithIssuedAt says when it
// was issued).
func Expired() TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.expired = true })
}

// WithExpiry sets exp to t.
func WithExpiry(t time.Time) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.expiry = t })
}

// WithIssuedAt sets iat and auth_time to t; exp follows, one token lifetime
// later, unless WithExpiry or Expired sets it.
func WithIssuedAt(t time.Time) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.issuedAt = t })
}

// WithNotBefore adds an nbf claim, which Cognito's tokens do not carry.
func WithNotBefore(t time.Time) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.setClaim("nbf", t.Unix()) })
}

// WithAudience sets the app client the token is for: aud of an ID token,
// client_id of an access token. When the pool has that client, an access
// token carries its scopes, as the tokens of its sign-ins do.
func WithAudience(clientID string) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) {
		m.audience = clientID
		m.claims = append(m.claims, func(use string, c map[string]any) {
			if use == "id" {
				c["aud"] = clientID
			} else {
				c["client_id"] = clientID
			}
		})
	})
}

// WithIssuer sets iss.
func WithIssuer(iss string) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.setClaim("iss", iss) })
}

// WithTokenUse sets token_use, to make an ID token that claims to be an
// access token or the reverse.
func WithTokenUse(use string) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.setClaim("token_use", use) })
}

// WithClaim sets the claim name to value, adding it or replacing the
// pool's; a nil value removes the claim. Values marshal as JSON, so
// []string{"a"} becomes an array and 1.5 a number.
func WithClaim(name string, value any) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.setClaim(name, value) })
}

// WithHeader sets the JOSE header field name to value, adding it or
// replacing the pool's; a nil value removes it. The token is still signed
// with RS256 whatever "alg" says, except that alg "none" leaves the
// signature empty.
func WithHeader(name string, value any) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.header = append(m.header, headerField{name, value}) })
}

// WithKeyID sets the header's kid, to name a key the JWKS lacks or another
// of the pool's keys.
func WithKeyID(kid string) TokenOption {
	return WithHeader("kid", kid)
}

// WithSigningKey signs the token with key instead of the pool's key. The
// header keeps the pool key's kid unless WithKeyID changes it, so the
// signature does not verify.
func WithSigningKey(key *rsa.PrivateKey) TokenOption {
	return tokenOptionFunc(func(m *mintSpec) { m.key = key })
}

func (s *Server) mint(use, username string, opts []TokenOption) string {
	return s.mintWith(use, opts, func(m *mintSpec, iat, exp time.Time) map[string]any {
		u := s.userOrStandIn(username)
		client := s.client(m.audience)
		if client == nil {
			client = s.client(s.clientID)
		}
		sess := &session{originJTI: newUUID(), eventID: newUUID(), username: u.Username, clientID: client.id, scopes: client.scopes, authTime: iat}
		if use == "id" {
			return s.idClaims(u, sess, iat, exp, "")
		}
		return s.accessClaims(u, sess, iat, exp)
	})
}

// mintWith signs the claims base makes for iat and exp, as opts change them.
func (s *Server) mintWith(use string, opts []TokenOption, base func(m *mintSpec, iat, exp time.Time) map[string]any) string {
	var m mintSpec
	for _, o := range opts {
		if o != nil {
			o.applyToken(&m)
		}
	}
	now := s.now()
	iat := now
	if !m.issuedAt.IsZero() {
		iat = m.issuedAt
	}
	exp := iat.Add(s.tokenLifetime)
	switch {
	case !m.expiry.IsZero():
		exp = m.expiry
	case m.expired:
		exp = now.Add(-time.Minute)
		if m.issuedAt.IsZero() {
			iat = exp.Add(-s.tokenLifetime)
		}
	}

	claims := base(&m, iat, exp)
	for _, edit := range m.claims {
		edit(use, claims)
	}

	signer := s.keys.signer(use)
	header := []headerField{{"kid", signer.kid}, {"alg", "RS256"}}
	for _, f := range m.header {
		i := slices.IndexFunc(header, func(h headerField) bool { return h.name == f.name })
		switch {
		case f.value == nil && i >= 0:
			header = slices.Delete(header, i, i+1)
		case f.value == nil:
		case i >= 0:
			header[i] = f
		default:
			header = append(header, f)
		}
	}
	key := signer.priv
	if m.key != nil {
		key = m.key
	}
	tok, err := signJWT(key, header, claims)
	if err != nil {
		if s.tb != nil {
			s.tb.Helper()
			s.tb.Errorf("cognitotest: minting a token: %v", err)
		}
		return ""
	}
	return tok
}
