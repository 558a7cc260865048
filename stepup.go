package cognito

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// StepUp is what a route needs of how, and how recently, the user signed in:
// a sign-in that reached one of the levels ACR (the token's acr claim), no
// longer ago than MaxAge (its auth_time). RequireStepUp checks it for bearer
// APIs, Sessions.RequireStepUp for pages, which also send the user back
// through the hosted UI to reach it.
type StepUp struct {
	ACR    []string      // accepted levels, such as "urn:cognito:loa:2"; empty: any
	MaxAge time.Duration // the sign-in (auth_time) at most this old; 0: any
}

// Bounds of acr_values: Cognito's levels are at most four, their names at
// most 64 bytes. A step-up login keeps its StepUp in a cookie, which these
// keep well under browsers' 4 KiB.
const (
	maxACRValue  = 128
	maxACRValues = 8
)

// Validate reports, wrapping ErrInvalidConfig, whether s cannot be checked or
// sent to the hosted UI: a StepUp that asks for nothing (no ACR and no
// MaxAge), a negative MaxAge, a MaxAge under one second (max_age is whole
// seconds), more than 8 ACR values, or one that is empty, longer than 128
// bytes, not UTF-8, or has a space or a control character. RequireStepUp and
// Sessions.RequireStepUp answer 500 to every request for a StepUp that does
// not validate, as a rule that cannot be checked must not open its route:
// call Validate at start-up to fail early.
func (s StepUp) Validate() error {
	switch {
	case len(s.ACR) == 0 && s.MaxAge == 0:
		return fmt.Errorf("%w: the StepUp asks for nothing: give it ACR levels, a MaxAge, or both", ErrInvalidConfig)
	case s.MaxAge < 0:
		return fmt.Errorf("%w: StepUp.MaxAge %s is negative", ErrInvalidConfig, s.MaxAge)
	case s.MaxAge > 0 && s.MaxAge < time.Second:
		return fmt.Errorf("%w: StepUp.MaxAge %s is under a second, and max_age counts whole seconds", ErrInvalidConfig, s.MaxAge)
	case len(s.ACR) > 0:
		if err := checkACRValues(s.ACR); err != nil {
			return fmt.Errorf("%w: StepUp.ACR: %w", ErrInvalidConfig, err)
		}
	}
	return nil
}

// checkACRValues checks a list of authentication levels for acr_values,
// which separates them with spaces.
func checkACRValues(values []string) error {
	if len(values) == 0 {
		return errors.New("no level given")
	}
	if len(values) > maxACRValues {
		return fmt.Errorf("%d levels, more than %d", len(values), maxACRValues)
	}
	for i, v := range values {
		switch {
		case v == "":
			return fmt.Errorf("level #%d is empty", i+1)
		case len(v) > maxACRValue:
			return fmt.Errorf("level #%d is longer than %d bytes", i+1, maxACRValue)
		case !utf8.ValidString(v):
			return fmt.Errorf("level #%d is not UTF-8", i+1)
		case strings.ContainsFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			return fmt.Errorf("level #%d (%q) has a space or a control character", i+1, clean(v, 64))
		}
	}
	return nil
}

// clone copies s, so that a caller changing its ACR slice later changes no
// middleware.
func (s StepUp) clone() StepUp {
	s.ACR = slices.Clone(s.ACR)
	return s
}

// shortfall says how a sign-in that reached acr at authTime falls short of s
// at now, allowing leeway for clock skew on MaxAge: "" when it does not. A
// sign-in of unknown time (no auth_time) fails any MaxAge.
func (s StepUp) shortfall(acr string, authTime, now time.Time, leeway time.Duration) string {
	weak := len(s.ACR) > 0 && !slices.Contains(s.ACR, acr)
	old := s.MaxAge > 0 && (authTime.IsZero() || now.Sub(authTime) > s.MaxAge+leeway)
	switch {
	case weak && old:
		return "A stronger and more recent sign-in is required"
	case weak:
		return "A stronger sign-in is required"
	case old:
		return "A more recent sign-in is required"
	}
	return ""
}

// authOptions are the login options that ask the hosted UI for s.
func (s StepUp) authOptions() []AuthOption {
	var opts []AuthOption
	if len(s.ACR) > 0 {
		opts = append(opts, WithACRValues(s.ACR...))
	}
	if s.MaxAge > 0 {
		opts = append(opts, WithMaxAge(s.MaxAge))
	}
	return opts
}

// challenge is the WWW-Authenticate value of RFC 9470 section 3 for a
// request whose sign-in falls short of s as desc says: every requirement of
// s goes in it, so that a client that steps up once meets them all. max_age
// is quoted, as RFC 9470's own examples spell it.
func (s StepUp) challenge(realm, desc string) string {
	var b strings.Builder
	b.WriteString("Bearer ")
	if realm != "" {
		b.WriteString("realm=" + quote(realm) + ", ")
	}
	b.WriteString(`error="insufficient_user_authentication", error_description=` + quote(desc))
	if len(s.ACR) > 0 {
		b.WriteString(", acr_values=" + quote(strings.Join(s.ACR, " ")))
	}
	if s.MaxAge > 0 {
		b.WriteString(`, max_age="` + strconv.FormatInt(int64(s.MaxAge/time.Second), 10) + `"`)
	}
	return b.String()
}

// refuseStepUp answers 401 with the step-up challenge.
func refuseStepUp(w http.ResponseWriter, challenge string) {
	h := w.Header()
	h.Set("WWW-Authenticate", challenge)
	h.Set("Cache-Control", "no-store")
	http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
}

// RequireStepUp returns middleware, to put after RequireAccessToken, that
// lets a request through only when its access token's sign-in meets step: its
// acr among step.ACR, and its auth_time no older than step.MaxAge (a token
// without auth_time fails a MaxAge), judged by the clock and leeway of the
// Verifier that verified the token (time.Now and none for a verifier of the
// caller's). A token that falls short gets 401 with RFC 9470's challenge
// (OAuth 2.0 Step Up Authentication Challenge, section 3), for instance
//
//	WWW-Authenticate: Bearer error="insufficient_user_authentication",
//	  error_description="A stronger sign-in is required",
//	  acr_values="urn:cognito:loa:2", max_age="300"
//
// with acr_values and max_age for what step has (and realm=, as
// RequireAccessToken's WithRealm set it). The client signs the user in again
// with them (WithACRValues, WithMaxAge) and retries with the new token.
// Without a verified token (RequireAccessToken is not in front of it) it
// answers 401; for a step that does not validate (StepUp.Validate), 500.
func RequireStepUp(step StepUp) func(http.Handler) http.Handler {
	step = step.clone()
	invalid := step.Validate()
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			a, ok := r.Context().Value(accessTokenKey{}).(*authContext)
			switch {
			case invalid != nil:
				refuse(w, http.StatusInternalServerError, "", "", "")
			case !ok || a.token == nil:
				refuse(w, http.StatusUnauthorized, "", "", "")
			default:
				now, leeway := time.Now, time.Duration(0)
				if c := a.token.clock; c != nil {
					now, leeway = c.now, c.leeway
				}
				if desc := step.shortfall(a.token.ACR, a.token.AuthTime, now(), leeway); desc != "" {
					refuseStepUp(w, step.challenge(a.realm, desc))
					return
				}
				next.ServeHTTP(w, r)
			}
		})
	}
}
