package cognitotest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws"
)

// serveUserInfo is GET or POST /oauth2/userInfo with a Bearer access token.
// It answers the user's attributes that the token's scopes cover, with
// email_verified as the string "true" or "false", as Cognito does.
func (s *Server) serveUserInfo(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodPost) {
		return
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || raw == "" {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "Access token is missing")
		return
	}
	claims, desc := s.checkAccessToken(strings.TrimSpace(raw))
	if desc != "" {
		bearerError(w, http.StatusUnauthorized, "invalid_token", desc)
		return
	}
	scope, _ := claims["scope"].(string)
	scopes := strings.Fields(scope)
	has := func(sc string) bool {
		return slices.Contains(scopes, sc) || slices.Contains(scopes, "aws.cognito.signin.user.admin")
	}
	if !has("openid") {
		bearerError(w, http.StatusForbidden, "insufficient_scope", "the access token lacks the openid scope")
		return
	}
	username, _ := claims["username"].(string)
	u, ok := s.user(username)
	if !ok {
		bearerError(w, http.StatusUnauthorized, "invalid_token", "User does not exist.")
		return
	}

	info := map[string]string{}
	for k, v := range u.Attributes {
		phone := strings.HasPrefix(k, "phone_number")
		if phone && has("phone") || !phone && has("profile") {
			info[k] = v
		}
	}
	if u.Name != "" && has("profile") {
		info["name"] = u.Name
	}
	if (u.Email != "" || u.EmailVerified) && has("email") {
		info["email"] = u.Email
		info["email_verified"] = strconv.FormatBool(u.EmailVerified)
	}
	info["sub"], info["username"] = u.Sub, u.Username
	writeJSON(w, http.StatusOK, info)
}

// checkAccessToken verifies raw as an access token of this pool: signature
// by one of the pool's keys (retired ones too), token_use, iss, exp, nbf and
// revocation. It answers the claims, or why the token is refused.
func (s *Server) checkAccessToken(raw string) (map[string]any, string) {
	set, err := s.keys.verificationSet()
	if err != nil {
		return nil, "Invalid access token"
	}
	payload, err := jws.Verify([]byte(raw), jws.WithKeySet(set, jws.WithRequireKid(true)), jws.WithAlgorithmMatch(true))
	if err != nil {
		return nil, "Invalid access token"
	}
	var claims map[string]any
	if json.Unmarshal(payload, &claims) != nil {
		return nil, "Invalid access token"
	}
	now := float64(s.now().Unix())
	exp, _ := claims["exp"].(float64)
	nbf, hasNBF := claims["nbf"].(float64)
	switch {
	case claims["token_use"] != "access":
		return nil, "Invalid access token: token_use is not access"
	case claims["iss"] != s.Issuer():
		return nil, "Invalid access token: iss is not this pool"
	case exp <= now:
		return nil, "Access token has expired"
	case hasNBF && nbf > now:
		return nil, "Access token is not yet valid"
	}
	if oj, _ := claims["origin_jti"].(string); oj != "" {
		s.mu.Lock()
		sess := s.sessions[oj]
		revoked := sess != nil && sess.revoked
		s.mu.Unlock()
		if revoked {
			return nil, "Access token has been revoked"
		}
	}
	return claims, ""
}

// bearerError answers a refused access token as RFC 6750 section 3 asks,
// with Cognito's JSON body.
func bearerError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("WWW-Authenticate", `Bearer error="`+code+`", error_description="`+desc+`"`)
	writeError(w, status, code, desc)
}
