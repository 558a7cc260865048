package cognito_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeQuickStartIsTheExample keeps the README's quick start identical to
// the code the compiler checks and quickstart_test.go runs: Example_quickStart
// as the README's main, then newApp.
func TestReadmeQuickStartIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "## Quick start")
	require.True(t, ok, "README has no Quick start section")
	_, block, ok := strings.Cut(after, "```go\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)

	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	require.NoError(t, err)
	offset := func(p token.Pos) int { return fset.Position(p).Offset }
	var main, app string
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok {
			continue
		}
		switch fn.Name.Name {
		case "Example_quickStart":
			main = "func main() " + string(src[offset(fn.Body.Lbrace):offset(fn.Body.End())]) + "\n"
		case "newApp":
			app = string(src[offset(fn.Doc.Pos()):offset(fn.End())]) + "\n"
		}
	}
	require.NotEmpty(t, main, "example_test.go has no Example_quickStart")
	require.NotEmpty(t, app, "example_test.go has no newApp with a doc comment")
	assert.Equal(t, main+"\n"+app, block)
}

// TestReadmeSessionsIsTheExample keeps the README's "Steps 1 to 7 with
// Sessions" block identical to Example_sessions from `store, revoked :=` on.
func TestReadmeSessionsIsTheExample(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, after, ok := strings.Cut(string(readme), "### Steps 1 to 7 with Sessions")
	require.True(t, ok, "README has no Steps 1 to 7 with Sessions section")
	_, block, ok := strings.Cut(after, "```go\n")
	require.True(t, ok)
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)

	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	_, body, ok := strings.Cut(string(src), "func Example_sessions() {\n")
	require.True(t, ok, "example_test.go has no Example_sessions")
	body, _, ok = strings.Cut(body, "\n}\n")
	require.True(t, ok)
	_, body, ok = strings.Cut(body, "\tstore, revoked :=")
	require.True(t, ok)
	var want []string
	for _, line := range strings.Split("\tstore, revoked :="+body, "\n") {
		want = append(want, strings.TrimPrefix(line, "\t"))
	}
	assert.Equal(t, strings.Join(want, "\n")+"\n", block)
}

// TestReadmeGoBlocksAreCompiled: every Go block of the README stands, line
// for line (indentation and blank lines aside), in a test file the compiler
// checks, so that no block a user copies can rot. The quick start, whose
// README form is a program, is checked by TestReadmeQuickStartIsTheExample.
func TestReadmeGoBlocksAreCompiled(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	var sources [][]string
	for _, f := range []string{
		"example_test.go", "cognitotest/readme_example_test.go", "alb/example_test.go", "redisstore/example_test.go",
	} {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		sources = append(sources, codeLines(string(src)))
	}
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(string(readme), -1)
	require.NotEmpty(t, blocks)
	for _, b := range blocks {
		block := codeLines(b[1])
		if block[0] == "func main() {" {
			continue
		}
		assert.True(t, slices.ContainsFunc(sources, func(src []string) bool { return containsRun(src, block) }),
			"this README block is in no compiled test file:\n%s", b[1])
	}
}

// codeLines is s's lines, trimmed, without the blank ones.
func codeLines(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// containsRun reports whether run stands in lines as consecutive lines.
func containsRun(lines, run []string) bool {
	for i := 0; i+len(run) <= len(lines); i++ {
		if slices.Equal(lines[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
