package cognito

import (
	"fmt"
	"log/slog"
)

// fmt prints the package's values without their secrets: a Config, a Client
// or Tokens logged with %v, %+v, %#v or %s shows "[redacted]" where a client
// secret or a token would be, and the verified token types print their
// fields without the raw claims they keep for Claims. Each Format prints a
// copy of the value as a type without methods, so the usual formatting of
// every verb and flag applies to the rest. LogValue does the same for
// log/slog, whose JSON handler would otherwise marshal the secret.
// encoding/json itself still writes every field: marshalling is storing, and
// a session store that keeps Tokens as JSON needs them whole.

const redacted = "[redacted]"

func redact(s string) string {
	if s == "" {
		return ""
	}
	return redacted
}

type (
	configFields      Config
	tokensFields      Tokens
	idTokenFields     IDToken
	accessTokenFields AccessToken
)

// Format prints c with ClientSecret redacted, and the password of any URL
// field replaced by "xxxxx".
func (c Config) Format(f fmt.State, verb rune) {
	type Config configFields // prints as cognito.Config under %#v
	fmt.Fprintf(f, fmt.FormatString(f, verb), Config(c.printable()))
}

// printable is c with ClientSecret redacted and the password of each URL
// field replaced by "xxxxx".
func (c Config) printable() Config {
	c.ClientSecret = redact(c.ClientSecret)
	c.Domain, c.RedirectURI, c.LogoutURI = redactURL(c.Domain), redactURL(c.RedirectURI), redactURL(c.LogoutURI)
	c.Issuer, c.JWKSURL = redactURL(c.Issuer), redactURL(c.JWKSURL)
	return c
}

// String is c as %v prints it, with ClientSecret redacted and URL passwords
// hidden.
func (c Config) String() string { return fmt.Sprintf("%v", c) }

// GoString is c as %#v prints it, with ClientSecret redacted and URL
// passwords hidden.
func (c Config) GoString() string { return fmt.Sprintf("%#v", c) }

// Format prints t with every token redacted; TokenType and Expiry show.
func (t Tokens) Format(f fmt.State, verb rune) {
	type Tokens tokensFields
	t.IDToken, t.AccessToken, t.RefreshToken = redact(t.IDToken), redact(t.AccessToken), redact(t.RefreshToken)
	fmt.Fprintf(f, fmt.FormatString(f, verb), Tokens(t))
}

// String is t as %v prints it, with every token redacted.
func (t Tokens) String() string { return fmt.Sprintf("%v", t) }

// GoString is t as %#v prints it, with every token redacted.
func (t Tokens) GoString() string { return fmt.Sprintf("%#v", t) }

// Format prints the token's fields, without the raw claims.
func (t IDToken) Format(f fmt.State, verb rune) {
	type IDToken idTokenFields
	t.claims = nil
	fmt.Fprintf(f, fmt.FormatString(f, verb), IDToken(t))
}

// String is t as %v prints it: its fields, without the raw claims.
func (t IDToken) String() string { return fmt.Sprintf("%v", t) }

// Format prints the token's fields, without the raw claims.
func (t AccessToken) Format(f fmt.State, verb rune) {
	type AccessToken accessTokenFields
	t.claims, t.clock = nil, nil
	fmt.Fprintf(f, fmt.FormatString(f, verb), AccessToken(t))
}

// String is t as %v prints it: its fields, without the raw claims.
func (t AccessToken) String() string { return fmt.Sprintf("%v", t) }

// Format prints c as its Config does, with ClientSecret redacted and URL
// passwords hidden, and none of its internals.
func (c *Client) Format(f fmt.State, verb rune) {
	type Config configFields
	type Client struct{ Config Config }
	if c == nil {
		fmt.Fprintf(f, fmt.FormatString(f, verb), (*Client)(nil))
		return
	}
	fmt.Fprintf(f, fmt.FormatString(f, verb), &Client{Config: Config(c.cfg.printable())})
}

// String is c as %v prints it, with the client secret redacted.
func (c *Client) String() string { return fmt.Sprintf("%v", c) }

// LogValue is c for log/slog, with ClientSecret redacted and the password of
// any URL field replaced by "xxxxx".
func (c Config) LogValue() slog.Value { return slog.AnyValue(configFields(c.printable())) }

// LogValue is t for log/slog, with every token redacted.
func (t Tokens) LogValue() slog.Value {
	t.IDToken, t.AccessToken, t.RefreshToken = redact(t.IDToken), redact(t.AccessToken), redact(t.RefreshToken)
	return slog.AnyValue(tokensFields(t))
}

// LogValue is c's Config for log/slog, with ClientSecret redacted and the
// password of any URL field replaced by "xxxxx".
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.AnyValue(nil)
	}
	return c.cfg.LogValue()
}
