package cognito

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// sessionRecord is what the store holds for a session.
type sessionRecord struct {
	created  time.Time // sign-in: the absolute lifetime counts from here
	lastSeen time.Time // last recorded use: the idle timeout counts from here
	obtained time.Time // when the tokens were issued to us
	expiry   time.Time // when the ID or access token expires, whichever is first

	idToken, accessToken, refreshToken string

	// The level the sign-in reached and the methods it completed, kept
	// because refreshed ID tokens may lack them (cognitotest's do). auth_time
	// needs no keeping: refreshed tokens carry the sign-in's.
	acr string
	amr []string
}

// setSignIn records the level of the sign-in that id, verified, comes from.
func (r *sessionRecord) setSignIn(id *IDToken) {
	r.acr, r.amr = id.ACR, slices.Clone(id.AMR)
}

// withSignIn gives id, a verified ID token of this session that the caller
// owns, the sign-in's acr and amr when a refresh left them out.
func (r *sessionRecord) withSignIn(id *IDToken) *IDToken {
	if id.ACR == "" && len(id.AMR) == 0 {
		id.ACR, id.AMR = r.acr, slices.Clone(r.amr)
	}
	return id
}

// setTokens takes fresh tokens from the token endpoint. A refresh that does
// not rotate returns no refresh token: the old one stays.
func (r *sessionRecord) setTokens(t *Tokens, now time.Time) {
	r.idToken, r.accessToken = t.IDToken, t.AccessToken
	if t.RefreshToken != "" {
		r.refreshToken = t.RefreshToken
	}
	r.obtained, r.expiry = now, t.Expiry
	// The ID token's lifetime is configured apart from the access token's,
	// and expires_in speaks for the access token only. The token came from
	// the token endpoint and is verified before use; here its exp only
	// schedules the refresh.
	if c, ok := unverifiedClaims(t.IDToken); ok && !c.exp.IsZero() && c.exp.Before(r.expiry) {
		r.expiry = c.exp
	}
}

// The encoding: a version byte, the four times as varint Unix milliseconds,
// then each token as a uvarint length and its bytes. Version 2 adds the
// sign-in's acr (a uvarint length and its bytes) and amr (a uvarint count,
// then each as acr is); a record without them stays version 1, which
// replicas that predate version 2 read, so that a rolling upgrade signs out
// only the sessions of step-up sign-ins. Compact, and a record of an unknown
// version or any other shape is refused as a whole.
const (
	sessionRecordVersion = 2
	maxRecordToken       = 64 << 10
	maxRecordACR         = 1 << 10 // bytes of acr or of one amr method
	maxRecordAMR         = 64      // methods
)

var errBadRecord = errors.New("cognito: malformed session record")

func (r *sessionRecord) encode() []byte {
	level := r.acr != "" || len(r.amr) > 0
	size := 1 + 4*binary.MaxVarintLen64 + 3*binary.MaxVarintLen32 + len(r.idToken) + len(r.accessToken) + len(r.refreshToken)
	if level {
		size += (2+len(r.amr))*binary.MaxVarintLen32 + len(r.acr)
		for _, m := range r.amr {
			size += len(m)
		}
	}
	b := make([]byte, 0, size)
	if level {
		b = append(b, sessionRecordVersion)
	} else {
		b = append(b, 1)
	}
	for _, t := range []time.Time{r.created, r.lastSeen, r.obtained, r.expiry} {
		b = binary.AppendVarint(b, t.UnixMilli())
	}
	for _, s := range []string{r.idToken, r.accessToken, r.refreshToken} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if level {
		b = binary.AppendUvarint(b, uint64(len(r.acr)))
		b = append(b, r.acr...)
		b = binary.AppendUvarint(b, uint64(len(r.amr)))
		for _, m := range r.amr {
			b = binary.AppendUvarint(b, uint64(len(m)))
			b = append(b, m...)
		}
	}
	return b
}

// readString reads a uvarint length, at most limit, and that many bytes.
func readString(b []byte, limit uint64) (string, []byte, bool) {
	l, n := binary.Uvarint(b)
	if n <= 0 || l > limit || l > uint64(len(b)-n) {
		return "", nil, false
	}
	return string(b[n : n+int(l)]), b[n+int(l):], true
}

func decodeSession(b []byte) (*sessionRecord, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", errBadRecord)
	}
	version := b[0]
	if version != 1 && version != sessionRecordVersion {
		return nil, fmt.Errorf("%w: version %d, want 1 to %d", errBadRecord, version, sessionRecordVersion)
	}
	b = b[1:]
	var times [4]time.Time
	for i := range times {
		ms, n := binary.Varint(b)
		if n <= 0 {
			return nil, fmt.Errorf("%w: truncated time", errBadRecord)
		}
		times[i], b = time.UnixMilli(ms), b[n:]
	}
	var toks [3]string
	for i := range toks {
		var ok bool
		if toks[i], b, ok = readString(b, maxRecordToken); !ok {
			return nil, fmt.Errorf("%w: truncated token", errBadRecord)
		}
	}
	var acr string
	var amr []string
	if version >= 2 {
		var ok bool
		if acr, b, ok = readString(b, maxRecordACR); !ok {
			return nil, fmt.Errorf("%w: truncated acr", errBadRecord)
		}
		count, n := binary.Uvarint(b)
		if n <= 0 || count > maxRecordAMR {
			return nil, fmt.Errorf("%w: truncated amr", errBadRecord)
		}
		b = b[n:]
		for range count {
			var m string
			if m, b, ok = readString(b, maxRecordACR); !ok {
				return nil, fmt.Errorf("%w: truncated amr", errBadRecord)
			}
			amr = append(amr, m)
		}
	}
	if len(b) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", errBadRecord, len(b))
	}
	if toks[0] == "" || toks[1] == "" || toks[2] == "" {
		return nil, fmt.Errorf("%w: a token is missing", errBadRecord)
	}
	return &sessionRecord{
		created: times[0], lastSeen: times[1], obtained: times[2], expiry: times[3],
		idToken: toks[0], accessToken: toks[1], refreshToken: toks[2],
		acr: acr, amr: amr,
	}, nil
}
