package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"text/tabwriter"

	"github.com/cognitokit/cognito/internal/safetext"
)

func runJWKS(ctx context.Context, e *env, args []string) error {
	s := newSettings("jwks", "--pool ID [--region R] [--issuer URL] [--jwks-url URL] [--json]",
		"Jwks fetches the pool's JSON Web Key Set and lists its keys: kid, key type,\n"+
			"size in bits, alg and use. A token's kid (cognito decode shows it) must be\n"+
			"one of them.",
		"  cognito jwks --pool us-east-1_AbCdEf123")
	s.poolFlags()
	s.fs.DurationVar(&s.timeout, "timeout", DefaultTimeout, "bound on the fetch")
	s.jsonFlag("print the keys as a JSON array")
	pos, err := s.parse(e, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("takes no arguments, got %q", pos[0])
	}
	if !s.set["jwks-url"] {
		if err := s.needPool(""); err != nil {
			return err
		}
	}
	u := s.config().KeySetURL()
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	keys, err := fetchKeys(ctx, s.httpClient(), u)
	if err != nil {
		return err
	}
	if s.jsonOut {
		return writeJSON(e.stdout, keys)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tTYPE\tBITS\tALG\tUSE")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", k.Kid, k.Type, k.Bits, k.Alg, k.Use)
	}
	return tw.Flush()
}

// keyInfo is what jwks says of one key.
type keyInfo struct {
	Kid  string `json:"kid"`
	Type string `json:"kty"`
	Bits int    `json:"bits"`
	Alg  string `json:"alg,omitempty"`
	Use  string `json:"use,omitempty"`
}

var curveBits = map[string]int{"P-256": 256, "P-384": 384, "P-521": 521, "Ed25519": 256}

// fetchKeys GETs the JWKS at u. Every error names u, without its password.
func fetchKeys(ctx context.Context, hc *http.Client, u string) ([]keyInfo, error) {
	shown := safetext.URL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		// A *url.Error quotes the URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, usagef("JWKS URL %q: %v", shown, err)
	}
	req.Header.Set("Accept", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s answered %s", shown, res.Status)
	}
	var set struct {
		Keys []struct {
			Kid, Kty, Alg, Use, N, Crv string
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(res.Body, maxInput)).Decode(&set); err != nil {
		return nil, fmt.Errorf("GET %s: the answer is not a JWKS (a JSON object with keys)", shown)
	}
	out := make([]keyInfo, 0, len(set.Keys))
	for _, k := range set.Keys {
		bits := curveBits[k.Crv]
		if k.Kty == "RSA" {
			if n, err := base64.RawURLEncoding.DecodeString(k.N); err == nil {
				bits = new(big.Int).SetBytes(n).BitLen()
			}
		}
		// A hostile JWKS must not write escape sequences to the terminal.
		out = append(out, keyInfo{Kid: clip(k.Kid, 128), Type: clip(k.Kty, 16), Bits: bits, Alg: clip(k.Alg, 16), Use: clip(k.Use, 16)})
	}
	return out, nil
}
