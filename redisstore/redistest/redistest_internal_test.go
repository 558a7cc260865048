package redistest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestOutputIsBounded: a process's output is kept up to 64 KiB, with the
// write that crosses that bound; what comes after is dropped, as a test
// reads the start.
func TestOutputIsBounded(t *testing.T) {
	var w lockedWriter
	for _, chunk := range []string{strings.Repeat("a", 64<<10), "b", "c"} {
		n, err := w.Write([]byte(chunk))
		assert.NoError(t, err)
		assert.Equal(t, len(chunk), n, "every write is reported whole")
	}
	assert.Equal(t, strings.Repeat("a", 64<<10)+"b", w.String())
}
