package redisstore_test

import (
	"log"
	"net/http"
	"os"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/redis/go-redis/v9"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/redisstore"
)

// Every replica keeps its sessions and the revocation list in one Redis: a
// user signed in on one is signed in on all, and a sign-out on one is
// honoured by every replica's API at once. (The Redis blocks of the README's
// quick start and of docs/webapp.md, "Several replicas: Redis".)
func Example() {
	cfg := cognito.Config{
		UserPoolID:  "us-east-1_AbCdEf123",
		ClientID:    "app-client-id",
		Domain:      "https://myapp.auth.us-east-1.amazoncognito.com",
		RedirectURI: "https://app.example.com/callback",
	}
	client, err := cognito.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	store, err := redisstore.Open(os.Getenv("REDIS_URL")) // redis://host:6379/0
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	verifier, err := cognito.NewVerifier(cfg, cognito.WithRevocationList(store))
	if err != nil {
		log.Fatal(err)
	}
	sessions, err := cognito.NewSessions(&cognito.LoginFlow{Config: cfg, Client: client, Verifier: verifier}, store)
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", sessions.Login)
	mux.HandleFunc("GET /callback", sessions.Callback)
	mux.HandleFunc("POST /logout", sessions.Logout)
	mux.Handle("GET /orders", sessions.Require(ordersPage))
	mux.Handle("GET /api/", cognito.RequireAccessToken(verifier)(api))
}

// An scs store for Redis, such as scs's goredisstore, fits as it is; Sessions
// and the Verifier call its context variants.
func Example_scsStore() {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	store := goredisstore.NewWithPrefix(rdb, "myapp:")
	var _ cognito.SessionStore = store
}

var ordersPage, api http.Handler = http.NotFoundHandler(), http.NotFoundHandler()
