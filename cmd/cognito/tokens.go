package main

import (
	"context"
	"fmt"

	"github.com/cognitokit/cognito"
)

func runToken(ctx context.Context, e *env, args []string) error {
	s := newSettings("token", "--client-credentials --domain URL --client ID --secret S [--scope S...] [--print access]",
		"Token gets an access token for a machine (M2M) from the token endpoint with\n"+
			"the client credentials grant: the app client must have a secret and allow\n"+
			"that grant, and the scopes must be custom scopes of a resource server.\n"+
			"It prints {\"access_token\", \"token_type\", \"expires_at\"}, or only the token\n"+
			"with --print access.",
		"  cognito token --client-credentials --scope orders/read --print access")
	s.clientFlags(false)
	s.endpointFlags()
	s.scopeFlag("`scope` to ask for; repeatable; default: every scope the app client allows")
	cc := s.fs.Bool("client-credentials", false, "use the client credentials grant (the only one token has)")
	printWhich := s.fs.String("print", "", "print only the token (`access`)")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("takes no arguments, got %q", pos[0])
	}
	if !*cc {
		return usagef("needs --client-credentials, the grant to use (for a user's tokens, use cognito login)")
	}
	if err := checkPrint(*printWhich, "access"); err != nil {
		return err
	}
	if err := s.need("", "domain", "client", "secret"); err != nil {
		return err
	}
	client, err := s.client(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	t, err := client.ClientCredentials(ctx, s.scopes...)
	if err != nil {
		return err
	}
	if *printWhich == "access" {
		return printOne(e, t.AccessToken, "access")
	}
	return printTokens(e, &cognito.Tokens{AccessToken: t.AccessToken, TokenType: t.TokenType, Expiry: t.Expiry}, "")
}

func runRefresh(ctx context.Context, e *env, args []string) error {
	s := newSettings("refresh", "--domain URL --client ID [--secret S] [--print id|access|refresh] TOKEN|-",
		"Refresh trades a refresh token for new ID and access tokens at the token\n"+
			"endpoint and prints them as JSON, or one of them with --print. The refresh\n"+
			"token is the argument, or standard input with -. The new tokens are printed\n"+
			"as the endpoint sent them: check them with cognito verify.",
		"  cognito login --print refresh > rt.txt\n  cognito refresh --print access - < rt.txt")
	s.clientFlags(false)
	s.endpointFlags()
	printWhich := s.fs.String("print", "", "print only one token (`id|access|refresh`)")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if err := checkPrint(*printWhich, "id", "access", "refresh"); err != nil {
		return err
	}
	return s.withRefreshToken(ctx, e, pos, func(ctx context.Context, client *cognito.Client, rt string) error {
		t, err := client.Refresh(ctx, rt)
		if err != nil {
			return err
		}
		return printTokens(e, t, *printWhich)
	})
}

func runRevoke(ctx context.Context, e *env, args []string) error {
	s := newSettings("revoke", "--domain URL --client ID [--secret S] TOKEN|-",
		"Revoke revokes a refresh token, and the access tokens issued with it, at the\n"+
			"revoke endpoint. The app client must have token revocation on. The refresh\n"+
			"token is the argument, or standard input with -. It prints nothing on\n"+
			"standard output.",
		"  cognito revoke - < rt.txt")
	s.clientFlags(false)
	s.endpointFlags()
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	return s.withRefreshToken(ctx, e, pos, func(ctx context.Context, client *cognito.Client, rt string) error {
		if err := client.Revoke(ctx, rt); err != nil {
			return err
		}
		fmt.Fprintln(e.stderr, "Revoked.")
		return nil
	})
}

// withRefreshToken runs fn, for refresh and revoke, with a client for the
// settings, the refresh token from pos (or standard input for -), and ctx
// bounded by the settings' timeout.
func (s *settings) withRefreshToken(ctx context.Context, e *env, pos []string, fn func(context.Context, *cognito.Client, string) error) error {
	if err := s.need("", "domain", "client"); err != nil {
		return err
	}
	rt, err := tokenArg(e, pos, "refresh token")
	if err != nil {
		return err
	}
	client, err := s.client(e)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	return fn(ctx, client, rt)
}

// client is a cognito.Client for the settings, with their timeout. Pool
// settings are not needed to call the endpoints: a stand-in issuer keeps
// Config.Validate content when none is given.
func (s *settings) client(e *env) (*cognito.Client, error) {
	cfg := s.config()
	if cfg.UserPoolID == "" && cfg.Issuer == "" {
		cfg.Issuer = "https://issuer.invalid"
	}
	c, err := cognito.NewClient(cfg, cognito.WithHTTPClient(s.httpClient()), cognito.WithClock(e.now))
	if err != nil {
		return nil, usagef("%s", errorLine(err))
	}
	return c, nil
}
