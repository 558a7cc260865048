package cognito

import (
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RequireStepUp returns middleware for pages that need a stronger or more
// recent sign-in than Require does, such as a page that changes a password
// or moves money: it loads the session as Require does (a signed-out user is
// sent to sign in, or answered 401), then checks the session's sign-in
// against step, by its ID token's acr and auth_time on the Sessions' clock
// with the flow Verifier's leeway. acr and amr are those of the sign-in,
// kept by the session when a refreshed ID token lacks them.
//
// A session that falls short, on a page navigation, is sent through the
// hosted UI once more with step's acr_values and max_age (WithACRValues,
// WithMaxAge, and login_hint with the user's name), and the callback brings
// it back to the same page (for a GET; "/" otherwise) with a new session of
// that sign-in: new tokens and a new session ID, the old session ended as a
// sign-in always ends it. Other pages keep working throughout. If the
// step-up sign-in comes back as another user, that is what a sign-in does:
// the new session is theirs, the old one has ended, and nothing of the two
// is mixed. If it comes back still short of step (the user has no MFA, or
// the pool ignores acr_values), the callback answers with the step-up
// failure page (403; WithStepUpFailedHandler) instead of sending the user
// round again: one round trip, never a loop.
//
// A request that is not a navigation (a script's fetch, an API call) gets
// 401 with RFC 9470's challenge, as RequireStepUp's bearer guard answers:
// WWW-Authenticate: Bearer error="insufficient_user_authentication", ... For
// a step that does not validate (StepUp.Validate) it answers 500 to every
// request, and logs why once, here.
func (s *Sessions) RequireStepUp(step StepUp) func(http.Handler) http.Handler {
	step = step.clone()
	if err := step.Validate(); err != nil {
		s.log.Error("cognito: RequireStepUp refuses every request", "err", err)
		return func(http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				plainError(w, http.StatusInternalServerError)
			})
		}
	}
	gate := func(w http.ResponseWriter, r *http.Request, sess *Session) bool {
		desc := step.shortfall(sess.IDToken.ACR, sess.IDToken.AuthTime, s.now(), s.flow.Verifier.leeway)
		if desc == "" {
			return true
		}
		if !isNavigation(r) {
			refuseStepUp(w, step.challenge("", desc))
			return false
		}
		returnTo := "/"
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			returnTo = safeReturnTo(r.URL.RequestURI())
		}
		opts := step.authOptions()
		if sess.IDToken.Username != "" {
			opts = append(opts, WithAuthParam("login_hint", sess.IDToken.Username))
		}
		s.log.InfoContext(r.Context(), "cognito: sending a session through a step-up sign-in", "sub", sess.IDToken.Subject, "reason", desc)
		s.startLogin(w, r, returnTo, &step, opts...)
		return false
	}
	return func(next http.Handler) http.Handler { return s.serve(next, s.signedOut, gate) }
}

// stepUpFellShort answers the callback of a step-up sign-in that did not
// reach step with the failure page, and reports whether it did. The new
// session stands: it is a sign-in like any other, only not strong enough for
// the page that asked for it.
func (s *Sessions) stepUpFellShort(w http.ResponseWriter, r *http.Request, step StepUp, id *IDToken, rec *sessionRecord, returnTo string) bool {
	desc := step.shortfall(id.ACR, id.AuthTime, s.now(), s.flow.Verifier.leeway)
	if desc == "" {
		return false
	}
	s.log.WarnContext(r.Context(), "cognito: a step-up sign-in came back short of the level asked", "sub", id.Subject, "reason", desc,
		"acr", clean(id.ACR, 64), "amr", clean(strings.Join(id.AMR, " "), 128))
	sess := &Session{IDToken: id, AccessToken: rec.accessToken, Expiry: rec.expiry}
	r = r.WithContext(context.WithValue(r.Context(), sessionContextKey{}, sess))
	r = r.WithContext(context.WithValue(r.Context(), stepUpFailureKey{}, &StepUpFailure{Step: step.clone(), Reason: desc, ReturnTo: returnTo}))
	if s.stepUpFailed != nil {
		s.stepUpFailed.ServeHTTP(w, r)
		return true
	}
	stepUpFailedPage(w, r)
	return true
}

// StepUpFailure says why a step-up sign-in did not reach its StepUp: what it
// asked for, the reason (as RFC 9470's error_description says it), and the
// page that asked for it, where the user may try again. The handler of
// WithStepUpFailedHandler finds it with StepUpFailureFromContext.
type StepUpFailure struct {
	Step     StepUp
	Reason   string // "A stronger sign-in is required", ...
	ReturnTo string // the page's path, "/" when unknown
}

type stepUpFailureKey struct{}

// StepUpFailureFromContext returns the StepUpFailure that the step-up
// failure handler (WithStepUpFailedHandler) is called for, and whether there
// is one.
func StepUpFailureFromContext(ctx context.Context) (*StepUpFailure, bool) {
	f, ok := ctx.Value(stepUpFailureKey{}).(*StepUpFailure)
	return f, ok && f != nil
}

// stepUpFailedPage is the default step-up failure page: 403, saying what is
// missing, with a link to try again.
func stepUpFailedPage(w http.ResponseWriter, r *http.Request) {
	f, _ := StepUpFailureFromContext(r.Context())
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusForbidden)
	fmt.Fprintf(w, "<!doctype html><title>Forbidden</title><h1>This page needs a stronger sign-in</h1>"+
		"<p>%s. The sign-in you just completed did not reach the level this page asks for; "+
		"set up multi-factor authentication for your account, or ask for help.</p>"+
		"<p><a href=\"%s\">Try again</a> · <a href=\"/\">Home</a></p>\n",
		html.EscapeString(f.Reason), html.EscapeString(f.ReturnTo))
}

// stepUpCookie carries the StepUp of a step-up login, named after its state
// as the login and return cookies are.
func (s *Sessions) stepUpCookie(state, value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName + "-stepup-" + state[:stateKeyLen],
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		Secure:   s.secure,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

// takeStepUp reads and deletes the StepUp of the callback's login, if it was
// a step-up. A cookie that does not decode to a valid StepUp is no step-up:
// the page's own gate judges the session again on the way back.
func (s *Sessions) takeStepUp(w http.ResponseWriter, r *http.Request) (StepUp, bool) {
	state := r.URL.Query().Get("state")
	if !isSecret(state) {
		return StepUp{}, false
	}
	c, err := r.Cookie(s.stepUpCookie(state, "", 0).Name)
	if err != nil {
		return StepUp{}, false
	}
	http.SetCookie(w, s.stepUpCookie(state, "", -1))
	return decodeStepUp(c.Value)
}

// encode writes s for a cookie: base64url of MaxAge's seconds and the levels,
// separated by spaces (levels have none).
func (s StepUp) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strings.Join(append([]string{strconv.FormatInt(int64(s.MaxAge/time.Second), 10)}, s.ACR...), " ")))
}

func decodeStepUp(v string) (StepUp, bool) {
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return StepUp{}, false
	}
	fields := strings.Split(string(b), " ")
	secs, err := strconv.ParseInt(fields[0], 10, 32)
	if err != nil || secs < 0 {
		return StepUp{}, false
	}
	step := StepUp{MaxAge: time.Duration(secs) * time.Second}
	if len(fields) > 1 {
		step.ACR = fields[1:]
	}
	return step, step.Validate() == nil
}
