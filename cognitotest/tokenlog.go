package cognitotest

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"unicode/utf8"
)

// answerRecorder passes an answer through and keeps its status, and the
// start of its body when it is a refusal, for the log of WithLogger.
type answerRecorder struct {
	http.ResponseWriter
	status int
	body   []byte // of a refusal, up to maxLoggedBody
}

// maxLoggedBody bounds what is kept of a refusal's body: Cognito's error
// JSON is far shorter, and a Failure's Body may be anything.
const maxLoggedBody = 4 << 10

func (a *answerRecorder) WriteHeader(status int) {
	if a.status == 0 {
		a.status = status
	}
	a.ResponseWriter.WriteHeader(status)
}

func (a *answerRecorder) Write(p []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	if a.status >= 400 && len(a.body) < maxLoggedBody {
		a.body = append(a.body, p[:min(len(p), maxLoggedBody-len(a.body))]...)
	}
	return a.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach Flush, for Trickle.
func (a *answerRecorder) Unwrap() http.ResponseWriter { return a.ResponseWriter }

// maxLoggedField bounds the request's own strings in the log: they are the
// client's to choose.
const maxLoggedField = 128

// logTokenRequest logs one answered request to the token endpoint. The
// form is the one the handler parsed, if it got that far; only grant_type
// and client_id are read from it, never code, refresh_token or a secret.
// It runs before the handler returns, and net/http ends the answer only
// then: a client that has read the whole answer can count on the line.
func (s *Server) logTokenRequest(r *http.Request, a *answerRecorder) {
	clientID := r.PostForm.Get("client_id")
	if user, _, ok := r.BasicAuth(); ok {
		if id, err := url.QueryUnescape(user); err == nil {
			clientID = id
		}
	}
	attrs := []slog.Attr{
		slog.String("grant_type", cut(r.PostForm.Get("grant_type"), maxLoggedField)),
		slog.String("client_id", cut(clientID, maxLoggedField)),
		slog.Int("status", a.status),
	}
	if a.status == 0 {
		attrs = append(attrs, slog.String("error", "no answer: the request was held until the client or the server gave up"))
	}
	var refusal struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if a.status >= 400 && json.Unmarshal(a.body, &refusal) == nil && refusal.Error != "" {
		attrs = append(attrs, slog.String("error", cut(refusal.Error, maxLoggedField)))
		if refusal.Description != "" {
			attrs = append(attrs, slog.String("error_description", cut(refusal.Description, maxLoggedField)))
		}
	}
	s.logger.LogAttrs(r.Context(), slog.LevelInfo, "token request", attrs...)
}

// cut is s, cut to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
