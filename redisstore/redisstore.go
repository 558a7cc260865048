// Package redisstore keeps cognito.Sessions' sessions and its revocation list
// in Redis, so that every replica of an app behind a load balancer sees the
// same sign-ins and sign-outs, and a restart signs nobody out.
//
// A Store has the method set of cognito.SessionStore (and of scs's Store), plus
// scs's context variants FindCtx, CommitCtx and DeleteCtx, which Sessions uses
// so that each request's context bounds its calls to Redis, and Lease
// (cognito.LeaseStore), with which one replica takes a job on for all:
//
//	store, err := redisstore.Open("redis://127.0.0.1:6379/0")
//	if err != nil { ... }
//	defer store.Close()
//	sessions, err := cognito.NewSessions(flow, store)
//
// The package is a module of its own, so that the cognito library's go.mod
// never names a Redis client. Any scs store for Redis (such as scs's
// goredisstore) fits cognito.Sessions as well; this one adds a bounded
// timeout per call and an Open that sets the client up for it.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of the options below.
const (
	// DefaultPrefix starts every key the Store writes. cognito.Sessions
	// namespaces its own keys beneath it, so that sessions and the revocation
	// list can share one Store.
	DefaultPrefix = "cognito:"
	// DefaultTimeout bounds each call to Redis, whatever the caller's context
	// allows: a Redis that stalls costs a request this long, then an error
	// (which cognito.Sessions answers with 503), never a hung request.
	DefaultTimeout = 2 * time.Second
)

// Open's settings of the client it makes, where the URL does not set them:
// a Redis that is down or stalled fails a call within about DefaultTimeout.
const (
	openDialTimeout = time.Second
	openIOTimeout   = time.Second
)

// ErrUnavailable is wrapped by every error of a call that Redis did not
// answer: it is down, stalled, refused the command, or the call ran out of
// time. Nothing was read, written or deleted with certainty; try later.
var ErrUnavailable = errors.New("redisstore: Redis is unavailable")

// Store keeps opaque data by ID in Redis, each entry under Prefix+ID and
// expiring on its own at the time Commit was given (SET ... PXAT, by the
// Redis server's clock). Its methods are safe for concurrent use.
type Store struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	owned   bool // Close closes the client: Open made it
}

// Option configures New and Open.
type Option interface{ apply(*Store) }

type optionFunc func(*Store)

func (f optionFunc) apply(s *Store) { f(s) }

// WithPrefix makes the Store keep its keys under prefix instead of
// DefaultPrefix, for several apps on one Redis database.
func WithPrefix(prefix string) Option {
	return optionFunc(func(s *Store) { s.prefix = prefix })
}

// WithTimeout bounds each call to Redis to d, on top of the caller's context.
// Default DefaultTimeout; values <= 0 are ignored.
func WithTimeout(d time.Duration) Option {
	return optionFunc(func(s *Store) {
		if d > 0 {
			s.timeout = d
		}
	})
}

// New returns a Store on client, which stays the caller's to close.
//
// The go-redis client honours a context's deadline on the network only with
// ContextTimeoutEnabled set in its options; without it a stalled Redis holds
// a call until the client's ReadTimeout (3 s by default) instead of the
// Store's timeout or the request's end. Open sets it.
func New(client redis.UniversalClient, opts ...Option) *Store {
	s := &Store{client: client, prefix: DefaultPrefix, timeout: DefaultTimeout}
	for _, o := range opts {
		if o != nil {
			o.apply(s)
		}
	}
	return s
}

// Open returns a Store on a new client for the Redis URL rawURL, such as
// "redis://127.0.0.1:6379/0" or "rediss://user:password@host:6380/1" (the
// query may set the client's options, as go-redis's ParseURL reads them).
// The client honours each call's context, dials within one second, waits one
// second for an answer and retries a failed call once, unless the URL says
// otherwise. Open does no
// network I/O; Close closes the client.
func Open(rawURL string, opts ...Option) (*Store, error) {
	o, err := redis.ParseURL(rawURL)
	if err != nil {
		// ParseURL's errors may quote the URL, password included.
		return nil, errors.New("redisstore: the Redis URL is malformed: want redis://[user:password@]host:port[/db], or rediss:// for TLS")
	}
	o.ContextTimeoutEnabled = true
	if o.DialTimeout == 0 {
		o.DialTimeout = openDialTimeout
	}
	if o.ReadTimeout == 0 {
		o.ReadTimeout = openIOTimeout
	}
	if o.WriteTimeout == 0 {
		o.WriteTimeout = openIOTimeout
	}
	// One retry covers a pooled connection that a Redis restart broke; more
	// (and go-redis's five dial attempts) would only make a Redis that is
	// down cost each request seconds before its 503.
	if o.MaxRetries == 0 {
		o.MaxRetries = 1
	}
	if o.DialerRetries == 0 {
		o.DialerRetries = 1
	}
	s := New(redis.NewClient(o), opts...)
	s.owned = true
	return s, nil
}

// Close closes the client when Open made it, and does nothing for a Store of
// New, whose client is the caller's.
func (s *Store) Close() error {
	if !s.owned {
		return nil
	}
	return s.client.Close()
}

// Client returns the Redis client the Store uses.
func (s *Store) Client() redis.UniversalClient { return s.client }

// Find returns the data kept for id, and whether there is any: an entry past
// its expiry is not found. It is FindCtx with a background context.
func (s *Store) Find(id string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), id)
}

// Commit keeps data for id until expiry, replacing what was there. It is
// CommitCtx with a background context.
func (s *Store) Commit(id string, data []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), id, data, expiry)
}

// Delete removes id's data; a missing id is no error. It is DeleteCtx with a
// background context.
func (s *Store) Delete(id string) error {
	return s.DeleteCtx(context.Background(), id)
}

// FindCtx is Find within ctx and the Store's timeout.
func (s *Store) FindCtx(ctx context.Context, id string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	data, err := s.client.Get(ctx, s.prefix+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.fail("find", err)
	}
	return data, true, nil
}

// CommitCtx is Commit within ctx and the Store's timeout. The entry expires
// at expiry by the Redis server's clock; an expiry already past removes it.
func (s *Store) CommitCtx(ctx context.Context, id string, data []byte, expiry time.Time) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	// PXAT must be positive; 1 ms after the epoch is as past as any time
	// before it, and Redis drops an entry set to expire in the past.
	at := max(expiry.UnixMilli(), 1)
	cmd := redis.NewStatusCmd(ctx, "set", s.prefix+id, data, "pxat", at)
	if err := s.client.Process(ctx, cmd); err != nil {
		return s.fail("commit", err)
	}
	return nil
}

// Lease keeps data for id until expiry unless id holds an entry, and reports
// whether it did: one SET ... NX PXAT, atomic for every client of the Redis
// server, so that of many replicas asking at once one gets true
// (cognito.LeaseStore). An expiry not in the future takes no lease.
func (s *Store) Lease(ctx context.Context, id string, data []byte, expiry time.Time) (bool, error) {
	at := expiry.UnixMilli()
	if at <= time.Now().UnixMilli() {
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := redis.NewStatusCmd(ctx, "set", s.prefix+id, data, "nx", "pxat", at)
	err := s.client.Process(ctx, cmd)
	if errors.Is(err, redis.Nil) {
		return false, nil // NX: the key exists
	}
	if err != nil {
		return false, s.fail("lease", err)
	}
	return true, nil
}

// DeleteCtx is Delete within ctx and the Store's timeout.
func (s *Store) DeleteCtx(ctx context.Context, id string) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	if err := s.client.Del(ctx, s.prefix+id).Err(); err != nil {
		return s.fail("delete", err)
	}
	return nil
}

// fail wraps err, which never holds a key (go-redis reports the server's
// reply or a network error), in ErrUnavailable.
func (s *Store) fail(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrUnavailable, op, err)
}
