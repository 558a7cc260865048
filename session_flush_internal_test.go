package cognito

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestPendingCommitsStartTheFlusherOnlyForWork: a refresh that reserves a
// slot while nothing is held starts no flusher; the first successor held
// starts one, and while it runs, the next starts none.
func TestPendingCommitsStartTheFlusherOnlyForWork(t *testing.T) {
	now := time.Unix(1772366400, 0)
	started := 0
	p := &pendingCommits{startFlusher: func() { started++ }}
	assert.True(t, p.reserve(now))
	p.release()
	assert.Zero(t, started, "nothing held, nothing to revoke")

	assert.True(t, p.reserve(now))
	p.put("a", "spent-a", &sessionRecord{refreshToken: "next-a"}, now.Add(time.Hour))
	assert.Equal(t, 1, started, "a successor held")
	assert.True(t, p.reserve(now))
	p.put("b", "spent-b", &sessionRecord{refreshToken: "next-b"}, now.Add(time.Hour))
	assert.Equal(t, 1, started, "the flusher runs already")

	p.stopFlushing()
	p.abandon("a")
	assert.Equal(t, 2, started, "a refresh token to revoke, and b held")
	p.stopFlushing()
	p.drop("b")
	assert.True(t, p.reserve(now))
	assert.Equal(t, 3, started, "a refresh token to revoke, nothing held")
	orphans, key, ok := p.next(now)
	assert.Equal(t, []string{"next-a"}, orphans)
	assert.Empty(t, key)
	assert.True(t, ok)
	p.release()
}

// TestPendingCommitsOrphansBounded: the refresh tokens queued for the
// flusher to revoke are bounded as the held successors are; past the
// bound, a token is left to expire. Nor is the refresh token a successor
// replaced queued, when the refresh did not rotate it.
func TestPendingCommitsOrphansBounded(t *testing.T) {
	p := &pendingCommits{startFlusher: func() {}}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.orphan(pendingCommit{spent: "same", rec: &sessionRecord{refreshToken: "same"}})
	assert.Empty(t, p.orphans, "not rotated: the session's own refresh token")
	for i := range maxPending + 1 {
		p.orphan(pendingCommit{spent: "spent", rec: &sessionRecord{refreshToken: "next-" + strconv.Itoa(i)}})
	}
	assert.Len(t, p.orphans, maxPending)
	assert.Equal(t, "next-"+strconv.Itoa(maxPending-1), p.orphans[maxPending-1])
}
