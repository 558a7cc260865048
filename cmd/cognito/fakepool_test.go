package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFakePoolServesWebapp runs the built command's fake-pool, starts
// examples/webapp with the variables it printed, and signs a user in through
// the app's routes and the pool's form, as a browser with a cookie jar does.
func TestFakePoolServesWebapp(t *testing.T) {
	bin := buildCognito(t)
	webapp := filepath.Join(t.TempDir(), "webapp")
	build := exec.Command("go", "build", "-o", webapp, "./examples/webapp")
	build.Dir = filepath.Join("..", "..")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "building examples/webapp: %s", out)

	appPort, err := freePort()
	require.NoError(t, err)
	appURL := "http://127.0.0.1:" + appPort

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := exec.CommandContext(ctx, bin, "fake-pool", "--addr", "127.0.0.1:0",
		"--user", "bob:pw-of-bob:admins", "--redirect-uri", appURL+"/callback")
	var poolErr bytes.Buffer
	pool.Stderr = &poolErr
	poolOut, err := pool.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, pool.Start())
	vars := readVars(t, poolOut, 5)
	assert.Equal(t, []string{"COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "COGNITO_CLIENT_SECRET", "COGNITO_DOMAIN", "COGNITO_ISSUER"}, keys(vars))

	app := exec.CommandContext(ctx, webapp, "-addr", "127.0.0.1:"+appPort)
	app.Env = append(os.Environ(), vars...)
	app.Stderr = io.Discard
	appOut, err := app.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, app.Start())
	t.Cleanup(func() {
		app.Process.Kill() //nolint:errcheck // it may have exited
		app.Wait()         //nolint:errcheck // killed
	})
	waitLine(t, appOut, "webapp: listening on "+appURL)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	res, err := browser.Get(appURL + "/login")
	require.NoError(t, err)
	form, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(form), `action="/login"`, "the app sent the browser to the pool's sign-in form")

	status, page, err := browseForm(browser, res.Request.URL.String(), form, "bob", "pw-of-bob")
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "bob@example.com", "the profile page shows the signed-in user")

	res, err = browser.Get(appURL + "/profile")
	require.NoError(t, err)
	profile, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Contains(t, string(profile), "bob@example.com")

	require.NoError(t, pool.Process.Signal(os.Interrupt))
	assert.NoError(t, pool.Wait(), "fake-pool exits 0 on SIGINT")
	assert.Contains(t, poolErr.String(), "fake-pool: stopped")
	assert.NotContains(t, poolErr.String(), "pw-of-bob")
}

// readVars reads n NAME=VALUE lines.
func readVars(t *testing.T, r io.Reader, n int) []string {
	t.Helper()
	lines := make(chan string)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			lines <- s.Text()
		}
		close(lines)
	}()
	var vars []string
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	for len(vars) < n {
		select {
		case l, ok := <-lines:
			require.True(t, ok, "fake-pool printed %d variables, then stopped", len(vars))
			require.Contains(t, l, "=")
			vars = append(vars, l)
		case <-timeout.C:
			t.Fatalf("fake-pool printed %d variables in 30s", len(vars))
		}
	}
	go func() {
		for range lines { // drain
		}
	}()
	return vars
}

func keys(vars []string) []string {
	var k []string
	for _, kv := range vars {
		name, _, _ := strings.Cut(kv, "=")
		k = append(k, name)
	}
	return k
}

// waitLine reads r until a line equals want, for at most 30s.
func waitLine(t *testing.T, r io.Reader, want string) {
	t.Helper()
	found := make(chan bool, 1)
	go func() {
		s := bufio.NewScanner(r)
		ok := false
		for s.Scan() {
			if !ok && s.Text() == want {
				ok = true
				found <- true
			}
		}
		if !ok {
			found <- false
		}
	}()
	timeout := time.NewTimer(30 * time.Second)
	defer timeout.Stop()
	select {
	case ok := <-found:
		require.True(t, ok, "no line %q", want)
	case <-timeout.C:
		t.Fatalf("no line %q within 30s", want)
	}
}
