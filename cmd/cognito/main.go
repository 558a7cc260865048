// Command cognito inspects and explains Amazon Cognito tokens, signs in from a
// terminal, and runs a local fake user pool, with the cognitokit library.
//
//	cognito decode TOKEN            what a token says (UNVERIFIED)
//	cognito verify TOKEN            is it valid, and if not, why and how to fix it
//	cognito login --print access    sign in through the hosted UI, print a token
//	cognito token --client-credentials --scope S   an M2M access token
//	cognito refresh TOKEN           new tokens for a refresh token
//	cognito revoke TOKEN            revoke a refresh token
//	cognito jwks                    the pool's signing keys
//	cognito fake-pool               a local fake user pool, until interrupted
//
// Data goes to standard output and messages to standard error, so that
// $(cognito login --print access) is a token. Settings come from flags or from
// the COGNITO_* environment variables that examples/webapp reads. Run
// "cognito help VERB" for a verb's flags and an example.
//
// Exit status: 0 success (verify: the token is valid), 1 failure (verify: the
// token is invalid; otherwise an endpoint refused or could not be reached),
// 2 usage error (a bad flag, a missing setting, unreadable input).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailure = 1 // verify: the token is invalid; otherwise the operation failed
	exitUsage   = 2 // bad flags or arguments, missing settings, unreadable input
)

// clock is the command's time source; the tests replace it to match their
// fake pool's clock.
var clock = time.Now

// env is what a verb may touch of the outside world.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// startBrowser opens url in the user's browser; nil means the real one.
	startBrowser func(url string) error
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], &env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: clock,
	})
	stop()
	os.Exit(code)
}

// verb is one subcommand.
type verb struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) error
}

func verbs() []verb {
	return []verb{
		{"decode", "show a token's header and claims, UNVERIFIED", runDecode},
		{"verify", "verify a token; explain why it is refused", runVerify},
		{"login", "sign in through the hosted UI and print the tokens", runLogin},
		{"token", "get an M2M access token (client credentials)", runToken},
		{"refresh", "trade a refresh token for new tokens", runRefresh},
		{"revoke", "revoke a refresh token", runRevoke},
		{"jwks", "list the pool's signing keys", runJWKS},
		{"fake-pool", "run a local fake user pool until interrupted", runFakePool},
	}
}

const mainUsage = `usage: cognito VERB [flags] [args]

Inspect and explain Amazon Cognito tokens, sign in from a terminal, and run a
local fake user pool.

Verbs:
%s
Settings come from flags or from the environment: COGNITO_USER_POOL_ID,
COGNITO_REGION, COGNITO_CLIENT_ID, COGNITO_CLIENT_SECRET, COGNITO_DOMAIN,
COGNITO_ISSUER, COGNITO_JWKS_URL, COGNITO_SCOPES. A flag wins over its variable.

Data goes to standard output, messages to standard error.
Exit status: 0 success, 1 failure (verify: the token is invalid), 2 usage error.

Run "cognito help VERB" for a verb's flags and an example.
`

func usage() string {
	var b strings.Builder
	for _, v := range verbs() {
		fmt.Fprintf(&b, "  %-10s %s\n", v.name, v.summary)
	}
	return fmt.Sprintf(mainUsage, b.String())
}

// run runs the command line args and returns the exit status. Every error is
// reported on stderr as one line.
func run(ctx context.Context, args []string, e *env) int {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage())
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(rest) == 0 {
			fmt.Fprint(e.stdout, usage())
			return exitOK
		}
		name, rest = rest[0], []string{"--help"}
	}
	for _, v := range verbs() {
		if v.name == name {
			return report(e, name, v.run(ctx, e, rest))
		}
	}
	fmt.Fprintf(e.stderr, "cognito: unknown verb %q; run \"cognito help\" for the list\n", name)
	return exitUsage
}

// usageError is a mistake on the command line: exit status 2.
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// reported is an error the verb has already told the user about, with the
// exit status to return.
type reported struct{ code int }

func (r reported) Error() string { return fmt.Sprintf("exit status %d", r.code) }

// errHelp is returned by a verb that printed its help on request.
var errHelp = errors.New("help requested")

// report prints err, if any, as one line and returns the exit status.
func report(e *env, name string, err error) int {
	var u *usageError
	var r reported
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &r):
		return r.code
	case errors.As(err, &u):
		fmt.Fprintf(e.stderr, "cognito %s: %s\n", name, oneLine(u.msg))
		fmt.Fprintf(e.stderr, "run \"cognito help %s\" for usage\n", name)
		return exitUsage
	}
	fmt.Fprintf(e.stderr, "cognito %s: %s\n", name, errorLine(err))
	return exitFailure
}

// errorLine is err as one line, without the library's repeated "cognito: "
// prefixes, and with a timeout said plainly.
func errorLine(err error) string {
	msg := oneLine(err.Error())
	msg = strings.TrimPrefix(msg, "cognito: ")
	msg = strings.ReplaceAll(msg, ": cognito: ", ": ")
	msg = strings.ReplaceAll(msg, "; cognito: ", "; ")
	if errors.Is(err, context.DeadlineExceeded) && !strings.Contains(msg, "timed out") {
		msg += " (timed out: raise --timeout if the endpoint is slow)"
	}
	return msg
}

// oneLine joins the lines of a message (errors.Join uses newlines).
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}
