// Command tenants is a notes API for a SaaS product that gives each customer
// (tenant) a Cognito user pool of its own, added while the API runs. One
// cognito.TenantVerifier verifies the tokens of every tenant's pool: it
// reads a token's issuer, asks the service's table of tenants for that
// pool's configuration (the resolver), and verifies the token with that
// pool's keys, fetched once and kept for the next tokens. A token of a pool
// that is no tenant's is refused without any request to anyone.
//
// The operators' endpoint, on a loopback address of its own, adds, replaces
// and removes tenants; each change calls TenantVerifier.Forget, so that it
// applies at once.
//
// With -demo (the default) it starts two fake user pools (cognitotest), for
// the tenants acme and globex, adds acme, and prints how to call the API as
// a user of each and how to add globex:
//
//	go run ./examples/tenants                # the API on 127.0.0.1:8082, the admin endpoint on 127.0.0.1:8083
//	go run ./examples/tenants -demo=false    # no tenant until you add one
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
	"syscall"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/cognitotest"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "address of the API")
	adminAddr := flag.String("admin-addr", "127.0.0.1:8083", "address of the operators' endpoint (loopback only)")
	demo := flag.Bool("demo", true, "start fake user pools for two tenants")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *addr, *adminAddr, *demo, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tenants:", err)
		os.Exit(1)
	}
}

// run serves the API on addr and the admin endpoint on adminAddr until ctx
// ends. The last line of its start-up output is "tenants: listening on
// <URL>".
func run(ctx context.Context, addr, adminAddr string, demo bool, out io.Writer) error {
	host, _, err := net.SplitHostPort(adminAddr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("-admin-addr %s is not a loopback address: the admin endpoint has no authentication of its own", adminAddr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	adminLn, err := net.Listen("tcp", adminAddr)
	if err != nil {
		return err
	}
	defer adminLn.Close()
	apiURL, adminURL := "http://"+ln.Addr().String(), "http://"+adminLn.Addr().String()

	table := newTenantTable()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	verifier, err := cognito.NewTenantVerifier(table.Resolve, cognito.WithLogger(logger))
	if err != nil {
		return err
	}
	if demo {
		acme, globex, err := startDemoPools()
		if err != nil {
			return err
		}
		defer acme.Close()
		defer globex.Close()
		table.put(demoTenant("acme", acme))
		fmt.Fprintf(out, "tenants: fake user pools (cognitotest) for acme (a tenant) and globex (not yet one)\n")
		fmt.Fprintf(out, "tenants: acme's admin:  curl -H 'Authorization: Bearer %s' %s/admin/report\n", acme.MintAccessToken("alice"), apiURL)
		fmt.Fprintf(out, "tenants: globex's user: curl -H 'Authorization: Bearer %s' %s/me\n", globex.MintAccessToken("bob"), apiURL)
		g := demoTenant("globex", globex)
		fmt.Fprintf(out, "tenants: add globex:    curl -X PUT --data '{\"user_pool_id\":%q,\"client_id\":%q,\"issuer\":%q}' %s/tenants/globex\n",
			g.UserPoolID, g.ClientID, g.Issuer, adminURL)
	}

	srv := &http.Server{Handler: newAPI(verifier, table), ReadHeaderTimeout: 10 * time.Second}
	admin := &http.Server{Handler: newAdmin(verifier, table), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ln) }()
	go func() { errc <- admin.Serve(adminLn) }()
	fmt.Fprintf(out, "tenants: admin endpoint on %s\n", adminURL)
	fmt.Fprintf(out, "tenants: listening on %s\n", apiURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(ignoreClosed(srv.Shutdown(shutdownCtx)), ignoreClosed(admin.Shutdown(shutdownCtx)))
}

func ignoreClosed(err error) error {
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// startDemoPools starts the fake pools of the two demo tenants, each with a
// user in its admins group.
func startDemoPools() (acme, globex *cognitotest.Server, err error) {
	if acme, err = cognitotest.Start(cognitotest.WithPoolID("us-east-1_AcmeCorp1"), cognitotest.WithClientID("acmeweb")); err != nil {
		return nil, nil, err
	}
	if globex, err = cognitotest.Start(cognitotest.WithPoolID("eu-west-1_Globex001"), cognitotest.WithClientID("globexweb")); err != nil {
		acme.Close()
		return nil, nil, err
	}
	acme.AddUser(cognitotest.User{Username: "alice", Groups: []string{"admins"}})
	globex.AddUser(cognitotest.User{Username: "bob", Groups: []string{"admins"}})
	return acme, globex, nil
}

func demoTenant(name string, pool *cognitotest.Server) tenant {
	cfg := pool.Config()
	return tenant{Name: name, UserPoolID: cfg.UserPoolID, ClientID: cfg.ClientID, Issuer: cfg.Issuer}
}
