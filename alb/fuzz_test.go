package alb_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/alb"
	"github.com/cognitokit/cognito/alb/albtest"
)

// FuzzVerify feeds Verify arbitrary values. `go test ./...` runs its seeds
// (the f.Add calls and the files in testdata/fuzz/FuzzVerify, signed with
// testdata/fuzz_key.pem so that their signatures verify); to fuzz for real:
//
//	go test -run '^$' -fuzz '^FuzzVerify$' -fuzztime 3m ./alb
//
// Properties: no panic; a refusal wraps exactly one sentinel and never
// quotes the value; an accepted value carries the signing input of a value
// the fake load balancer signed (no one else can sign), and a subject.
func FuzzVerify(f *testing.F) {
	lb, v, signed := fuzzFixture(f)
	for _, seed := range signed {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data string) {
		tok, err := v.Verify(context.Background(), data)
		if err != nil {
			n := 0
			for _, s := range sentinels {
				if errors.Is(err, s) {
					n++
				}
			}
			if n != 1 {
				t.Fatalf("error %q wraps %d sentinels", err, n)
			}
			if len(data) > 16 && strings.Contains(err.Error(), data) {
				t.Fatalf("error %q quotes the value", err)
			}
			return
		}
		if tok.Subject == "" {
			t.Fatal("accepted a value without a subject")
		}
		input := data[:strings.LastIndexByte(data, '.')]
		for _, s := range signed {
			if strings.HasPrefix(s, input+".") {
				return
			}
		}
		t.Fatalf("accepted a value the load balancer (kid %s) never signed: %q", lb.KeyID(), data)
	})
}

// TestFuzzSeedsVerify keeps the seed files meaningful: those shaped as a load
// balancer sends values still verify with testdata/fuzz_key.pem.
func TestFuzzSeedsVerify(t *testing.T) {
	_, v, _ := fuzzFixture(t)
	for _, name := range []string{"padded", "unpadded", "groups"} {
		b, err := os.ReadFile("testdata/fuzz/FuzzVerify/" + name)
		require.NoError(t, err)
		_, s, ok := strings.Cut(string(b), "string(\"")
		require.True(t, ok)
		_, err = v.Verify(context.Background(), strings.TrimSuffix(strings.TrimSpace(s), "\")"))
		assert.NoError(t, err, name)
	}
}

// fuzzKID names testdata/fuzz_key.pem.
const fuzzKID = "0c7e4b2a-5f1d-4e8a-9b3c-6d2f1a0e9c41"

// fuzzNow is the fuzz fixture's fixed clock; the seeds expire a year later.
var fuzzNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fuzzFixture(f testing.TB) (*albtest.Server, *alb.Verifier, []string) {
	b, err := os.ReadFile("testdata/fuzz_key.pem")
	if err != nil {
		f.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		f.Fatal("testdata/fuzz_key.pem holds no PEM block")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		f.Fatal(err)
	}
	now := func() time.Time { return fuzzNow }
	lb := albtest.NewServer(f, albtest.WithKey(fuzzKID, k.(*ecdsa.PrivateKey)), albtest.WithClock(now))
	v, err := alb.NewVerifier(lb.Config(), cognito.WithHTTPClient(lb.Client()), cognito.WithClock(now),
		cognito.WithJWKSMinRefetchInterval(0)) // every unknown kid may fetch: the fuzzer sees that path too
	if err != nil {
		f.Fatal(err)
	}
	exp := albtest.WithExpiry(fuzzNow.AddDate(1, 0, 0))
	signed := []string{
		lb.Mint("sub-1", exp),
		lb.Mint("sub-1", exp, albtest.Unpadded()),
		lb.Mint("3d4e5f60", exp, albtest.WithEmail("alice@example.com"), albtest.WithUsername("alice"), albtest.WithGroups("admins"),
			albtest.WithClaim("email_verified", "true"), albtest.WithClaim("custom:tenant", "acme")),
	}
	// The seed files, signed with the same key, count as signed too.
	entries, _ := os.ReadDir("testdata/fuzz/FuzzVerify")
	for _, e := range entries {
		b, err := os.ReadFile("testdata/fuzz/FuzzVerify/" + e.Name())
		if err != nil {
			f.Fatal(err)
		}
		if _, s, ok := strings.Cut(string(b), "string(\""); ok {
			signed = append(signed, strings.TrimSuffix(strings.TrimSpace(s), "\")"))
		}
	}
	return lb, v, signed
}
