package cognito

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"golang.org/x/oauth2"
)

// WithTokenStore shares a Client's M2M tokens, and every renewal, among the
// replicas of a fleet; the options block in options.go documents it. This
// file holds the machinery: the sealed entry, the lease, and the renewal that
// one replica makes for all.

// Where the store keeps a fleet's token and its renewal lease: beside the
// sessions' and the revocation list's keys, never on them.
const (
	tokenEntryPrefix = "cognito-m2m:"
	tokenLeasePrefix = "cognito-m2m-renew:"
)

// tokenEntryVersion starts every entry; an entry of another version is
// ignored and replaced, as a garbled one is.
const tokenEntryVersion = 1

// maxTokenEntry bounds what a source reads from the store: a Cognito access
// token is a few KiB.
const maxTokenEntry = 64 << 10

// Waits of a replica that has no valid token while another renews: it looks
// in the store again after pollFirst, then ever less often, up to pollMax
// between looks.
const (
	pollFirst = 10 * time.Millisecond
	pollMax   = 250 * time.Millisecond
)

// tokenFleet is a Client's share of the token store: the store, and the keys
// that seal its entries and name them, derived from the client secret.
type tokenFleet struct {
	store   SessionStore
	aead    cipher.AEAD
	nameKey []byte // HMAC key of the entries' names
	pool    string // the issuer and the token URL, as named in entries
	client  string
	// sleep waits d, or until ctx ends, while another replica renews: a
	// timer, which tests replace (export_test.go) to drive the waits.
	sleep func(ctx context.Context, d time.Duration) error
}

// newTokenFleet derives the fleet's keys from cfg's client secret, for the
// pool and the client only, so that a secret shared by two clients (or two
// pools) would still not let one read the other's entries.
func newTokenFleet(store SessionStore, cfg Config) (*tokenFleet, error) {
	pool := cfg.IssuerURL() + "\x00" + cfg.TokenURL()
	prk, err := hkdf.Extract(sha256.New, []byte(cfg.ClientSecret), []byte("cognitokit M2M token store v1"))
	if err != nil {
		return nil, err
	}
	scope := "\x00" + pool + "\x00" + cfg.ClientID
	sealKey, err := hkdf.Expand(sha256.New, prk, "seal"+scope, 32)
	if err != nil {
		return nil, err
	}
	nameKey, err := hkdf.Expand(sha256.New, prk, "name"+scope, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(sealKey)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &tokenFleet{store: store, aead: aead, nameKey: nameKey, pool: pool, client: cfg.ClientID, sleep: sleep}, nil
}

// sharedToken is one source's entry in the fleet's store: its name, which
// stands for the pool, the client and the scopes, and the bounds of each
// store call and of the renewal lease.
type sharedToken struct {
	fleet        *tokenFleet
	id           string // the entry's key, also the sealed data's additional data
	leaseID      string
	storeTimeout time.Duration
	leaseTTL     time.Duration
}

// entry returns the store entry of a source for scopes whose token requests
// are bounded by requestTimeout. Scopes name the same token in any order.
func (f *tokenFleet) entry(scopes []string, requestTimeout time.Duration) *sharedToken {
	sorted := slices.Clone(scopes)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	var b []byte
	for _, field := range append([]string{f.pool, f.client}, sorted...) {
		b = binary.AppendUvarint(b, uint64(len(field)))
		b = append(b, field...)
	}
	mac := hmac.New(sha256.New, f.nameKey)
	mac.Write(b)
	name := base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	// Waiting longer for the store than for a token request saves nothing.
	storeTimeout := min(DefaultStoreTimeout, requestTimeout)
	return &sharedToken{
		fleet:        f,
		id:           tokenEntryPrefix + name,
		leaseID:      tokenLeasePrefix + name,
		storeTimeout: storeTimeout,
		// The holder's work: a look in the store, the request, the write.
		leaseTTL: requestTimeout + 2*storeTimeout,
	}
}

// sealedToken is what an entry holds, sealed.
type sealedToken struct {
	AccessToken string `json:"t"`
	IssuedAt    int64  `json:"iat"` // Unix nanoseconds
	Expiry      int64  `json:"exp"`
}

// seal encrypts and authenticates tok, bound to the entry's name.
func (s *sharedToken) seal(tok *Tokens, iat time.Time) ([]byte, error) {
	plain, err := json.Marshal(sealedToken{AccessToken: tok.AccessToken, IssuedAt: iat.UnixNano(), Expiry: tok.Expiry.UnixNano()})
	if err != nil {
		return nil, err
	}
	// The version, the nonce and the sealed token, in one buffer.
	ns := s.fleet.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plain)+s.fleet.aead.Overhead())
	out[0] = tokenEntryVersion
	nonce := out[1:]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return s.fleet.aead.Seal(out, nonce, plain, s.additionalData()), nil
}

// open returns the token an entry holds and when it was issued, or false for
// an entry that is garbled, of another version, sealed for another name or
// with another secret.
func (s *sharedToken) open(data []byte) (*Tokens, time.Time, bool) {
	ns := s.fleet.aead.NonceSize()
	if len(data) < 1+ns+s.fleet.aead.Overhead() || len(data) > maxTokenEntry || data[0] != tokenEntryVersion {
		return nil, time.Time{}, false
	}
	plain, err := s.fleet.aead.Open(nil, data[1:1+ns], data[1+ns:], s.additionalData())
	if err != nil {
		return nil, time.Time{}, false
	}
	var e sealedToken
	if json.Unmarshal(plain, &e) != nil || e.AccessToken == "" || e.Expiry <= e.IssuedAt {
		return nil, time.Time{}, false
	}
	return &Tokens{AccessToken: e.AccessToken, TokenType: "Bearer", Expiry: time.Unix(0, e.Expiry)}, time.Unix(0, e.IssuedAt), true
}

func (s *sharedToken) additionalData() []byte {
	return append([]byte{tokenEntryVersion}, s.id...)
}

// errGarbledEntry reports an entry that did not open; it is replaced.
var errGarbledEntry = errors.New("the entry does not open: garbled, or of another version")

// read returns the fleet's token, nil when there is none or it did not open
// (errGarbledEntry), or the store's failure.
func (s *sharedToken) read() (*Tokens, time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout)
	defer cancel()
	data, found, err := findIn(ctx, s.fleet.store, s.id)
	if err != nil || !found {
		return nil, time.Time{}, err
	}
	tok, iat, ok := s.open(data)
	if !ok {
		return nil, time.Time{}, errGarbledEntry
	}
	return tok, iat, nil
}

// write shares tok, issued at iat, until it expires.
func (s *sharedToken) write(tok *Tokens, iat time.Time) error {
	data, err := s.seal(tok, iat)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout)
	defer cancel()
	return commitTo(ctx, s.fleet.store, s.id, data, tok.Expiry)
}

// lease takes the renewal on for the fleet until its TTL passes.
func (s *sharedToken) lease(store LeaseStore, now time.Time) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout)
	defer cancel()
	return store.Lease(ctx, s.leaseID, []byte("renewing"), now.Add(s.leaseTTL))
}

// release ends the lease early, so that a replica may renew at once after a
// failure. A lease that outlived its TTL may be another replica's by now;
// ending it costs at most one more request.
func (s *sharedToken) release() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.storeTimeout)
	defer cancel()
	return deleteFrom(ctx, s.fleet.store, s.leaseID)
}

// renewShared is renew with WithTokenStore: the fleet's token when it is
// newer than this replica's and not due, else one renewal for the fleet.
func (s *m2mSource) renewShared() (*oauth2.Token, error) {
	sh := s.shared
	now := s.client.now()
	if t, done, ok := s.look(now, true); !ok {
		return s.renewAlone()
	} else if done {
		return t, nil
	}
	leases, ok := sh.fleet.store.(LeaseStore)
	if !ok {
		// Each replica whose token is due renews it: at most one request
		// per replica, and a replica that starts later finds the token.
		return s.renewAndShare(false)
	}
	// The holder's lease lasts leaseTTL from about now, on the Client's
	// clock as every other deadline of the source.
	deadline := now.Add(sh.leaseTTL)
	for wait := pollFirst; ; wait = min(2*wait, pollMax) {
		got, err := sh.lease(leases, now)
		if err != nil {
			s.storeFailed("lease", err)
			return s.renewAlone()
		}
		if got {
			// A replica may have shared a token between the look and the
			// lease, and released its own lease since.
			if t, done, ok := s.look(now, false); ok && done {
				_ = sh.release()
				return t, nil
			}
			return s.renewAndShare(true)
		}
		if t, ok := s.keepCurrent(now); ok {
			return t, nil // another replica renews; its token is looked for later
		}
		// No valid token here: wait for the holder's, while its lease lasts.
		if !s.client.now().Add(wait).Before(deadline) {
			return s.renewAndShare(false) // it died or stalled: our own request
		}
		// Token has no context to end the wait: the holder's lease bounds it.
		_ = sh.fleet.sleep(context.Background(), wait)
		now = s.client.now()
		if t, done, ok := s.look(now, false); !ok {
			return s.renewAlone()
		} else if done {
			return t, nil
		}
	}
}

// look reads the fleet's token and keeps it when it is newer than this
// replica's and still valid at now. done says it is not due either, and t is
// then the token to return; ok=false says the store failed. An entry that
// does not open is logged when report is set: once per renewal.
func (s *m2mSource) look(now time.Time, report bool) (t *oauth2.Token, done, ok bool) {
	tok, iat, err := s.shared.read()
	if errors.Is(err, errGarbledEntry) {
		if report && s.client.log != nil {
			s.client.log.Warn("cognito: M2M token store entry ignored; it will be replaced", "error", err)
		}
		return nil, false, true
	}
	if err != nil {
		s.storeFailed("read", err)
		return nil, false, false
	}
	if tok == nil || !now.Before(tok.Expiry) {
		return nil, false, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil || tok.Expiry.After(s.tok.Expiry) {
		s.keepLocked(tok, iat)
	}
	if now.Before(s.renewAt) && now.Before(s.tok.Expiry) {
		return toOAuth2(s.tok), true, true
	}
	return nil, false, true
}

// keepCurrent returns this replica's token while another renews it, and
// holds back the next look until renewRetryDelay has passed.
func (s *m2mSource) keepCurrent(now time.Time) (*oauth2.Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil || !now.Before(s.tok.Expiry) {
		return nil, false
	}
	s.retryAfter = now.Add(renewRetryDelay)
	return toOAuth2(s.tok), true
}

// renewAndShare requests a token and shares it with the fleet, then ends the
// lease when it holds one: the token is in the store before anyone may take
// the renewal on again.
func (s *m2mSource) renewAndShare(leased bool) (*oauth2.Token, error) {
	tok, now, err := s.request()
	if err == nil {
		if werr := s.shared.write(tok, now); werr != nil {
			s.storeFailed("write", werr)
		}
	}
	if leased {
		if rerr := s.shared.release(); rerr != nil {
			s.storeFailed("release", rerr)
		}
	}
	return s.settle(tok, now, err)
}

// renewAlone requests a token for this replica alone, after the store failed:
// a failing store costs requests, never tokens.
func (s *m2mSource) renewAlone() (*oauth2.Token, error) {
	tok, now, err := s.request()
	return s.settle(tok, now, err)
}

func (s *m2mSource) storeFailed(op string, err error) {
	if s.client.log != nil {
		s.client.log.Warn("cognito: M2M token store failed; this replica renews on its own", "op", op, "error", err)
	}
}
