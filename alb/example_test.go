package alb_test

import (
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
	"github.com/cognitokit/cognito/alb/albtest"
)

// A service behind a load balancer whose listener rule authenticates users
// with Cognito: the first block of docs/alb.md.
// It does no I/O until a request comes, so it compiles here but does not run.
func Example_behindALoadBalancer() {
	v, err := alb.NewVerifier(alb.Config{
		Region:           "us-east-1",
		LoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"},
		ClientIDs:        []string{"4fmvht22tjrgd7d3k3tghttct7"},
		Issuer:           "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /me", alb.RequireUser(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := alb.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s <%s>\n", user.Username, user.Email)
	})))
	log.Fatal(http.ListenAndServe(":8080", mux))
}

// Testing a handler behind RequireUser with albtest's fake load balancer:
// its key server, and values minted as a load balancer shapes them.
func Example_testing() {
	lb := albtest.Start() // in a test: albtest.NewServer(t)
	defer lb.Close()
	v, err := alb.NewVerifier(lb.Config(), cognito.WithHTTPClient(lb.Client()))
	if err != nil {
		log.Fatal(err)
	}
	h := alb.RequireUser(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := alb.TokenFromContext(r.Context())
		fmt.Fprintf(w, "hello %s <%s>", user.Username, user.Email)
	}))

	req := httptest.NewRequest(http.MethodGet, "/me", nil)
	req.Header.Set(alb.DataHeader, lb.Mint("8f9e2b1c", albtest.WithUsername("alice"), albtest.WithEmail("alice@example.com")))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	fmt.Println(rec.Code, rec.Body.String())

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/me", nil)) // went around the load balancer
	fmt.Println(rec.Code)
	// Output:
	// 200 hello alice <alice@example.com>
	// 401
}

// The access token the load balancer forwards, verified too, so that the
// cognito package's group and scope guards work behind it.
func ExampleRequireAccessToken() {
	cfg := cognito.Config{UserPoolID: "us-east-1_AbCdEf123", ClientID: "4fmvht22tjrgd7d3k3tghttct7"}
	accessVerifier, err := cognito.NewVerifier(cfg)
	if err != nil {
		log.Fatal(err)
	}
	v, err := alb.NewVerifier(alb.Config{
		LoadBalancerARNs: []string{"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"},
		ClientIDs:        []string{cfg.ClientID},
		Issuer:           "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123",
	})
	if err != nil {
		log.Fatal(err)
	}
	admin := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "admin page") })
	mux := http.NewServeMux()
	mux.Handle("/admin/", alb.RequireUser(v)(alb.RequireAccessToken(accessVerifier)(cognito.RequireGroup("admins")(admin))))
}
