// Package albtest fakes an Application Load Balancer for tests of handlers
// behind alb.RequireUser, in the spirit of net/http/httptest: a key server
// that answers GET /<kid> with the PEM public key of that kid, as the load
// balancers' regional key endpoint does, and a minter of x-amzn-oidc-data
// values shaped as a load balancer shapes them (ES256, the header's signer,
// client, iss and exp, each part base64url with '=' padding).
//
//	lb := albtest.NewServer(t) // closed by t.Cleanup
//	v, _ := alb.NewVerifier(lb.Config(), cognito.WithHTTPClient(lb.Client()))
//	req.Header.Set(alb.DataHeader, lb.Mint("alice-sub", albtest.WithEmail("alice@example.com")))
//
// It lives beside alb rather than in cognitotest because it fakes the load
// balancer, not the user pool, and needs none of the pool's machinery; a test
// that wants both uses both. Its keys are made for each server: never trust
// its values outside a test.
package albtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cognitokit/cognito/alb"
)

// The defaults of the values a Server mints and of its Config.
const (
	Region   = "us-east-1"
	ARN      = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/albtest/50dc6c495c0c9188"
	ClientID = "4fmvht22tjrgd7d3k3tghttct7"
	Issuer   = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AlbTest01"
	// Lifetime is how long after the server's clock minted values expire.
	Lifetime = 2 * time.Minute
)

// Server is a fake load balancer: its key server and its signing key.
type Server struct {
	srv      *httptest.Server
	now      func() time.Time
	requests atomic.Int64

	mu      sync.Mutex
	kid     string
	signer  *ecdsa.PrivateKey
	keys    map[string][]byte // kid -> PEM served
	handler http.Handler      // when set, answers every key request instead
}

// Option configures a Server.
type Option func(*Server)

// WithClock replaces time.Now for the exp of minted values.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithKey makes the server sign with k under kid, instead of a fresh key:
// for values that must verify across runs, such as fuzz seeds. kid must be a
// lower-case UUID for the values to verify.
func WithKey(kid string, k *ecdsa.PrivateKey) Option {
	return func(s *Server) { s.kid, s.signer, s.keys[kid] = kid, k, PublicKeyPEM(&k.PublicKey) }
}

// NewServer starts a key server with one fresh P-256 key, closed when tb's
// test ends.
func NewServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s := Start(opts...)
	tb.Cleanup(s.Close)
	return s
}

// Start starts a key server with one fresh P-256 key, for code without a
// testing.TB (examples, programs); Close stops it.
func Start(opts ...Option) *Server {
	s := &Server{now: time.Now, keys: map[string][]byte{}}
	for _, o := range opts {
		o(s)
	}
	if s.signer == nil {
		s.RotateKey()
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveKey))
	return s
}

// Close stops the key server.
func (s *Server) Close() { s.srv.Close() }

func (s *Server) serveKey(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	s.mu.Lock()
	h, pemKey := s.handler, s.keys[strings.TrimPrefix(r.URL.Path, "/")]
	s.mu.Unlock()
	if h != nil {
		h.ServeHTTP(w, r)
		return
	}
	if r.Method != http.MethodGet || pemKey == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	_, _ = w.Write(pemKey)
}

// URL is the key server's base URL, the Config's KeysURL.
func (s *Server) URL() string { return s.srv.URL }

// Client returns an *http.Client for the key server; give it to
// alb.NewVerifier with cognito.WithHTTPClient.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// Config returns an alb.Config that accepts the values the server mints by
// default.
func (s *Server) Config() alb.Config {
	return alb.Config{
		Region:           Region,
		LoadBalancerARNs: []string{ARN},
		ClientIDs:        []string{ClientID},
		Issuer:           Issuer,
		KeysURL:          s.srv.URL,
	}
}

// Requests reports how many requests the key server has answered.
func (s *Server) Requests() int { return int(s.requests.Load()) }

// KeyID returns the kid the server signs with now.
func (s *Server) KeyID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kid
}

// RotateKey makes a new signing key under a new kid and returns the kid. The
// key server keeps serving the old keys, as the load balancers' does.
func (s *Server) RotateKey() string {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic("albtest: generating a P-256 key: " + err.Error())
	}
	kid := newUUID()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kid, s.signer, s.keys[kid] = kid, k, PublicKeyPEM(&k.PublicKey)
	return kid
}

// ServeKey makes the key server answer GET /kid with body, whatever it is,
// with status 200: a key of another curve or type, garbage, an HTML page.
func (s *Server) ServeKey(kid string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = body
}

// SetHandler makes h answer every key request (nil restores the keys):
// for tests of a key server that fails, hangs or answers too much.
func (s *Server) SetHandler(h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handler = h
}

// PublicKeyPEM encodes k as a PEM "PUBLIC KEY" block, as the key server
// serves it.
func PublicKeyPEM(k any) []byte {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		panic("albtest: encoding a public key: " + err.Error())
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// MintOption changes one thing about a minted value.
type MintOption func(*mint)

type mint struct {
	header, claims *members
	unpadded       bool
}

// members is a JSON object that keeps its members in the order they were
// first set, so that a header comes out in the load balancer's order.
type members struct {
	names  []string
	values map[string]any
}

func newMembers(kv ...any) *members {
	m := &members{values: map[string]any{}}
	for i := 0; i+1 < len(kv); i += 2 {
		m.set(kv[i].(string), kv[i+1])
	}
	return m
}

// set sets name to value, or removes it when value is nil.
func (m *members) set(name string, value any) {
	if value == nil {
		delete(m.values, name)
		return
	}
	if _, ok := m.values[name]; !ok {
		m.names = append(m.names, name)
	}
	m.values[name] = value
}

func (m *members) marshal() []byte {
	b := []byte{'{'}
	for _, name := range m.names {
		v, ok := m.values[name]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		n, _ := json.Marshal(name)
		val, err := json.Marshal(v)
		if err != nil {
			panic("albtest: encoding " + name + ": " + err.Error())
		}
		b = append(append(append(b, n...), ':'), val...)
	}
	return append(b, '}')
}

// WithExpiry sets exp, in the header and the claims, to t.
func WithExpiry(t time.Time) MintOption {
	return func(m *mint) { m.header.set("exp", t.Unix()); m.claims.set("exp", t.Unix()) }
}

// WithEmail sets the email claim.
func WithEmail(email string) MintOption { return WithClaim("email", email) }

// WithUsername sets the username claim.
func WithUsername(username string) MintOption { return WithClaim("username", username) }

// WithGroups sets the cognito:groups claim.
func WithGroups(groups ...string) MintOption { return WithClaim("cognito:groups", groups) }

// WithClaim sets a claim to value, or removes it when value is nil.
func WithClaim(name string, value any) MintOption {
	return func(m *mint) { m.claims.set(name, value) }
}

// WithHeader sets a header member to value, or removes it when value is nil:
// kid, alg, typ, or any other.
func WithHeader(name string, value any) MintOption {
	return func(m *mint) { m.header.set(name, value) }
}

// WithSigner sets the header's signer, the load balancer's ARN.
func WithSigner(arn string) MintOption { return WithHeader("signer", arn) }

// WithClient sets the header's client, the app client's ID.
func WithClient(id string) MintOption { return WithHeader("client", id) }

// WithIssuer sets iss in the header and the claims.
func WithIssuer(iss string) MintOption {
	return func(m *mint) { m.header.set("iss", iss); m.claims.set("iss", iss) }
}

// Unpadded mints the value without '=' padding, as RFC 7515 spells a JWS,
// instead of padded as a load balancer sends it.
func Unpadded() MintOption { return func(m *mint) { m.unpadded = true } }

// Mint returns an x-amzn-oidc-data value for the user sub, as the load
// balancer makes it: header typ JWT, kid, alg ES256, iss, client, signer and
// exp; claims sub, exp and iss; the server's defaults otherwise.
func (s *Server) Mint(sub string, opts ...MintOption) string {
	exp := s.now().Add(Lifetime).Unix()
	m := &mint{
		header: newMembers("typ", "JWT", "kid", s.KeyID(), "alg", "ES256", "iss", Issuer, "client", ClientID, "signer", ARN, "exp", exp),
		claims: newMembers("sub", sub, "exp", exp, "iss", Issuer),
	}
	for _, o := range opts {
		o(m)
	}
	h, c := m.header.marshal(), m.claims.marshal()
	if m.unpadded {
		return s.SignUnpadded(h, c)
	}
	return s.Sign(h, c)
}

// Sign signs header and claims, any bytes (repeated members, any alg), with
// the current key, each part base64url with '=' padding as a load balancer
// pads them.
func (s *Server) Sign(header, claims []byte) string {
	return s.sign(base64.URLEncoding, header, claims)
}

// SignUnpadded is Sign without the padding.
func (s *Server) SignUnpadded(header, claims []byte) string {
	return s.sign(base64.RawURLEncoding, header, claims)
}

func (s *Server) sign(enc *base64.Encoding, header, claims []byte) string {
	s.mu.Lock()
	k := s.signer
	s.mu.Unlock()
	input := enc.EncodeToString(header) + "." + enc.EncodeToString(claims)
	return input + "." + enc.EncodeToString(SignES256(k, []byte(input)))
}

// SignES256 returns the ES256 signature of input by k: r and s as two
// 32-byte big-endian integers (RFC 7518 section 3.4).
func SignES256(k *ecdsa.PrivateKey, input []byte) []byte {
	digest := sha256.Sum256(input)
	r, sv, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		panic("albtest: signing: " + err.Error())
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	sv.FillBytes(sig[32:])
	return sig
}

// newUUID returns a random (version 4) UUID in lower case.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
