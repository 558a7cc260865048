// Package e2e drives the example web app in headless Chromium. It is a module
// of its own so that the library's go.mod never names chromedp.
//
//	cd e2e && go test ./...                  # skips when Chromium is absent
//	cd e2e && E2E_REQUIRED=1 go test ./...   # fails instead (CI)
//
// The browser is /usr/bin/chromium (Debian's chromium package), or $CHROMIUM.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	testTimeout    = 3 * time.Minute  // the whole test, build included
	browserTimeout = 60 * time.Second // the browser part
)

var (
	listeningLine = regexp.MustCompile(`^webapp: listening on (http://\S+)$`)
	demoUserLine  = regexp.MustCompile(`^webapp: sign in as "([^"]+)" with password "([^"]+)" \(email ([^)]+)\)`)
)

func chromiumPath(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("E2E_REQUIRED") == "1" {
			t.Fatalf("E2E_REQUIRED=1 but there is no Chromium at %s: %v (apt-get install -y chromium)", path, err)
		}
		t.Skipf("no Chromium at %s (set CHROMIUM, or apt-get install -y chromium): %v", path, err)
	}
	return path
}

// syncBuffer is a bytes.Buffer safe to write from exec's copying goroutine
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type demoApp struct {
	url, username, password, email string
}

// startWebApp builds examples/webapp, runs it with its embedded fake pool on
// a free loopback port, and reads its URL and demo user from its output.
func startWebApp(ctx context.Context, t *testing.T) demoApp {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "webapp")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./examples/webapp")
	build.Dir = ".."
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building the example app:\n%s", out)

	cmd := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0")
	cmd.Env = withoutCognitoVars(os.Environ())
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second // then exec kills it
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	lines := make(chan string)
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
			}
		}
		close(lines)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		<-exited // bounded by WaitDelay
		if t.Failed() {
			t.Logf("webapp's log:\n%s", stderr.String())
		}
	})
	var app demoApp
	for app.url == "" {
		select {
		case line, ok := <-lines:
			require.True(t, ok, "the app exited before printing its URL; its log:\n%s", stderr.String())
			t.Log(line)
			if m := demoUserLine.FindStringSubmatch(line); m != nil {
				app.username, app.password, app.email = m[1], m[2], m[3]
			}
			if m := listeningLine.FindStringSubmatch(line); m != nil {
				app.url = m[1]
			}
		case <-ctx.Done():
			require.FailNow(t, "the app did not print its URL in time", "log:\n%s", stderr.String())
		}
	}
	require.NotEmpty(t, app.username, "the app printed no demo user")
	go func() { // keep the pipe drained
		for range lines {
		}
	}()
	return app
}

// withoutCognitoVars drops COGNITO_* so that the app uses its embedded pool.
func withoutCognitoVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "COGNITO_") {
			out = append(out, kv)
		}
	}
	return out
}

func TestSignInWithChromium(t *testing.T) {
	chromium := chromiumPath(t)
	testCtx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	app := startWebApp(testCtx, t)

	allocCtx, cancelAlloc := chromedp.NewExecAllocator(testCtx,
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	defer cancelBrowser()
	// The first action starts the browser, which lives as long as the context
	// of that action: give it the test's, and bound the steps separately.
	require.NoError(t, chromedp.Do(browserCtx, chromedp.Navigate(app.url+"/")))
	ctx, cancelSteps := context.WithTimeout(browserCtx, browserTimeout)
	defer cancelSteps()

	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
		chromedp.Click(chromedp.CSS("#sign-in")),
		// The fake pool's hosted UI form.
		chromedp.WaitVisible(chromedp.CSS(`input[name="username"]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name="username"]`), app.username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), app.password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		// Back in the app, on the profile page.
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	require.NoError(t, err)
	email, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#email")))
	require.NoError(t, err)
	assert.Equal(t, app.email, email)
	location, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, app.url+"/profile", location)

	// The page's button calls the API with the access token.
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#call-api"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("api-result").textContent.startsWith("200")`))
	require.NoError(t, err)
	apiResult, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#api-result")))
	require.NoError(t, err)
	assert.Contains(t, apiResult, `"username":"`+app.username+`"`)

	// The home page, public, greets the signed-in user.
	err = chromedp.Do(ctx,
		chromedp.Navigate(app.url+"/"),
		chromedp.WaitVisible(chromedp.CSS("#greeting")),
	)
	require.NoError(t, err)
	greeting, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#greeting")))
	require.NoError(t, err)
	assert.Equal(t, "Hello, Demo User", greeting)

	// Security settings need a level-2 sign-in: back through the hosted UI,
	// whose form has the username filled in, then back on the page.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#settings")),
		chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)),
	)
	require.NoError(t, err)
	username, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(`input[name="username"]`)))
	require.NoError(t, err)
	assert.Equal(t, app.username, username, "login_hint fills in the user")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), app.password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#security-settings")),
	)
	require.NoError(t, err)
	location, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, app.url+"/settings", location)
	acr, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#acr")))
	require.NoError(t, err)
	assert.Equal(t, "urn:cognito:loa:2", acr)

	// Sign out: back on the home page with the sign-in link.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#sign-out")),
		chromedp.WaitVisible(chromedp.CSS("#sign-in")),
	)
	require.NoError(t, err)
	location, err = chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	assert.Equal(t, app.url+"/", location)
}
