package alb_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/cognitokit/cognito/alb/albtest"
)

// The ES256 benchmarks: Verify against the floor, what no verifier of these
// values can do less than. Each iteration verifies the next of 1024 distinct
// values (distinct subjects and signatures); Verify has no cache of verified
// values, so distinct and repeated values cost the same, and its key is
// cached after the first fetch, which the timer excludes. Compare the two as
// a ratio from one run, by cpu-ns/op on a busy machine:
//
//	go test -run '^$' -bench 'ES256' -count 6 ./alb

const benchValues = 1024

func benchFixture(b *testing.B) (*fixture, []string) {
	f := newFixture(b)
	values := make([]string, benchValues)
	for i := range values {
		values[i] = f.lb.Mint(fmt.Sprintf("user-%04d", i), albtest.WithEmail(fmt.Sprintf("user%d@example.com", i)), albtest.WithUsername(fmt.Sprintf("user%d", i)))
	}
	return f, values
}

// BenchmarkES256 has two sub-benchmarks, which -count alternates, so that
// both see the same load on a shared machine:
//   - floor checks the signature and nothing else: base64-decode it, SHA-256
//     the signing input, ecdsa.Verify with the P-256 key;
//   - verify is Verify, with every check.
func BenchmarkES256(b *testing.B) {
	f, values := benchFixture(b)
	res, err := f.lb.Client().Get(f.lb.URL() + "/" + f.lb.KeyID())
	if err != nil {
		b.Fatal(err)
	}
	pemKey, _ := io.ReadAll(res.Body)
	res.Body.Close()
	block, _ := pem.Decode(pemKey)
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	key := pub.(*ecdsa.PublicKey)
	floor := func(data string) error {
		dot := strings.LastIndexByte(data, '.')
		sig, err := base64.URLEncoding.DecodeString(data[dot+1:])
		if err != nil || len(sig) != 64 {
			return errors.New("floor: bad signature")
		}
		digest := sha256.Sum256([]byte(data[:dot]))
		if !ecdsa.Verify(key, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
			return errors.New("floor: invalid signature")
		}
		return nil
	}
	b.Run("floor", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime(b)
		for i := 0; b.Loop(); i++ {
			if err := floor(values[i%benchValues]); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
	ctx := context.Background()
	if _, err := f.v.Verify(ctx, values[0]); err != nil { // fetches the key
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		b.ReportAllocs()
		start := cpuTime(b)
		for i := 0; b.Loop(); i++ {
			if _, err := f.v.Verify(ctx, values[i%benchValues]); err != nil {
				b.Fatal(err)
			}
		}
		reportCPU(b, start)
	})
}
