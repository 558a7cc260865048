package cognito

import (
	"errors"
	"fmt"
	"strings"
)

// A Verifier accepts the tokens of a list of app clients of its pool:
// Config.ClientID when set, then those of WithClientIDs, in that order. The
// list is short (an API has a few clients), so it is searched linearly.

// verifierClientIDs validates cfg for NewVerifier and returns the clients
// it accepts. Config.Validate asks for ClientID, as every other use needs
// it; a Verifier given WithClientIDs does not, so its Config is validated with
// the first of them standing in for an empty ClientID.
func verifierClientIDs(cfg Config, extra []string) ([]string, error) {
	var ids []string
	if cfg.ClientID != "" {
		ids = append(ids, cfg.ClientID)
	}
	var errs []error
	for i, id := range extra {
		switch {
		case id == "" || strings.ContainsAny(id, " \t\r\n"):
			errs = append(errs, fmt.Errorf("%w: WithClientIDs: ID #%d is empty or has a space", ErrInvalidConfig, i+1))
		case !contains(ids, id):
			ids = append(ids, id)
		}
	}
	if cfg.ClientID == "" && len(ids) > 0 {
		cfg.ClientID = ids[0]
	}
	if err := errors.Join(append([]error{cfg.Validate()}, errs...)...); err != nil {
		return nil, err
	}
	return ids, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// idTokenClient returns the accepted client an ID token is for: one its aud
// names, under the azp rule when aud names several audiences.
func (v *Verifier) idTokenClient(c *claims) (string, bool) {
	for _, id := range v.clientIDs {
		if c.audience(id) {
			return id, true
		}
	}
	return "", false
}

// accessTokenClient returns the accepted client an access token's client_id
// names.
func (v *Verifier) accessTokenClient(c *claims) (string, bool) {
	for _, id := range v.clientIDs {
		if c.clientID.equals(id) {
			return id, true
		}
	}
	return "", false
}

// clientsWanted says which clients were expected, for an error message. App
// client IDs are not secrets (they are in every login URL).
func (v *Verifier) clientsWanted() string {
	if len(v.clientIDs) == 1 {
		return "the client ID"
	}
	return fmt.Sprintf("one of the %d accepted client IDs", len(v.clientIDs))
}
