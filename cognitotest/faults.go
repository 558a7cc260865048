package cognitotest

import (
	"cmp"
	"io"
	"net/http"
	"sync"
	"time"
)

// Endpoint names one of the pool's endpoints, for FailNext and Requests.
type Endpoint string

// The pool's endpoints.
const (
	EndpointAuthorize Endpoint = "authorize"            // /oauth2/authorize
	EndpointLogin     Endpoint = "login"                // /login, GET and the form's POST
	EndpointLogout    Endpoint = "logout"               // /logout
	EndpointToken     Endpoint = "token"                // /oauth2/token
	EndpointRevoke    Endpoint = "revoke"               // /oauth2/revoke
	EndpointUserInfo  Endpoint = "userInfo"             // /oauth2/userInfo
	EndpointJWKS      Endpoint = "jwks"                 // /<pool>/.well-known/jwks.json
	EndpointDiscovery Endpoint = "openid-configuration" // /<pool>/.well-known/openid-configuration
)

// Failure is what FailNext makes an endpoint do instead of its work.
//
// Delay holds the answer back (the request's context and Close cut it short);
// a Failure with only a Delay then answers normally, late. Hang holds the
// request until the client gives up or the server closes, and answers
// nothing. Otherwise the endpoint answers Status (200 when only Body is set)
// with Body, as ContentType (default: application/json for the JSON
// endpoints, text/html for the pages).
//
// Trickle makes a slow-loris answer: the status and headers go at once, then
// Body one byte at a time, each flushed, the first at once and the next ones
// Trickle apart, so that only a deadline on the whole exchange ends it early.
// The request's context and Close cut it short.
type Failure struct {
	Status      int
	Body        string
	ContentType string
	Delay       time.Duration
	Hang        bool
	Trickle     time.Duration
}

// FailNext makes the next n requests to ep meet f instead of the endpoint's
// normal answer. Calls add up: FailNext(ep, 1, a) then FailNext(ep, 2, b)
// fails the next request with a and the two after with b.
func (s *Server) FailNext(ep Endpoint, n int, f Failure) {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	if s.faults.pending == nil {
		s.faults.pending = map[Endpoint][]Failure{}
	}
	for range max(n, 0) {
		s.faults.pending[ep] = append(s.faults.pending[ep], f)
	}
}

// Requests says how many requests ep received since the server started or
// ResetCounts was called, including those that a Failure answered.
func (s *Server) Requests(ep Endpoint) int {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	return s.faults.counts[ep]
}

// ResetCounts sets every endpoint's request count back to zero. Pending
// failures stay pending.
func (s *Server) ResetCounts() {
	s.faults.mu.Lock()
	defer s.faults.mu.Unlock()
	clear(s.faults.counts)
}

type faults struct {
	mu      sync.Mutex
	pending map[Endpoint][]Failure
	counts  map[Endpoint]int
	onHold  func(Endpoint) // tests learn that a request is being held
}

// held tells the test hook, if any, that a request to ep is being held.
func (f *faults) held(ep Endpoint) {
	f.mu.Lock()
	hook := f.onHold
	f.mu.Unlock()
	if hook != nil {
		hook(ep)
	}
}

// next counts a request to ep and takes the failure it should meet, if any.
func (f *faults) next(ep Endpoint) (Failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[Endpoint]int{}
	}
	f.counts[ep]++
	q := f.pending[ep]
	if len(q) == 0 {
		return Failure{}, false
	}
	f.pending[ep] = q[1:]
	return q[0], true
}

// inject acts out f and reports whether the endpoint should still answer.
func (s *Server) inject(w http.ResponseWriter, r *http.Request, ep Endpoint, f Failure) bool {
	if f.Hang {
		s.faults.held(ep)
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return false
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		s.faults.held(ep)
		select {
		case <-t.C:
		case <-r.Context().Done():
			return false
		case <-s.closed:
			return false
		}
	}
	if f.Status == 0 && f.Body == "" {
		return true
	}
	w.Header().Set("Content-Type", cmp.Or(f.ContentType, ep.contentType()))
	w.WriteHeader(cmp.Or(f.Status, http.StatusOK))
	if f.Trickle > 0 {
		s.trickle(w, r, ep, f)
		return false
	}
	io.WriteString(w, f.Body) //nolint:errcheck // the client may be gone
	return false
}

// trickle writes f.Body one byte per f.Trickle, flushing each.
func (s *Server) trickle(w http.ResponseWriter, r *http.Request, ep Endpoint, f Failure) {
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	if f.Body == "" {
		s.faults.held(ep)
	}
	tick := time.NewTicker(f.Trickle)
	defer tick.Stop()
	for i := 0; i < len(f.Body); i++ {
		if i == 1 {
			s.faults.held(ep) // the first byte is out: from here on the answer is held
		}
		if i > 0 {
			select {
			case <-tick.C:
			case <-r.Context().Done():
				return
			case <-s.closed:
				return
			}
		}
		if _, err := io.WriteString(w, f.Body[i:i+1]); err != nil || rc.Flush() != nil {
			return
		}
	}
	if len(f.Body) == 1 {
		s.faults.held(ep)
	}
}

func (ep Endpoint) contentType() string {
	switch ep {
	case EndpointAuthorize, EndpointLogin, EndpointLogout:
		return "text/html; charset=utf-8"
	}
	return "application/json"
}
