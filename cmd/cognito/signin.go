package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// signIn is how and when the user of a verified token signed in, from its
// auth_time, acr and amr claims, for verify's summary.
type signIn struct {
	At  time.Time // auth_time; zero when the token has none
	ACR string    // the level reached, e.g. urn:cognito:loa:2
	AMR []string  // the methods completed, e.g. pwd, otp, mfa
}

// Bounds on what verify echoes of acr and amr.
const (
	maxACR       = 128
	maxAMR       = 16 // methods
	maxAMRMethod = 32
)

// readSignIn reads acr and amr through claims (the token's Claims), as raw
// JSON, so that a claim of another type is left out rather than failing a
// token the library accepted. Their strings are clipped: they reach the
// terminal.
func readSignIn(claims func(any) error, authTime time.Time) signIn {
	si := signIn{At: authTime}
	var raw struct {
		ACR json.RawMessage `json:"acr"`
		AMR json.RawMessage `json:"amr"`
	}
	if claims(&raw) != nil {
		return si
	}
	var acr string
	if json.Unmarshal(raw.ACR, &acr) == nil {
		si.ACR = clip(acr, maxACR)
	}
	var amr []string
	if json.Unmarshal(raw.AMR, &amr) == nil {
		for _, m := range amr[:min(len(amr), maxAMR)] {
			if m = clip(m, maxAMRMethod); m != "" {
				si.AMR = append(si.AMR, m)
			}
		}
	}
	return si
}

// ago says when the sign-in was, from now: "12m ago", or "in 5m" for an
// auth_time in the future. Empty when the token has no auth_time.
func (si signIn) ago(now time.Time) string {
	if si.At.IsZero() {
		return ""
	}
	return relative("auth_time", si.At, now)
}

// line says it for people: "signed in 12m ago (2026-01-02 02:52:05 UTC) at
// level urn:cognito:loa:2 with pwd, otp, mfa". who is "signed in", or for a
// client_credentials token "the client authenticated". Empty when the token
// says none of it.
func (si signIn) line(who string, now time.Time) string {
	var b strings.Builder
	switch {
	case si.At.IsZero():
		if si.ACR == "" && len(si.AMR) == 0 {
			return ""
		}
		b.WriteString(who + " (no auth_time)")
	case si.At.After(now):
		fmt.Fprintf(&b, "%s at %s", who, si.At.UTC().Format("2006-01-02 15:04:05 MST"))
	default:
		fmt.Fprintf(&b, "%s %s (%s)", who, si.ago(now), si.At.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	if si.ACR != "" {
		b.WriteString(" at level " + si.ACR)
	}
	if len(si.AMR) > 0 {
		b.WriteString(" with " + strings.Join(si.AMR, ", "))
	}
	if si.At.After(now) {
		fmt.Fprintf(&b, ", which is %s from now: the clock of this machine or of the issuer is wrong", human(si.At.Sub(now)))
	}
	return b.String()
}
