package main

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/internal/safetext"
)

// Defaults of cognito login.
const (
	// DefaultLoginPort is the loopback port of login's redirect URI,
	// http://localhost:8484/callback: fixed, so that it can be registered as
	// a callback URL of the app client once.
	DefaultLoginPort = 8484
	// DefaultLoginWait bounds how long login waits for the user to sign in.
	DefaultLoginWait = 5 * time.Minute
)

func runLogin(ctx context.Context, e *env, args []string) error {
	s := newSettings("login", "--domain URL --client ID [--secret S] [--pool ID] [--scope S...] [--print id|access|refresh]",
		"Login signs in through the pool's hosted UI, as a native app does: it opens\n"+
			"the browser (or prints the URL with --no-browser) on the authorize URL with\n"+
			"PKCE, state and nonce, waits for the redirect on\n"+
			"http://localhost:<port>/callback, exchanges the code, verifies the ID token\n"+
			"(nonce included), and prints the tokens as JSON, or one of them with --print.\n"+
			"Register http://localhost:8484/callback (or your --port) as a callback URL of\n"+
			"the app client. $BROWSER, when set, is the command that opens the URL.",
		"  curl -H \"Authorization: Bearer $(cognito login --print access)\" https://api.example.com/me")
	s.poolFlags()
	s.clientFlags(false)
	s.endpointFlags()
	s.scopeFlag("`scope` to ask for; repeatable; default openid, email, profile")
	port := s.fs.Int("port", DefaultLoginPort, "loopback `port` of the redirect URI http://localhost:<port>/callback")
	noBrowser := s.fs.Bool("no-browser", false, "print the sign-in URL instead of opening a browser")
	wait := s.fs.Duration("wait", DefaultLoginWait, "how long to wait for the sign-in")
	printWhich := s.fs.String("print", "", "print only one token (`id|access|refresh`), for $(...)")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("takes no arguments, got %q", pos[0])
	}
	if err := checkPrint(*printWhich, "id", "access", "refresh"); err != nil {
		return err
	}
	if *port < 1 || *port > 65535 {
		return usagef("--port must be between 1 and 65535")
	}
	if *wait <= 0 {
		return usagef("--wait must be positive")
	}
	if err := s.need("", "domain", "client"); err != nil {
		return err
	}
	if err := s.needPool(", to verify the ID token"); err != nil {
		return err
	}
	cfg := s.config()
	cfg.RedirectURI = "http://localhost:" + strconv.Itoa(*port) + "/callback"
	hc := s.httpClient()
	client, err := cognito.NewClient(cfg, cognito.WithHTTPClient(hc), cognito.WithClock(e.now))
	if err != nil {
		return usagef("%s", errorLine(err))
	}
	v, err := cognito.NewVerifier(cfg, cognito.WithHTTPClient(hc), cognito.WithClock(e.now),
		cognito.WithJWKSFetchTimeout(s.timeout))
	if err != nil {
		return usagef("%s", errorLine(err))
	}

	l := &loopbackLogin{
		client: client, verifier: v, timeout: s.timeout,
		state: cognito.GenerateVerifier(), nonce: cognito.GenerateVerifier(), pkce: cognito.GenerateVerifier(),
		done: make(chan loginResult, 1),
	}
	srv, err := l.listen(*port)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx) //nolint:errcheck // the answer is sent; the rest is cleanup
	}()

	loginURL := cfg.LoginURL(l.state, cognito.WithPKCE(l.pkce), cognito.WithNonce(l.nonce))
	if *noBrowser {
		fmt.Fprintf(e.stderr, "Open this URL in a browser to sign in:\n\n  %s\n\n", loginURL)
	} else {
		open := e.startBrowser
		if open == nil {
			open = startBrowser
		}
		if err := open(loginURL); err != nil {
			fmt.Fprintf(e.stderr, "Could not open a browser (%v). Open this URL to sign in:\n\n  %s\n\n", err, loginURL)
		} else {
			fmt.Fprintf(e.stderr, "Opened a browser to sign in. If none appeared, open:\n\n  %s\n\n", loginURL)
		}
	}
	fmt.Fprintf(e.stderr, "Waiting up to %s for the sign-in on %s ...\n", *wait, cfg.RedirectURI)

	timer := time.NewTimer(*wait)
	defer timer.Stop()
	var res loginResult
	select {
	case res = <-l.done:
	case <-timer.C:
		return fmt.Errorf("no sign-in reached %s within %s (raise --wait, or check that it is a callback URL of the app client)", cfg.RedirectURI, *wait)
	case <-ctx.Done():
		return errors.New("interrupted before the sign-in finished")
	}
	if res.err != nil {
		return res.err
	}
	who := res.id.Username
	if who == "" {
		who = res.id.Subject
	}
	fmt.Fprintf(e.stderr, "Signed in as %s.\n", who)
	return printTokens(e, res.tokens, *printWhich)
}

// loopbackLogin is one sign-in waiting for its callback.
type loopbackLogin struct {
	client             *cognito.Client
	verifier           *cognito.Verifier
	timeout            time.Duration
	state, nonce, pkce string

	mu       sync.Mutex
	finished bool
	done     chan loginResult // gets exactly one result
}

type loginResult struct {
	tokens *cognito.Tokens
	id     *cognito.IDToken
	err    error
}

// listen serves /callback on localhost:port: on 127.0.0.1, and on ::1 too
// when the host has it, since browsers may resolve localhost to either.
func (l *loopbackLogin) listen(port int) (*http.Server, error) {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s for the callback: %w (is another login running? use --port)", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /callback", l.callback)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown
	if ln6, err := net.Listen("tcp", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		go srv.Serve(ln6) //nolint:errcheck // ends with Shutdown
	}
	return srv, nil
}

// callback accepts the first callback that carries this login's state, and
// only that one: a callback with another state (a stale tab, a forged link)
// is refused and the login keeps waiting.
func (l *loopbackLogin) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	l.mu.Lock()
	if l.finished {
		l.mu.Unlock()
		page(w, http.StatusBadRequest, "This sign-in is already finished.", "You can close this tab.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(l.state)) != 1 {
		l.mu.Unlock()
		page(w, http.StatusBadRequest, "This is not the sign-in the cognito command started.",
			"The state does not match; start again from the terminal.")
		return
	}
	l.finished = true
	l.mu.Unlock()

	res := l.finish(r.Context(), q.Get("code"), q.Get("error"), q.Get("error_description"))
	if res.err != nil {
		page(w, http.StatusBadRequest, "Sign-in failed.", "See the terminal for why. You can close this tab.")
	} else {
		page(w, http.StatusOK, "Signed in.", "You can close this tab and return to the terminal.")
	}
	l.done <- res
}

// finish exchanges the code and verifies the ID token and its nonce.
func (l *loopbackLogin) finish(ctx context.Context, code, errCode, errDesc string) loginResult {
	if errCode != "" {
		return loginResult{err: &cognito.AuthorizeError{Code: clip(errCode, 64), Description: clip(errDesc, 256)}}
	}
	if code == "" {
		return loginResult{err: fmt.Errorf("%w: the callback carried neither a code nor an error", cognito.ErrLoginFailed)}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), l.timeout)
	defer cancel()
	tokens, err := l.client.ExchangeCode(ctx, code, cognito.WithCodeVerifier(l.pkce))
	if err != nil {
		return loginResult{err: err}
	}
	if tokens.IDToken == "" {
		return loginResult{err: errors.New("the token endpoint returned no ID token: ask for the openid scope")}
	}
	id, err := l.verifier.VerifyIDToken(ctx, tokens.IDToken)
	if err != nil {
		return loginResult{err: fmt.Errorf("the new ID token does not verify: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(id.Nonce), []byte(l.nonce)) != 1 {
		return loginResult{err: fmt.Errorf("%w: the ID token's nonce is not the one this login sent", cognito.ErrInvalidNonce)}
	}
	return loginResult{tokens: tokens, id: id}
}

// clip keeps at most n bytes of s, whole characters only, without control
// characters (C0, DEL, C1) or bidirectional overrides: s comes from a
// token, a key set or the browser's URL, and what it says must not become
// a terminal's escape sequence or reorder the line it is printed in.
func clip(s string, n int) string {
	b := make([]byte, 0, min(len(s), n))
	for _, r := range s {
		if safetext.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
			continue
		}
		if len(b)+utf8.RuneLen(r) > n {
			break
		}
		b = utf8.AppendRune(b, r)
	}
	return string(b)
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>cognito login</title></head>
<body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>
`))

func page(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	pageTemplate.Execute(w, map[string]string{"Title": title, "Text": text}) //nolint:errcheck // the browser may be gone
}

// startBrowser opens url with $BROWSER, or the system's opener.
func startBrowser(url string) error {
	var cmd *exec.Cmd
	switch b := os.Getenv("BROWSER"); {
	case b != "":
		cmd = exec.Command(b, url)
	case runtime.GOOS == "darwin":
		cmd = exec.Command("open", url)
	case runtime.GOOS == "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	// The opener's output would mix with the tokens on stdout: drop it.
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if err := cmd.Start(); err != nil {
		return err
	}
	go cmd.Wait() //nolint:errcheck // reaps the opener; its status says nothing about the sign-in
	return nil
}

// checkPrint checks a --print value against the tokens a verb has.
func checkPrint(v string, allowed ...string) error {
	if v == "" {
		return nil
	}
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return usagef("--print must be one of %v, not %q", allowed, v)
}

// printTokens prints tokens as JSON, or only the one --print names.
func printTokens(e *env, t *cognito.Tokens, which string) error {
	switch which {
	case "id":
		return printOne(e, t.IDToken, "ID")
	case "access":
		return printOne(e, t.AccessToken, "access")
	case "refresh":
		return printOne(e, t.RefreshToken, "refresh")
	}
	return writeJSON(e.stdout, struct {
		IDToken      string    `json:"id_token,omitempty"`
		AccessToken  string    `json:"access_token"`
		RefreshToken string    `json:"refresh_token,omitempty"`
		TokenType    string    `json:"token_type"`
		Expiry       time.Time `json:"expires_at"`
	}{t.IDToken, t.AccessToken, t.RefreshToken, t.TokenType, t.Expiry.UTC()})
}

func printOne(e *env, tok, what string) error {
	if tok == "" {
		return fmt.Errorf("the endpoint returned no %s token", what)
	}
	_, err := fmt.Fprintln(e.stdout, tok)
	return err
}
