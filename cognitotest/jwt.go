package cognitotest

import (
	"bytes"
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

// idClaims are the claims of a Cognito ID token. User attributes come last
// and never replace the claims Cognito sets itself.
func (s *Server) idClaims(u User, sess *session, iat, exp time.Time, nonce string) map[string]any {
	c := map[string]any{
		"sub":              u.Sub,
		"iss":              s.Issuer(),
		"cognito:username": u.Username,
		"origin_jti":       sess.originJTI,
		"aud":              sess.clientID,
		"event_id":         sess.eventID,
		"token_use":        "id",
		"auth_time":        sess.authTime.Unix(),
		"exp":              exp.Unix(),
		"iat":              iat.Unix(),
		"jti":              newUUID(),
	}
	if u.Email != "" || u.EmailVerified {
		c["email"] = u.Email
		c["email_verified"] = u.EmailVerified
	}
	if u.Name != "" {
		c["name"] = u.Name
	}
	if len(u.Groups) > 0 {
		c["cognito:groups"] = slices.Clone(u.Groups)
	}
	if nonce != "" {
		c["nonce"] = nonce
	}
	for k, v := range u.Attributes {
		if _, taken := c[k]; !taken {
			c[k] = v
		}
	}
	return c
}

// accessClaims are the claims of a Cognito access token for a user.
func (s *Server) accessClaims(u User, sess *session, iat, exp time.Time) map[string]any {
	c := map[string]any{
		"sub":        u.Sub,
		"iss":        s.Issuer(),
		"version":    2,
		"client_id":  sess.clientID,
		"origin_jti": sess.originJTI,
		"event_id":   sess.eventID,
		"token_use":  "access",
		"scope":      strings.Join(sess.scopes, " "),
		"auth_time":  sess.authTime.Unix(),
		"exp":        exp.Unix(),
		"iat":        iat.Unix(),
		"jti":        newUUID(),
		"username":   u.Username,
	}
	if len(u.Groups) > 0 {
		c["cognito:groups"] = slices.Clone(u.Groups)
	}
	return c
}

// clientClaims are the claims of a client_credentials access token: the
// client is its own subject and there is no user.
func (s *Server) clientClaims(clientID string, scopes []string, iat, exp time.Time) map[string]any {
	return map[string]any{
		"sub":       clientID,
		"iss":       s.Issuer(),
		"version":   2,
		"client_id": clientID,
		"token_use": "access",
		"scope":     strings.Join(scopes, " "),
		"auth_time": iat.Unix(),
		"exp":       exp.Unix(),
		"iat":       iat.Unix(),
		"jti":       newUUID(),
	}
}

// sign signs claims with the key that signs tokens of use ("id" or "access").
func (s *Server) sign(use string, claims map[string]any) (string, error) {
	k := s.keys.signer(use)
	return signJWT(k.priv, []headerField{{"kid", k.kid}, {"alg", "RS256"}}, claims)
}

type headerField struct {
	name  string
	value any
}

// signJWT makes a compact JWS of claims with RS256 (RFC 7515, 7518 section
// 3.3). It writes the header itself, field by field, so that it keeps
// Cognito's order ({"kid","alg"}) and can say anything a test asks for,
// even an alg it does not sign with; alg "none" gets an empty signature.
func signJWT(key *rsa.PrivateKey, header []headerField, claims map[string]any) (string, error) {
	var h bytes.Buffer
	h.WriteByte('{')
	alg := ""
	for i, f := range header {
		name, err := json.Marshal(f.name)
		if err != nil {
			return "", fmt.Errorf("cognitotest: header %q: %w", f.name, err)
		}
		value, err := json.Marshal(f.value)
		if err != nil {
			return "", fmt.Errorf("cognitotest: header %q: %w", f.name, err)
		}
		if i > 0 {
			h.WriteByte(',')
		}
		h.Write(name)
		h.WriteByte(':')
		h.Write(value)
		if f.name == "alg" {
			alg, _ = f.value.(string)
		}
	}
	h.WriteByte('}')
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("cognitotest: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	input := enc.EncodeToString(h.Bytes()) + "." + enc.EncodeToString(payload)
	if alg == "none" {
		return input + ".", nil
	}
	digest := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("cognitotest: signing: %w", err)
	}
	return input + "." + enc.EncodeToString(sig), nil
}
