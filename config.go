package cognito

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
)

// Config describes one user pool app client and its hosted UI. The zero values
// of the optional fields derive from the required ones; Validate says what is
// missing or malformed.
type Config struct {
	Region       string   // "us-east-1"; optional when UserPoolID starts with it or Issuer is set
	UserPoolID   string   // "us-east-1_AbCdEf123"
	ClientID     string   // the app client ID
	ClientSecret string   // empty for a public client
	Domain       string   // hosted UI base URL: "https://myapp.auth.us-east-1.amazoncognito.com", a custom domain, or an emulator such as "http://localhost:9229"
	RedirectURI  string   // the callback URL registered on the app client
	LogoutURI    string   // optional: the sign-out URL registered on the app client
	Scopes       []string // default: openid, email, profile
	Issuer       string   // optional override; default https://cognito-idp.<region>.amazonaws.com/<pool>
	JWKSURL      string   // optional override; default <issuer>/.well-known/jwks.json
}

var (
	regionPattern = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	// Cognito's pool IDs are <region>_<9 alphanumerics>; emulators use other
	// prefixes ("local_abc123"), allowed only with an explicit Issuer.
	poolIDPattern  = regexp.MustCompile(`^([a-z]{2}(?:-[a-z]+)+-[0-9]+)_[0-9A-Za-z]+$`)
	anyPoolPattern = regexp.MustCompile(`^[0-9A-Za-z-]+_[0-9A-Za-z]+$`)
)

var defaultScopes = []string{"openid", "email", "profile"}

// Validate checks the fields that are set and those every use needs
// (UserPoolID or Issuer, ClientID). NewClient also needs Domain; ExchangeCode
// and LoginURL need RedirectURI. An emulator's pool ID (e.g. "local_abc123") is
// valid when Issuer is set. Every problem found is reported, each wrapping
// ErrInvalidConfig and naming its field.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}

	if c.ClientID == "" {
		bad("ClientID is empty")
	}
	if c.UserPoolID == "" && c.Issuer == "" {
		bad("UserPoolID is empty (set it, or Issuer)")
	}
	if c.UserPoolID != "" {
		m := poolIDPattern.FindStringSubmatch(c.UserPoolID)
		switch {
		case m == nil && c.Issuer == "":
			bad("UserPoolID %q is not of the form <region>_<id>", c.UserPoolID)
		case m == nil && !anyPoolPattern.MatchString(c.UserPoolID):
			bad("UserPoolID %q is not of the form <prefix>_<id>", c.UserPoolID)
		case m != nil && c.Region != "" && c.Region != m[1]:
			bad("Region %q disagrees with UserPoolID %q", c.Region, c.UserPoolID)
		}
	}
	if c.Region != "" && !regionPattern.MatchString(c.Region) {
		bad("Region %q is not an AWS region such as us-east-1", c.Region)
	}
	if c.Domain != "" {
		if err := checkServiceURL(normalizeDomain(c.Domain)); err != nil {
			bad("Domain %q %v", redactURL(c.Domain), err)
		}
	}
	if c.Issuer != "" {
		if err := checkServiceURL(c.Issuer); err != nil {
			bad("Issuer %q %v", redactURL(c.Issuer), err)
		}
	}
	if c.JWKSURL != "" {
		if err := checkServiceURL(c.JWKSURL); err != nil {
			bad("JWKSURL %q %v", redactURL(c.JWKSURL), err)
		}
	}
	if c.RedirectURI != "" {
		if err := checkAppURL(c.RedirectURI); err != nil {
			bad("RedirectURI %q %v", redactURL(c.RedirectURI), err)
		}
	}
	if c.LogoutURI != "" {
		if err := checkAppURL(c.LogoutURI); err != nil {
			bad("LogoutURI %q %v", redactURL(c.LogoutURI), err)
		}
	}
	for _, s := range c.Scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			bad("scope %q is empty or has a space, quote or backslash", s)
		}
	}
	return errors.Join(errs...)
}

// validateFor runs Validate and then checks the fields one use needs.
func (c Config) validateFor(use string, fields ...string) error {
	errs := []error{c.Validate()}
	for _, f := range fields {
		var empty bool
		switch f {
		case "Domain":
			empty = c.Domain == ""
		case "RedirectURI":
			empty = c.RedirectURI == ""
		}
		if empty {
			errs = append(errs, fmt.Errorf("%w: %s is empty (%s needs it)", ErrInvalidConfig, f, use))
		}
	}
	return errors.Join(errs...)
}

// checkServiceURL accepts an absolute https URL, or plain http to a loopback
// host (an emulator), with no query or fragment.
func checkServiceURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return errors.New("is not an absolute URL")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return errors.New("must not carry a query, fragment or user info")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("must use https (plain http only for localhost emulators)")
	}
	return errors.New("must use https")
}

// checkAppURL accepts any absolute URL without a fragment: Cognito allows
// http://localhost callbacks and custom schemes for native apps.
func checkAppURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || (u.Host == "" && u.Opaque == "" && u.Path == "") {
		return errors.New("is not an absolute URL")
	}
	if u.Fragment != "" {
		return errors.New("must not carry a fragment")
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// normalizeDomain adds https:// to a bare host name and trims trailing slashes.
func normalizeDomain(d string) string {
	if !strings.Contains(d, "://") {
		d = "https://" + d
	}
	return strings.TrimRight(d, "/")
}

func (c Config) domain() string { return normalizeDomain(c.Domain) }

// region is Region, or the one the pool ID starts with.
func (c Config) region() string {
	if c.Region != "" {
		return c.Region
	}
	if m := poolIDPattern.FindStringSubmatch(c.UserPoolID); m != nil {
		return m[1]
	}
	return ""
}

// issuer is the iss every token must carry.
func (c Config) issuer() string {
	if c.Issuer != "" {
		return c.Issuer
	}
	return "https://cognito-idp." + c.region() + ".amazonaws.com/" + c.UserPoolID
}

// altIssuer is Cognito's newer issuer form, accepted only when Issuer is
// derived rather than set.
func (c Config) altIssuer() string {
	if c.Issuer != "" {
		return ""
	}
	return "https://issuer-cognito-idp." + c.region() + ".amazonaws.com/" + c.UserPoolID
}

func (c Config) jwksURL() string {
	if c.JWKSURL != "" {
		return c.JWKSURL
	}
	return strings.TrimRight(c.issuer(), "/") + "/.well-known/jwks.json"
}

func (c Config) scopes() []string {
	if len(c.Scopes) == 0 {
		return defaultScopes
	}
	return c.Scopes
}
