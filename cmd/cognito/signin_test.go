package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// claimsOf is a token's Claims for the claims JSON.
func claimsOf(js string) func(any) error {
	return func(v any) error { return json.Unmarshal([]byte(js), v) }
}

func TestReadSignIn(t *testing.T) {
	at := time.Date(2026, 1, 2, 2, 52, 5, 0, time.UTC)
	many := make([]string, 20)
	for i := range many {
		many[i] = fmt.Sprintf("m%d", i)
	}
	manyJSON, _ := json.Marshal(many)
	for _, tt := range []struct {
		name   string
		claims string
		want   signIn
	}{
		{"both", `{"acr":"urn:cognito:loa:2","amr":["pwd","otp","mfa"]}`, signIn{At: at, ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"}}},
		{"neither", `{"sub":"x"}`, signIn{At: at}},
		{"acr not a string is left out", `{"acr":3,"amr":["pwd"]}`, signIn{At: at, AMR: []string{"pwd"}}},
		{"amr not an array is left out", `{"acr":"a","amr":"pwd"}`, signIn{At: at, ACR: "a"}},
		{"amr with a number is left out", `{"amr":["pwd",1]}`, signIn{At: at}},
		{"null claims", `{"acr":null,"amr":null}`, signIn{At: at}},
		{"empty methods are skipped", `{"amr":["","pwd","\u001b"]}`, signIn{At: at, AMR: []string{"pwd"}}},
		{"at most 16 methods", `{"amr":` + string(manyJSON) + `}`, signIn{At: at, AMR: many[:16]}},
		{"a long acr is cut", `{"acr":"` + strings.Repeat("a", 200) + `"}`, signIn{At: at, ACR: strings.Repeat("a", 128)}},
		{"a long method is cut", `{"amr":["` + strings.Repeat("b", 40) + `"]}`, signIn{At: at, AMR: []string{strings.Repeat("b", 32)}}},
		{"claims that do not decode", `not json`, signIn{At: at}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, readSignIn(claimsOf(tt.claims), at))
		})
	}
}

func TestSignInLine(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		name string
		si   signIn
		want string
	}{
		{"level and methods", signIn{At: now.Add(-12 * time.Minute), ACR: "urn:cognito:loa:2", AMR: []string{"pwd", "otp", "mfa"}},
			"signed in 12m ago (2026-01-02 02:52:05 UTC) at level urn:cognito:loa:2 with pwd, otp, mfa"},
		{"when only", signIn{At: now.Add(-3 * time.Hour)}, "signed in 3h ago (2026-01-02 00:04:05 UTC)"},
		{"level only", signIn{At: now, ACR: "urn:cognito:loa:1"}, "signed in 0s ago (2026-01-02 03:04:05 UTC) at level urn:cognito:loa:1"},
		{"methods only", signIn{At: now.Add(-time.Second), AMR: []string{"pwd"}}, "signed in 1s ago (2026-01-02 03:04:04 UTC) with pwd"},
		{"no auth_time", signIn{ACR: "urn:cognito:loa:2"}, "signed in (no auth_time) at level urn:cognito:loa:2"},
		{"nothing known", signIn{}, ""},
		{"auth_time in the future", signIn{At: now.Add(5 * time.Minute), AMR: []string{"pwd"}},
			"signed in at 2026-01-02 03:09:05 UTC with pwd, which is 5m from now: the clock of this machine or of the issuer is wrong"},
	} {
		assert.Equal(t, tt.want, tt.si.line("signed in", now), tt.name)
	}
	assert.Equal(t, "", signIn{}.ago(now))
	assert.Equal(t, "12m ago", signIn{At: now.Add(-12 * time.Minute)}.ago(now))
	assert.Equal(t, "in 5m", signIn{At: now.Add(5 * time.Minute)}.ago(now))
}
