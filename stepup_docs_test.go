package cognito_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStepUpGuideBlocksAreExamples keeps each Go block of docs/stepup.md
// identical to the body of the Example it mirrors, so that no block a user
// copies can rot.
func TestStepUpGuideBlocksAreExamples(t *testing.T) {
	guide, err := os.ReadFile("docs/stepup.md")
	require.NoError(t, err)
	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(guide), -1)
	examples := []string{"Example_stepUpPages", "Example_stepUpAPI"}
	require.Len(t, blocks, len(examples))
	for i, name := range examples {
		_, body, ok := strings.Cut(string(src), "func "+name+"() {\n")
		require.True(t, ok, "example_test.go has no %s", name)
		body, _, ok = strings.Cut(body, "\n}\n")
		require.True(t, ok)
		var want []string
		for _, line := range strings.Split(body, "\n") {
			want = append(want, strings.TrimPrefix(line, "\t"))
		}
		assert.Equal(t, strings.Join(want, "\n")+"\n", blocks[i][1], name)
	}
}
