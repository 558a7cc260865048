package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cognitokit/cognito"
)

// DefaultTimeout bounds each network call of a verb unless --timeout says
// otherwise.
const DefaultTimeout = 30 * time.Second

// settings holds the flags the verbs share. Each pool setting may also come
// from its COGNITO_* variable (envNames).
type settings struct {
	pool, region      string
	clients           list
	secret, domain    string
	issuer, jwksURL   string
	scopes            list
	timeout           time.Duration
	jsonOut           bool
	set               map[string]bool // flags given on the command line or from the environment
	noEnv             bool            // the verb reads no COGNITO_* variable
	fs                *flag.FlagSet
	name, args, about string
	example           string
}

// envNames maps a flag to the variable it falls back to: the names
// examples/webapp reads, plus COGNITO_JWKS_URL and COGNITO_SCOPES.
var envNames = map[string]string{
	"pool":     "COGNITO_USER_POOL_ID",
	"region":   "COGNITO_REGION",
	"client":   "COGNITO_CLIENT_ID",
	"secret":   "COGNITO_CLIENT_SECRET",
	"domain":   "COGNITO_DOMAIN",
	"issuer":   "COGNITO_ISSUER",
	"jwks-url": "COGNITO_JWKS_URL",
	"scope":    "COGNITO_SCOPES",
}

// list is a repeatable flag; each value may also hold several items
// separated by commas or spaces ("--scope 'openid email'").
type list []string

func (l *list) String() string { return strings.Join(*l, ",") }

func (l *list) Set(v string) error {
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
		*l = append(*l, f)
	}
	return nil
}

// newSettings starts a verb's flag set. usage is "VERB [flags] ARGS", about
// says what the verb does, example shows one typical use.
func newSettings(name, args, about, example string) *settings {
	s := &settings{name: name, args: args, about: about, example: example, timeout: DefaultTimeout}
	s.fs = flag.NewFlagSet(name, flag.ContinueOnError)
	s.fs.SetOutput(io.Discard) // errors are reported once, by report
	return s
}

// The flag groups a verb may register.

func (s *settings) poolFlags() {
	s.fs.StringVar(&s.pool, "pool", "", "user pool `ID`, such as us-east-1_AbCdEf123 ($COGNITO_USER_POOL_ID)")
	s.fs.StringVar(&s.region, "region", "", "AWS `region`, when the pool ID does not start with it ($COGNITO_REGION)")
	s.fs.StringVar(&s.issuer, "issuer", "", "the tokens' iss `URL`, for an emulator or fake pool; default derived from --pool ($COGNITO_ISSUER)")
	s.fs.StringVar(&s.jwksURL, "jwks-url", "", "the pool's JWKS `URL`; default <issuer>/.well-known/jwks.json ($COGNITO_JWKS_URL)")
}

func (s *settings) clientFlags(repeatable bool) {
	help := "app client `ID` ($COGNITO_CLIENT_ID)"
	if repeatable {
		help = "app client `ID`; repeat to accept tokens of any of several ($COGNITO_CLIENT_ID, comma-separated)"
	}
	s.fs.Var(&s.clients, "client", help)
}

func (s *settings) endpointFlags() {
	s.fs.StringVar(&s.secret, "secret", "", "app client `secret`, for a confidential client; prefer $COGNITO_CLIENT_SECRET, which other users of this machine cannot see")
	s.fs.StringVar(&s.domain, "domain", "", "hosted UI base `URL`, such as https://myapp.auth.us-east-1.amazoncognito.com ($COGNITO_DOMAIN)")
	s.fs.DurationVar(&s.timeout, "timeout", DefaultTimeout, "bound on each network call")
}

func (s *settings) scopeFlag(help string) {
	s.fs.Var(&s.scopes, "scope", help+" ($COGNITO_SCOPES, space- or comma-separated)")
}

func (s *settings) jsonFlag(help string) {
	s.fs.BoolVar(&s.jsonOut, "json", false, help)
}

// helpText is the verb's --help.
func (s *settings) helpText() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "usage: cognito %s %s\n\n%s\n\nExample:\n%s\n\nFlags:\n", s.name, s.args, s.about, s.example)
	s.fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		fmt.Fprintf(&b, "  --%s", f.Name)
		if name != "" {
			fmt.Fprintf(&b, " %s", name)
		}
		fmt.Fprintf(&b, "\n      %s", help)
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "[]" && f.DefValue != "0" && f.DefValue != "0s" {
			fmt.Fprintf(&b, " (default %s)", f.DefValue)
		}
		b.WriteString("\n")
	})
	return b.String()
}

// parse parses args, flags and arguments in any order as gh does (flags stop
// at "--"), then fills every flag not given from its variable. It returns the
// positional arguments.
func (s *settings) parse(e *env, args []string) ([]string, error) {
	var pos []string
	for {
		if err := s.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprint(e.stdout, s.helpText())
				return nil, errHelp
			}
			return nil, usagef("%v", err)
		}
		rest := s.fs.Args()
		if len(rest) == 0 {
			break
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	s.set = map[string]bool{}
	s.fs.Visit(func(f *flag.Flag) { s.set[f.Name] = true })
	for name, v := range envNames {
		if s.noEnv || s.fs.Lookup(name) == nil || s.set[name] {
			continue
		}
		if val := e.getenv(v); val != "" {
			if err := s.fs.Set(name, val); err != nil {
				return nil, usagef("$%s: %v", v, err)
			}
			s.set[name] = true
		}
	}
	if s.timeout <= 0 {
		return nil, usagef("--timeout must be positive")
	}
	return pos, nil
}

// config is the cognito.Config the settings describe; its first client is
// the ClientID.
func (s *settings) config() cognito.Config {
	cfg := cognito.Config{
		Region:       s.region,
		UserPoolID:   s.pool,
		ClientSecret: s.secret,
		Domain:       s.domain,
		Issuer:       s.issuer,
		JWKSURL:      s.jwksURL,
		Scopes:       s.scopes,
	}
	if len(s.clients) > 0 {
		cfg.ClientID = s.clients[0]
	}
	return cfg
}

// need reports, as a usage error, the settings a verb needs but lacks; why,
// when not empty, says what for.
func (s *settings) need(why string, names ...string) error {
	var missing []string
	for _, n := range names {
		if !s.set[n] {
			missing = append(missing, "--"+n+" (or $"+envNames[n]+")")
		}
	}
	if len(missing) > 0 {
		return usagef("needs %s%s", strings.Join(missing, " and "), why)
	}
	return nil
}

// needPool reports a usage error unless the pool's issuer can be known.
func (s *settings) needPool(why string) error {
	if !s.set["pool"] && !s.set["issuer"] {
		return usagef("needs --pool (or $COGNITO_USER_POOL_ID) or --issuer (or $COGNITO_ISSUER)%s", why)
	}
	return nil
}

// httpClient has the verb's timeout and follows no redirect, as the
// library's default client does: a redirected POST would resend credentials.
func (s *settings) httpClient() *http.Client {
	return &http.Client{
		Timeout:       s.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// maxInput bounds what a verb reads from stdin.
const maxInput = 1 << 20

// tokenArg is the single TOKEN|- argument of a verb: the token itself, or
// standard input's first non-empty content with "-".
func tokenArg(e *env, pos []string, what string) (string, error) {
	if len(pos) != 1 {
		return "", usagef("needs exactly one argument: the %s, or - to read it from standard input", what)
	}
	if pos[0] != "-" {
		return strings.TrimSpace(pos[0]), nil
	}
	data, err := io.ReadAll(io.LimitReader(e.stdin, maxInput+1))
	if err != nil {
		return "", usagef("reading standard input: %v", err)
	}
	if len(data) > maxInput {
		return "", usagef("standard input is larger than %d bytes", maxInput)
	}
	tok := strings.TrimSpace(string(data))
	if tok == "" {
		return "", usagef("standard input holds no %s", what)
	}
	return tok, nil
}
