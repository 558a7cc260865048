package cognitotest

import (
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// writeJSON answers v as JSON with Cognito's content type and no caching, as
// RFC 6749 section 5.1 asks of token answers.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cognitotest: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	w.WriteHeader(status)
	w.Write(body) //nolint:errcheck // the client may be gone
}

// writeError answers an OAuth 2.0 error (RFC 6749 section 5.2) as Cognito
// does: {"error": code, "error_description": desc}.
func writeError(w http.ResponseWriter, status int, code, desc string) {
	body := map[string]string{"error": code}
	if desc != "" {
		body["error_description"] = desc
	}
	writeJSON(w, status, body)
}

// allowMethods answers 405 unless r uses one of methods.
func allowMethods(w http.ResponseWriter, r *http.Request, methods ...string) bool {
	if slices.Contains(methods, r.Method) {
		return true
	}
	w.Header().Set("Allow", strings.Join(methods, ", "))
	writeError(w, http.StatusMethodNotAllowed, "invalid_request", "method "+r.Method+" is not allowed")
	return false
}

var errorPage = template.Must(template.New("error").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Error</title></head>
<body>
<h1>An error was encountered with the requested page.</h1>
<p id="error">{{.}}</p>
</body></html>
`))

// writeErrorPage answers a request that cannot be redirected back to the
// app, as Cognito's hosted UI shows an error page.
func writeErrorPage(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	errorPage.Execute(w, msg) //nolint:errcheck // the client may be gone
}

// redirect sends the browser to base with params added to its query.
func redirect(w http.ResponseWriter, r *http.Request, base string, params url.Values) {
	u, err := url.Parse(base)
	if err != nil { // allowed URIs were checked at Start
		writeErrorPage(w, http.StatusInternalServerError, "cognitotest: bad redirect URI")
		return
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusFound)
}
