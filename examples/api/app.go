package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	"github.com/cognitokit/cognito"
)

// Order is what the API keeps.
type Order struct {
	ID     int    `json:"id"`
	Item   string `json:"item"`
	Placed string `json:"placed_by"` // the user's name, or the service's client ID
}

// caller is what /me says of the bearer.
type caller struct {
	Kind     string   `json:"kind"` // "user" or "service"
	Subject  string   `json:"sub"`
	ClientID string   `json:"client_id"`
	Username string   `json:"username,omitempty"`
	Scopes   []string `json:"scopes"`
	Groups   []string `json:"groups,omitempty"`
}

// newAPI is the orders API. v verifies the bearer tokens (a Verifier that
// lists every app client the API accepts, or a MultiPoolVerifier); ready
// answers the readiness probe.
func newAPI(v cognito.AccessTokenVerifier, ready func(context.Context) error) http.Handler {
	var (
		mu     sync.Mutex
		orders = []Order{{ID: 1, Item: "coffee beans", Placed: "demo"}}
	)
	auth := cognito.RequireAccessToken(v, cognito.WithRealm("orders"))
	mux := http.NewServeMux()

	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := ready(r.Context()); err != nil {
			http.Error(w, "not ready: the user pool's keys cannot be fetched", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})

	// Any valid token: a user's through the web or mobile client, or a service's.
	mux.Handle("GET /me", auth(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t, _ := cognito.AccessTokenFromContext(r.Context())
		writeJSON(w, http.StatusOK, describe(t))
	})))

	// Reading orders takes orders/read or orders/write, whoever holds it.
	mux.Handle("GET /orders", auth(cognito.RequireAnyScope("orders/read", "orders/write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, http.StatusOK, slices.Clone(orders))
	}))))

	// Placing one takes orders/write.
	mux.Handle("POST /orders", auth(cognito.RequireAllScopes("orders/write")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct {
			Item string `json:"item"`
		}
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4<<10)).Decode(&in); err != nil || in.Item == "" {
			http.Error(w, `want {"item": "..."}`, http.StatusBadRequest)
			return
		}
		t, _ := cognito.AccessTokenFromContext(r.Context())
		mu.Lock()
		o := Order{ID: len(orders) + 1, Item: in.Item, Placed: describe(t).name()}
		orders = append(orders, o)
		mu.Unlock()
		writeJSON(w, http.StatusCreated, o)
	}))))

	// The report is for people in the admins group: no service is in a group.
	mux.Handle("GET /admin/report", auth(cognito.RequireGroup("admins")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"orders": len(orders)})
	}))))
	return mux
}

// describe tells a user's token from a service's: a client_credentials token
// has no username, and its subject is the client itself.
func describe(t *cognito.AccessToken) caller {
	c := caller{Kind: "user", Subject: t.Subject, ClientID: t.ClientID, Username: t.Username, Scopes: t.Scopes, Groups: t.Groups}
	if t.Username == "" && t.Subject == t.ClientID {
		c.Kind = "service"
	}
	if c.Scopes == nil {
		c.Scopes = []string{}
	}
	return c
}

func (c caller) name() string {
	if c.Kind == "service" {
		return c.ClientID
	}
	return c.Username
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
