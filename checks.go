package cognito

import (
	"context"
	"fmt"
)

// VerifiedToken is what a rule added with WithCheck is given: the *IDToken or
// the *AccessToken that passed every built-in check. Switch on its type to
// read the fields, or decode any claim with Claims. Only this package's token
// types implement it.
type VerifiedToken interface {
	// Claims decodes every claim of the token into v, as encoding/json does.
	Claims(v any) error
	verifiedToken()
}

func (*IDToken) verifiedToken()     {}
func (*AccessToken) verifiedToken() {}

// errNilVerifier is what a nil *Verifier, *MultiPoolVerifier or
// *TenantVerifier answers, including one hidden in a non-nil
// AccessTokenVerifier interface.
var errNilVerifier = fmt.Errorf("%w: the verifier is nil", ErrInvalidConfig)

// runChecks applies the rules of WithCheck to a verified token.
func (v *Verifier) runChecks(ctx context.Context, t VerifiedToken) error {
	for _, check := range v.checks {
		if err := check(ctx, t); err != nil {
			return &checkError{err: err}
		}
	}
	return nil
}

// checkError is a refusal by a rule of WithCheck: it matches ErrCheckFailed
// and whatever the rule's error matches.
type checkError struct{ err error }

func (e *checkError) Error() string { return ErrCheckFailed.Error() + ": " + e.err.Error() }

func (e *checkError) Unwrap() []error { return []error{ErrCheckFailed, e.err} }
