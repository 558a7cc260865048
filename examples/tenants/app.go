package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/cognitokit/cognito"
)

// tenant is a customer of the service with a user pool of its own, as the
// admin endpoint takes it.
type tenant struct {
	Name       string `json:"name"`
	UserPoolID string `json:"user_pool_id"`
	ClientID   string `json:"client_id"`          // the app client its users sign in with
	Issuer     string `json:"issuer,omitempty"`   // only for an emulator or a fake pool
	JWKSURL    string `json:"jwks_url,omitempty"` // likewise
}

func (t tenant) config() cognito.Config {
	return cognito.Config{UserPoolID: t.UserPoolID, ClientID: t.ClientID, Issuer: t.Issuer, JWKSURL: t.JWKSURL}
}

// tenantTable is the service's table of tenants, by name; in a real service
// a database table, which every replica reads. Its Resolve is the
// TenantVerifier's resolver: the issuer of a token is that of one tenant's
// pool, or of none.
type tenantTable struct {
	mu       sync.RWMutex
	byName   map[string]tenant
	byIssuer map[string]string // pool issuer → tenant name
}

func newTenantTable() *tenantTable {
	return &tenantTable{byName: map[string]tenant{}, byIssuer: map[string]string{}}
}

// Resolve answers the pool of the tenant whose issuer iss is, or
// ErrInvalidIssuer. An issuer of no tenant costs a map lookup, not a query:
// tokens with made-up issuers are cheap to refuse.
func (tt *tenantTable) Resolve(_ context.Context, iss string) (cognito.Config, error) {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	name, ok := tt.byIssuer[iss]
	if !ok {
		return cognito.Config{}, cognito.ErrInvalidIssuer
	}
	return tt.byName[name].config(), nil
}

// put adds or replaces a tenant, and returns the issuers whose pools changed.
func (tt *tenantTable) put(t tenant) (changed []string) {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	changed = tt.removeLocked(t.Name)
	iss := t.config().IssuerURL()
	if other, ok := tt.byIssuer[iss]; ok { // the pool moves to this tenant
		changed = append(changed, tt.removeLocked(other)...)
	}
	tt.byName[t.Name] = t
	tt.byIssuer[iss] = t.Name
	return append(changed, iss)
}

// remove deletes a tenant, and returns the issuer of its pool.
func (tt *tenantTable) remove(name string) []string {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return tt.removeLocked(name)
}

func (tt *tenantTable) removeLocked(name string) []string {
	t, ok := tt.byName[name]
	if !ok {
		return nil
	}
	iss := t.config().IssuerURL()
	delete(tt.byName, name)
	delete(tt.byIssuer, iss)
	return []string{iss}
}

func (tt *tenantTable) nameOf(iss string) string {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	return tt.byIssuer[iss]
}

func (tt *tenantTable) list() []tenant {
	tt.mu.RLock()
	defer tt.mu.RUnlock()
	var out []tenant
	for _, t := range tt.byName {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b tenant) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// newAPI is the public API: every route takes an access token of a
// tenant's pool, verified by v.
func newAPI(v *cognito.TenantVerifier, table *tenantTable) http.Handler {
	auth := cognito.RequireAccessToken(v, cognito.WithRealm("notes"))
	mux := http.NewServeMux()
	mux.Handle("GET /me", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := cognito.AccessTokenFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"tenant": table.nameOf(t.Issuer), "username": t.Username, "groups": t.Groups})
	})))
	// Each tenant's own admins group: a group of one pool says nothing of another.
	mux.Handle("GET /admin/report", auth(cognito.RequireGroup("admins")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := cognito.AccessTokenFromContext(r.Context())
		writeJSON(w, http.StatusOK, map[string]string{"tenant": table.nameOf(t.Issuer), "report": "all well"})
	}))))
	return mux
}

var tenantName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// newAdmin is the operators' endpoint, served on a loopback address of its
// own: it adds, replaces and removes tenants, and tells v, so that the
// change applies at once on this replica (others see it within
// cognito.WithTenantTTL). A tenant's pool is trusted with every token it
// signs, so only the machine's own users may reach it (onlyFromThisMachine).
func newAdmin(v *cognito.TenantVerifier, table *tenantTable) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /tenants", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, table.list())
	})
	mux.HandleFunc("PUT /tenants/{name}", func(w http.ResponseWriter, r *http.Request) {
		var t tenant
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			http.Error(w, `want {"user_pool_id": "...", "client_id": "..."}`, http.StatusBadRequest)
			return
		}
		t.Name = r.PathValue("name")
		if !tenantName.MatchString(t.Name) {
			http.Error(w, "a tenant's name is lower-case letters, digits and dashes", http.StatusBadRequest)
			return
		}
		if err := t.config().Validate(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, iss := range table.put(t) {
			v.Forget(iss)
		}
		writeJSON(w, http.StatusOK, t)
	})
	mux.HandleFunc("DELETE /tenants/{name}", func(w http.ResponseWriter, r *http.Request) {
		gone := table.remove(r.PathValue("name"))
		if len(gone) == 0 {
			http.Error(w, "no such tenant", http.StatusNotFound)
			return
		}
		for _, iss := range gone {
			v.Forget(iss)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return onlyFromThisMachine(mux)
}

// onlyFromThisMachine keeps web pages out of a loopback endpoint that has no
// authentication of its own. Loopback stops other machines, not a browser
// on this one: a page of another site may send it requests (refused by
// http.CrossOriginProtection, from Sec-Fetch-Site or Origin), and after DNS
// rebinding, its own host name resolving to 127.0.0.1, same-origin ones
// whose Host is that name (refused here: only a loopback Host is this
// machine's).
func onlyFromThisMachine(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, err := net.SplitHostPort(r.Host)
		if err != nil {
			host = r.Host
		}
		if ip := net.ParseIP(strings.Trim(host, "[]")); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			http.Error(w, "the admin endpoint answers only requests to a loopback host", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	}))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
