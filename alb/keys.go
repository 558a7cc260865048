package alb

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cognitokit/cognito"
	"github.com/cognitokit/cognito/internal/safetext"
)

const (
	// maxKeyBytes bounds a key server's answer: a P-256 public key in PEM
	// is under 200 bytes.
	maxKeyBytes = 4 << 10
	// maxKeys bounds the cache. A region's load balancers sign with a few
	// keys at a time; only keys the key server vouched for enter the cache,
	// and past this many the oldest is dropped (refetched if named again).
	maxKeys = 32
	// maxMissing bounds the kids the key server recently said it lacks.
	maxMissing = 1024
	// maxFlights bounds the kids being fetched or waiting for the download
	// slot. Downloads run one at a time, so a kid queued last waits for
	// every kid before it: at tens of milliseconds a download, sixteen keep
	// that wait under a second or two. A kid beyond them is refused at once
	// with ErrJWKSUnavailable (the caller retries), instead of lengthening a
	// queue that made-up kids can fill faster than the key server answers.
	maxFlights = 16
)

// keySet is an immutable snapshot of the cached keys.
type keySet struct {
	keys  map[string]*ecdsa.PublicKey // by kid
	order []string                    // kids, oldest first
}

// keyCache holds the load balancers' public keys by kid. A kid's key never
// changes, so a cached key is kept until the cache is full, never refetched.
//
// Fetch policy, as the cognito package's JWKS cache: concurrent callers for
// one kid share one fetch, and only one download runs at a time whatever the
// kid, so a flood of new kids queues instead of fanning out. At most
// maxFlights kids are fetched or queued at once; a kid beyond them fails at
// once with ErrJWKSUnavailable. A kid waits for the download slot only while
// one of its callers still waits for it (each caller's context bounds its own
// wait), and its download, once begun, runs to the fetch timeout, counted
// from the moment the slot is taken, whatever its callers' contexts do, so
// that the key is cached for the next caller.
//
// A download that fails (the key server is unreachable, times out, or
// answers anything but a key or "no such key") starts a quiet period of
// minRefetch during which kids not in the cache fail at once with
// ErrJWKSUnavailable, without touching the network. Nothing else starts it:
// not a caller giving up, not a full queue. Unlike the JWKS, where one
// document holds every key, each kid has a URL of its own, so an answer that
// the key server has no such key (404, 403) is about that kid alone: that
// kid fails at once with ErrUnknownKey for minRefetch, and other kids are
// still fetched. Made-up kids therefore cannot hold back a key the load
// balancers start using.
type keyCache struct {
	baseURL    string // without a trailing slash
	client     *http.Client
	now        func() time.Time
	timeout    time.Duration
	minRefetch time.Duration

	current    atomic.Pointer[keySet]
	quietUntil atomic.Int64  // unix nanoseconds
	downloads  chan struct{} // one slot: one download at a time

	mu      sync.Mutex
	flights map[string]*flight // by kid: the fetches under way or queued
	missing map[string]int64   // kid → unix nanoseconds until which it is not fetched again
}

// flight is the fetch of one kid, shared by every caller that wants it.
type flight struct {
	done chan struct{} // closed once key and err are set
	key  *ecdsa.PublicKey
	err  error

	// Guarded by keyCache.mu.
	waiters int                // callers waiting for done
	started bool               // the download slot is taken: the fetch no longer depends on its callers
	abandon context.CancelFunc // ends the wait for the slot
}

func newKeyCache(baseURL string, client *http.Client, now func() time.Time, timeout, minRefetch time.Duration) *keyCache {
	c := &keyCache{
		baseURL: baseURL, client: client, now: now, timeout: timeout, minRefetch: minRefetch,
		downloads: make(chan struct{}, 1), flights: map[string]*flight{}, missing: map[string]int64{},
	}
	c.current.Store(&keySet{keys: map[string]*ecdsa.PublicKey{}})
	return c
}

// errNoSuchKey: the key server answered that it has no key by this kid.
var errNoSuchKey = errors.New("the key server has no key by this kid")

// key returns the key named kid, which must be a UUID, fetching it when the
// policy allows.
func (c *keyCache) key(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	if k := c.current.Load().keys[kid]; k != nil {
		return k, nil
	}
	if err := c.held(kid); err != nil {
		return nil, err
	}
	f, err := c.join(ctx, kid)
	if err != nil {
		return nil, err
	}
	select {
	case <-f.done:
		return f.key, f.err
	case <-ctx.Done():
		c.leave(kid, f)
		return nil, fmt.Errorf("%w: alb: waiting for the key %s: %w", cognito.ErrJWKSUnavailable, kid, ctx.Err())
	}
}

// join adds a caller to kid's flight, starting one when there is none and
// fewer than maxFlights are under way.
func (c *keyCache) join(ctx context.Context, kid string) (*flight, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f := c.flights[kid]
	if f == nil {
		if len(c.flights) >= maxFlights {
			return nil, fmt.Errorf("%w: alb: %d other keys are being fetched; not queueing kid %s", cognito.ErrJWKSUnavailable, len(c.flights), kid)
		}
		// The flight keeps ctx's values but not its end: it is shared, and
		// ends by leave when its last caller goes.
		wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), abandon: cancel}
		c.flights[kid] = f
		go c.run(wctx, kid, f)
	}
	f.waiters++
	return f, nil
}

// leave takes a caller whose context ended off kid's flight. The last one to
// leave before the download begins takes the kid out of the queue.
func (c *keyCache) leave(kid string, f *flight) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f.waiters--
	if f.waiters == 0 && !f.started {
		f.abandon()
		if c.flights[kid] == f {
			delete(c.flights, kid)
		}
	}
}

// run fetches kid for flight f and hands the outcome to its callers.
func (c *keyCache) run(wctx context.Context, kid string, f *flight) {
	defer f.abandon()
	k, err := c.fetch(wctx, kid, f)
	c.mu.Lock()
	if c.flights[kid] == f {
		delete(c.flights, kid)
	}
	c.mu.Unlock()
	f.key, f.err = k, err
	close(f.done)
}

// fetch waits for the download slot while wctx lasts (while f has callers),
// then downloads kid's key within the fetch timeout.
func (c *keyCache) fetch(wctx context.Context, kid string, f *flight) (*ecdsa.PublicKey, error) {
	select {
	case c.downloads <- struct{}{}:
		defer func() { <-c.downloads }()
	case <-wctx.Done():
		return nil, fmt.Errorf("%w: alb: every caller for the key %s gave up", cognito.ErrJWKSUnavailable, kid)
	}
	c.mu.Lock()
	abandoned := wctx.Err() != nil
	f.started = !abandoned
	c.mu.Unlock()
	if abandoned { // the slot and the last caller's leaving came together
		return nil, fmt.Errorf("%w: alb: every caller for the key %s gave up", cognito.ErrJWKSUnavailable, kid)
	}
	// The download just before this one may have fetched this kid, or
	// failed and started a quiet period.
	if k := c.current.Load().keys[kid]; k != nil {
		return k, nil
	}
	if err := c.held(kid); err != nil {
		return nil, err
	}
	// The timeout starts now, not when the kid joined the queue: the wait
	// for the slot is bounded by the callers' contexts instead, and a
	// download cut short by time spent queueing would blame the key server
	// for a queue that made-up kids filled.
	dctx, cancel := context.WithTimeout(wctx, c.timeout)
	defer cancel()
	k, err := c.download(dctx, kid)
	if errors.Is(err, errNoSuchKey) {
		c.markMissing(kid)
		return nil, fmt.Errorf("%w: alb: kid %s: %w", cognito.ErrUnknownKey, kid, err)
	}
	if err != nil {
		c.startQuiet()
		return nil, fmt.Errorf("%w: alb: kid %s: %w", cognito.ErrJWKSUnavailable, kid, err)
	}
	c.store(kid, k)
	return k, nil
}

// store adds a key to a copy of the current set; only the holder of the
// download slot calls it.
func (c *keyCache) store(kid string, k *ecdsa.PublicKey) {
	old := c.current.Load()
	next := &keySet{keys: make(map[string]*ecdsa.PublicKey, len(old.keys)+1), order: append([]string(nil), old.order...)}
	for id, key := range old.keys {
		next.keys[id] = key
	}
	if len(next.order) >= maxKeys {
		delete(next.keys, next.order[0])
		next.order = next.order[1:]
	}
	next.keys[kid] = k
	next.order = append(next.order, kid)
	c.current.Store(next)
}

// held returns the error for a kid not in the cache that may not be fetched
// now: the key server said it lacks this kid less than minRefetch ago, or a
// fetch failed and the quiet period holds. It returns nil otherwise.
func (c *keyCache) held(kid string) error {
	now := c.now().UnixNano()
	c.mu.Lock()
	until, ok := c.missing[kid]
	c.mu.Unlock()
	if ok && now < until {
		return fmt.Errorf("%w: alb: the key server had no key %s less than %s ago; not asking again yet", cognito.ErrUnknownKey, kid, c.minRefetch)
	}
	if now < c.quietUntil.Load() {
		return fmt.Errorf("%w: alb: a key fetch failed less than %s ago; not fetching again yet", cognito.ErrJWKSUnavailable, c.minRefetch)
	}
	return nil
}

func (c *keyCache) startQuiet() { c.quietUntil.Store(c.now().Add(c.minRefetch).UnixNano()) }

// markMissing holds kid back for minRefetch. When maxMissing kids are held,
// the expired ones go, and if none has expired, an arbitrary one.
func (c *keyCache) markMissing(kid string) {
	now := c.now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.missing) >= maxMissing {
		for k, until := range c.missing {
			if until <= now {
				delete(c.missing, k)
			}
		}
		for k := range c.missing {
			if len(c.missing) < maxMissing {
				break
			}
			delete(c.missing, k)
		}
	}
	c.missing[kid] = now + int64(c.minRefetch)
}

// download GETs baseURL/<kid> and parses the PEM public key it answers.
func (c *keyCache) download(ctx context.Context, kid string) (*ecdsa.PublicKey, error) {
	// kid is a UUID (Verify checked), escaped all the same: no kid can
	// change the URL's path beyond its last segment.
	u := c.baseURL + "/" + url.PathEscape(kid)
	shown := safetext.URL(u)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		// Its *url.Error would quote the URL, password included.
		return nil, fmt.Errorf("GET %s: the URL does not parse", shown)
	}
	res, err := c.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	defer res.Body.Close()
	switch {
	case res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusForbidden:
		return nil, fmt.Errorf("GET %s answered %d: %w", shown, res.StatusCode, errNoSuchKey)
	case res.StatusCode != http.StatusOK:
		return nil, fmt.Errorf("GET %s answered %d", shown, res.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, maxKeyBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", shown, err)
	}
	if len(body) > maxKeyBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", shown, maxKeyBytes)
	}
	k, err := parseKey(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return k, nil
}

// parseKey reads one PEM "PUBLIC KEY" block (SubjectPublicKeyInfo) holding an
// ECDSA P-256 key, with nothing but white space around it.
func parseKey(body []byte) (*ecdsa.PublicKey, error) {
	// pem.Decode skips text before the block: an HTML page quoting a key
	// is not a key answer.
	if !bytes.HasPrefix(bytes.TrimSpace(body), []byte("-----BEGIN PUBLIC KEY-----")) {
		return nil, errors.New("is not a PEM public key")
	}
	block, rest := pem.Decode(body)
	if block == nil || block.Type != "PUBLIC KEY" || len(block.Headers) > 0 {
		return nil, errors.New("is not a PEM public key")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New("has data after the PEM public key")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, errors.New("holds no parsable public key")
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return nil, fmt.Errorf("holds a %T, not an ECDSA P-256 key", pub)
	}
	return k, nil
}
