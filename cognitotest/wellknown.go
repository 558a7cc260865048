package cognitotest

import (
	"encoding/json"
	"net/http"
)

// serveJWKS answers the published keys: kty, kid, alg RS256, use sig, n, e.
func (s *Server) serveJWKS(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	set, err := s.keys.jwks()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	body, err := json.Marshal(set)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "internal_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(body) //nolint:errcheck // the client may be gone
}

// serveDiscovery answers the OpenID Connect discovery document as Cognito
// shapes it, with this server's URLs.
func (s *Server) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	if !allowMethods(w, r, http.MethodGet, http.MethodHead) {
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                s.Issuer(),
		"authorization_endpoint":                s.url + "/oauth2/authorize",
		"token_endpoint":                        s.url + "/oauth2/token",
		"userinfo_endpoint":                     s.url + "/oauth2/userInfo",
		"revocation_endpoint":                   s.url + "/oauth2/revoke",
		"end_session_endpoint":                  s.url + "/logout",
		"jwks_uri":                              s.Issuer() + "/.well-known/jwks.json",
		"response_types_supported":              []string{"code"},
		"scopes_supported":                      []string{"openid", "email", "phone", "profile"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}
