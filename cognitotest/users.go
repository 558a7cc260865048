package cognitotest

import (
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
)

// User is a user of the fake pool.
type User struct {
	Username      string
	Password      string // for the sign-in form; a user without one signs in only through SignInAs
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string          // cognito:groups
	Attributes    map[string]string // other attributes as Cognito names them: "custom:tenant": "acme", "phone_number": "+15555550100"
	Sub           string            // generated, UUID-shaped, when empty
	// ACR is the level this user's sign-ins reach when the authorize
	// request asks for one (acr_values or max_age): the tokens' acr claim.
	// Default DefaultACR; "urn:cognito:loa:2", say, for a user with MFA.
	ACR string
	// AMR are the methods this user's sign-ins complete: the tokens' amr
	// claim, beside acr. Default DefaultAMR.
	AMR []string
}

// DefaultACR is the level of a user's sign-ins unless User.ACR says
// otherwise: Cognito's lowest.
const DefaultACR = "urn:cognito:loa:1"

// DefaultAMR returns the methods of a user's sign-in unless User.AMR says
// otherwise: a password alone.
func DefaultAMR() []string { return []string{"pwd"} }

// AddUser adds u to the pool, or replaces the user with the same Username,
// and returns it as stored. An empty Sub keeps the replaced user's, or gets a
// fresh UUID; an empty ACR or AMR gets DefaultACR or DefaultAMR. A user
// without a Username is ignored.
func (s *Server) AddUser(u User) User {
	if u.Username == "" {
		return User{}
	}
	u = u.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.Sub == "" {
		u.Sub = s.users[u.Username].Sub
	}
	if u.Sub == "" {
		u.Sub = newUUID()
	}
	if u.ACR == "" {
		u.ACR = DefaultACR
	}
	if len(u.AMR) == 0 {
		u.AMR = DefaultAMR()
	}
	s.users[u.Username] = u
	return u.clone()
}

// SignInAs makes every following /oauth2/authorize (and GET /login) sign in
// the user username at once and redirect with a code, as if they had filled
// in the form. An empty username brings the form back.
func (s *Server) SignInAs(username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signInAs = username
}

func (s *Server) user(username string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[username]
	return u.clone(), ok
}

// userOrStandIn is the user username, or one with only that name and a sub
// derived from it, for tokens minted for users never added.
func (s *Server) userOrStandIn(username string) User {
	if u, ok := s.user(username); ok {
		return u
	}
	h := sha256.Sum256([]byte(s.poolID + "\x00" + username))
	return User{Username: username, Sub: uuidFrom(h[:16])}
}

func (u User) clone() User {
	u.Groups, u.AMR = slices.Clone(u.Groups), slices.Clone(u.AMR)
	u.Attributes = maps.Clone(u.Attributes)
	return u
}

// uuidFrom formats 16 bytes as a version 4 UUID.
func uuidFrom(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
