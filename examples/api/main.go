// Command api is an orders API behind a Cognito user pool that several app
// clients call: a web client and a mobile client on behalf of signed-in users,
// and a back-end service with its own access tokens from the
// client_credentials grant (machine to machine). One cognito.Verifier accepts
// the three clients (cognito.WithClientIDs) with one cache of the pool's keys;
// the routes ask for scopes (orders/read, orders/write) or a group (admins);
// /readyz fetches the keys (Verifier.Prefetch), so a load balancer sends no
// traffic before the pool can be reached.
//
// With no configuration it starts a fake user pool (cognitotest) with the
// three clients and prints how to call it, as a service would:
//
//	go run ./examples/api                 # serves on 127.0.0.1:8081
//	go run ./examples/api -call URL       # the M2M caller (with the variables it printed)
//
// The caller calls the API through cognito.Client.HTTPClient, which adds its
// token to every request, cached and renewed a minute before it expires.
// Against a real pool, see README.md beside this file.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

// The app clients of the embedded fake pool.
const (
	mobileClientID  = "ordersmobile"
	serviceClientID = "reportingsvc"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "address to listen on")
	call := flag.String("call", "", "act as the M2M caller: GET this URL of the API with a client_credentials token")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	if *call != "" {
		err = callAPI(ctx, *call, os.Getenv, os.Stdout)
	} else {
		err = run(ctx, *addr, os.Getenv, os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}

// run serves the API on addr until ctx ends. The last line of its start-up
// output is "api: listening on <URL>".
func run(ctx context.Context, addr string, getenv func(string) string, out io.Writer) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	apiURL := "http://" + ln.Addr().String()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	var v *cognito.Verifier
	if pool := getenv("COGNITO_USER_POOL_ID"); pool != "" || getenv("COGNITO_ISSUER") != "" {
		cfg := cognito.Config{
			Region: getenv("COGNITO_REGION"), UserPoolID: pool,
			Issuer: getenv("COGNITO_ISSUER"), JWKSURL: getenv("COGNITO_JWKS_URL"),
		}
		ids := strings.FieldsFunc(getenv("COGNITO_CLIENT_IDS"), func(r rune) bool { return r == ',' || r == ' ' })
		if v, err = cognito.NewVerifier(cfg, cognito.WithClientIDs(ids...), cognito.WithLogger(logger)); err != nil {
			return err
		}
		fmt.Fprintf(out, "api: user pool %s, accepting app clients %s\n", cfg.IssuerURL(), strings.Join(ids, ", "))
	} else {
		pool, svc, err := startFakePool()
		if err != nil {
			return err
		}
		defer pool.Close()
		if v, err = cognito.NewVerifier(pool.Config(), cognito.WithClientIDs(mobileClientID, serviceClientID), cognito.WithLogger(logger)); err != nil {
			return err
		}
		web := pool.MintAccessToken("demo")
		fmt.Fprintf(out, "api: no COGNITO_* variables set: using a fake user pool (cognitotest) at %s\n", pool.URL())
		fmt.Fprintf(out, "api: accepting the web client %s, the mobile client %s and the service %s\n", pool.Config().ClientID, mobileClientID, serviceClientID)
		fmt.Fprintf(out, "api: a user's call:  curl -H 'Authorization: Bearer %s' %s/me\n", web, apiURL)
		fmt.Fprintf(out, "api: the service's:  COGNITO_USER_POOL_ID=%s COGNITO_DOMAIN=%s COGNITO_CLIENT_ID=%s COGNITO_CLIENT_SECRET=%s COGNITO_SCOPE=orders/read go run ./examples/api -call %s/orders\n",
			pool.Config().UserPoolID, pool.URL(), svc.ClientID, svc.ClientSecret, apiURL)
	}

	srv := &http.Server{Handler: newAPI(v, v.Prefetch), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(out, "api: listening on %s\n", apiURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startFakePool starts a fake pool with the three app clients and a demo user
// in the admins group, and returns it with the service's client.
func startFakePool() (*cognitotest.Server, cognitotest.AppClient, error) {
	scopes := []string{"openid", "email", "profile", "orders/read", "orders/write"}
	pool, err := cognitotest.Start(cognitotest.WithAllowedScopes(scopes...))
	if err != nil {
		return nil, cognitotest.AppClient{}, err
	}
	pool.AddUser(cognitotest.User{Username: "demo", Password: "demo-password", Email: "demo@example.com", Groups: []string{"admins"}})
	if _, err := pool.AddClient(cognitotest.AppClient{ClientID: mobileClientID, Public: true, RedirectURIs: []string{"ordersapp://callback"}, Scopes: scopes}); err != nil {
		pool.Close()
		return nil, cognitotest.AppClient{}, err
	}
	svc, err := pool.AddClient(cognitotest.AppClient{ClientID: serviceClientID, Scopes: []string{"orders/read"}})
	if err != nil {
		pool.Close()
		return nil, cognitotest.AppClient{}, err
	}
	return pool, svc, nil
}

// callAPI is the M2M caller: it GETs url with an access token of its own app
// client (COGNITO_USER_POOL_ID or COGNITO_ISSUER, COGNITO_DOMAIN,
// COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET; scopes from COGNITO_SCOPE,
// space-separated) and prints the answer.
func callAPI(ctx context.Context, url string, getenv func(string) string, out io.Writer) error {
	cfg := cognito.Config{
		Domain: getenv("COGNITO_DOMAIN"), ClientID: getenv("COGNITO_CLIENT_ID"), ClientSecret: getenv("COGNITO_CLIENT_SECRET"),
		UserPoolID: getenv("COGNITO_USER_POOL_ID"), Issuer: getenv("COGNITO_ISSUER"),
	}
	client, err := cognito.NewClient(cfg)
	if err != nil {
		return err
	}
	// One HTTPClient for the life of the process: it keeps the token and
	// renews it WithRenewMargin (a minute) before it expires, for every
	// goroutine. oauth2.NewClient over client.TokenSource would renew it only
	// 10 s before.
	hc := client.HTTPClient(strings.Fields(getenv("COGNITO_SCOPE"))...)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s %s\n%s", res.Status, url, body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("the API answered %s", res.Status)
	}
	return nil
}
