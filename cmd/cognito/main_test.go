package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/cognitotest"
)

// TestMain makes the test binary double as the cognito command and as a
// fake browser, for the scripts in testdata/script.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"cognito":     cognitoMain,
		"fakebrowser": fakeBrowserMain,
	})
}

// cognitoMain is the command, on the fake pool's clock when the script's
// setup fixed one ($COGNITO_TEST_NOW, Unix seconds): only the test binary
// reads that variable.
func cognitoMain() {
	if v := os.Getenv("COGNITO_TEST_NOW"); v != "" {
		sec, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bad COGNITO_TEST_NOW:", err)
			os.Exit(3)
		}
		clock = cognitotest.NewClock(time.Unix(sec, 0)).Now
	}
	main()
}

// testNow is the fixed time of the in-process scripts' pool and command.
var testNow = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// Test users of the scripts' pool.
const (
	aliceName     = "alice"
	alicePassword = "alice-password-1"
	otherClient   = "7abcotherclient0000000000"
)

func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		Setup:               setupPool(true),
		Cmds:                scriptCmds,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
	})
}

// setupPool starts a cognitotest pool for one script and passes it through
// the COGNITO_* variables, with tokens to verify in files of the work
// directory. With fixedClock, pool and command share testNow; otherwise both
// use the real clock (a built binary cannot be given a fake one).
func setupPool(fixedClock bool) func(*testscript.Env) error {
	return func(e *testscript.Env) error {
		now := time.Now
		if fixedClock {
			now = cognitotest.NewClock(testNow).Now
			e.Setenv("COGNITO_TEST_NOW", strconv.FormatInt(testNow.Unix(), 10))
		}
		loginPort, err := freePort()
		if err != nil {
			return err
		}
		pool, err := cognitotest.Start(
			cognitotest.WithClock(now),
			cognitotest.WithRedirectURI("http://localhost:"+loginPort+"/callback"),
			cognitotest.WithAllowedScopes(slices.Concat(cognitotest.DefaultScopes, []string{"orders/read", "orders/write"})...),
		)
		if err != nil {
			return err
		}
		e.Defer(pool.Close)
		pool.AddUser(cognitotest.User{
			Username: aliceName, Password: alicePassword, Email: "alice@example.com", EmailVerified: true,
			Groups: []string{"admins"},
		})
		cfg := pool.Config()
		for k, v := range map[string]string{
			"COGNITO_USER_POOL_ID":  cfg.UserPoolID,
			"COGNITO_CLIENT_ID":     cfg.ClientID,
			"COGNITO_CLIENT_SECRET": cfg.ClientSecret,
			"COGNITO_DOMAIN":        cfg.Domain,
			"COGNITO_ISSUER":        cfg.Issuer,
			"LOGIN_PORT":            loginPort,
			"OTHER_CLIENT":          otherClient,
			"BROWSER":               "fakebrowser",
			"FAKEBROWSER_USER":      aliceName,
			"FAKEBROWSER_PASSWORD":  alicePassword,
			"FAKEBROWSER_OUT":       filepath.Join(e.WorkDir, "browser.out"),
		} {
			e.Setenv(k, v)
		}
		closedPort, err := freePort()
		if err != nil {
			return err
		}
		fakePoolPort, err := freePort()
		if err != nil {
			return err
		}
		e.Setenv("FAKEPOOL_PORT", fakePoolPort)
		e.Setenv("UNREACHABLE_JWKS", "http://127.0.0.1:"+closedPort+"/jwks.json")
		return writeTokens(e.WorkDir, pool, now())
	}
}

// scriptCmds are the scripts' own commands.
var scriptCmds = map[string]func(ts *testscript.TestScript, neg bool, args []string){
	// waitfor URL polls URL until it answers 200, for a server started in
	// the background: every 10ms, for at most 10s.
	"waitfor": func(ts *testscript.TestScript, neg bool, args []string) {
		if neg || len(args) != 1 {
			ts.Fatalf("usage: waitfor URL")
		}
		c := &http.Client{Timeout: time.Second}
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for range 1000 {
			if res, err := c.Get(args[0]); err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					return
				}
			}
			<-tick.C
		}
		ts.Fatalf("%s did not answer 200 within 10s", args[0])
	},
}

// writeTokens mints a valid token of each kind and one bad token per check
// of the Verifier, into files named for them.
func writeTokens(dir string, pool *cognitotest.Server, now time.Time) error {
	// Minted before the rotation below, so that the pool no longer publishes its kid.
	rotated := pool.MintIDToken(aliceName)
	pool.RotateKeys(cognitotest.DropOld)
	id := pool.MintIDToken(aliceName)
	// Step-up authentication's claims: a level-2 sign-in with MFA, 12
	// minutes ago; and the same with terminal escapes and a bidi override.
	stepUp := []cognitotest.TokenOption{
		cognitotest.WithClaim("acr", "urn:cognito:loa:2"),
		cognitotest.WithClaim("amr", []string{"pwd", "otp", "mfa"}),
		cognitotest.WithClaim("auth_time", now.Add(-12*time.Minute).Unix()),
	}
	hostile := []cognitotest.TokenOption{
		cognitotest.WithClaim("acr", "urn:x\x1b[31m\u202e"),
		cognitotest.WithClaim("amr", []string{"pwd\x1b]0;pwned\x07", "\u009bmfa"}),
		cognitotest.WithClaim("auth_time", now.Add(-12*time.Minute).Unix()),
	}
	tokens := map[string]string{
		"id.jwt":             id,
		"access.jwt":         pool.MintAccessToken(aliceName),
		"rotated.jwt":        rotated,
		"expired.jwt":        pool.MintIDToken(aliceName, cognitotest.WithIssuedAt(now.Add(-4*time.Hour)), cognitotest.WithExpiry(now.Add(-3*time.Hour))),
		"other-aud.jwt":      pool.MintIDToken(aliceName, cognitotest.WithAudience(otherClient)),
		"other-iss.jwt":      pool.MintIDToken(aliceName, cognitotest.WithIssuer("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other")),
		"hs256.jwt":          pool.MintIDToken(aliceName, cognitotest.WithHeader("alg", "HS256")),
		"no-kid.jwt":         pool.MintIDToken(aliceName, cognitotest.WithHeader("kid", nil)),
		"not-yet.jwt":        pool.MintIDToken(aliceName, cognitotest.WithNotBefore(now.Add(90*time.Minute))),
		"future-signin.jwt":  pool.MintIDToken(aliceName, cognitotest.WithClaim("auth_time", now.Add(2*time.Hour).Unix())),
		"no-sub.jwt":         pool.MintIDToken(aliceName, cognitotest.WithClaim("sub", nil)),
		"strange-use.jwt":    pool.MintIDToken(aliceName, cognitotest.WithTokenUse("refresh")),
		"tampered.jwt":       tamper(id),
		"garbage.jwt":        "not-a-token",
		"stepup-id.jwt":      pool.MintIDToken(aliceName, stepUp...),
		"stepup-access.jwt":  pool.MintAccessToken(aliceName, stepUp...),
		"hostile-stepup.jwt": pool.MintIDToken(aliceName, hostile...),
		"m2m.jwt":            pool.MintClientCredentialsToken(cognitotest.DefaultClientID),
	}
	for name, tok := range tokens {
		if tok == "" {
			return fmt.Errorf("minting %s failed", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(tok+"\n"), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// tamper changes the claims of a signed token and keeps its signature.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(claims, &m)
	m["cognito:groups"] = []string{"admins", "owners"}
	claims, _ = json.Marshal(m)
	parts[1] = base64.RawURLEncoding.EncodeToString(claims)
	return strings.Join(parts, ".")
}

// freePort is a port of 127.0.0.1 that was free a moment ago.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	_, port, err := net.SplitHostPort(ln.Addr().String())
	return port, err
}

// fakeBrowserMain is $BROWSER for cognito login in the scripts: it plays
// the user, as browse does, and appends the final page to $FAKEBROWSER_OUT.
// When it cannot reach the callback, it sends login an error there, so that
// a failing script ends at once instead of waiting for --wait.
func fakeBrowserMain() {
	status, body, err := browse(os.Args[1], os.Getenv("FAKEBROWSER_USER"), os.Getenv("FAKEBROWSER_PASSWORD"))
	out := fmt.Sprintf("status %d\n%s\n", status, body)
	if err != nil {
		out = "error " + err.Error() + "\n" + out
		if u, perr := url.Parse(os.Args[1]); perr == nil {
			q := u.Query()
			cb := q.Get("redirect_uri") + "?" + url.Values{"error": {"fakebrowser_failed"}, "state": {q.Get("state")}}.Encode()
			if res, gerr := http.Get(cb); gerr == nil {
				res.Body.Close()
			}
		}
	}
	f, ferr := os.OpenFile(os.Getenv("FAKEBROWSER_OUT"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if ferr != nil {
		os.Exit(1)
	}
	defer f.Close()
	f.WriteString(out) //nolint:errcheck // the script reads what was written
}

var (
	formAction  = regexp.MustCompile(`<form method="post" action="([^"]*)"`)
	hiddenInput = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)
)

// browse plays a user at a browser: GET the sign-in URL, fill in the hosted
// UI's form, POST it and follow the redirects, to the callback. It returns
// the last page's status and body.
func browse(signInURL, user, password string) (int, string, error) {
	c := &http.Client{Timeout: 20 * time.Second}
	res, err := c.Get(signInURL)
	if err != nil {
		return 0, "", err
	}
	page, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return 0, "", err
	}
	return browseForm(c, res.Request.URL.String(), page, user, password)
}

// browseForm fills in and posts the sign-in form of page, which was served
// at pageURL, and follows the redirects with c.
func browseForm(c *http.Client, pageURL string, page []byte, user, password string) (int, string, error) {
	m := formAction.FindSubmatch(page)
	if m == nil {
		return 0, string(page), errors.New("the page has no sign-in form")
	}
	base, err := url.Parse(pageURL)
	if err != nil {
		return 0, "", err
	}
	action, err := base.Parse(html.UnescapeString(string(m[1])))
	if err != nil {
		return 0, "", err
	}
	form := url.Values{"username": {user}, "password": {password}}
	for _, h := range hiddenInput.FindAllSubmatch(page, -1) {
		form.Set(html.UnescapeString(string(h[1])), html.UnescapeString(string(h[2])))
	}
	res, err := c.PostForm(action.String(), form)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// buildCognito builds the command into a directory of t's.
func buildCognito(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the command")
	}
	bin := filepath.Join(t.TempDir(), "cognito")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// TestBinary runs some scripts with the command built as users get it,
// on the real clock.
func TestBinary(t *testing.T) {
	bin := buildCognito(t)
	testscript.Run(t, testscript.Params{
		Files: []string{
			"testdata/script/verify_valid.txtar",
			"testdata/script/verify_invalid.txtar",
			"testdata/script/login.txtar",
			"testdata/script/usage.txtar",
			"testdata/script/fakepool_lifetimes.txtar",
			"testdata/script/verify_signin.txtar",
		},
		Setup: func(e *testscript.Env) error {
			e.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+e.Getenv("PATH"))
			return setupPool(false)(e)
		},
		Cmds:                scriptCmds,
		RequireExplicitExec: true,
	})
}
