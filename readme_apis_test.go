package cognito_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadmeAPIsSnippetsAreExamples keeps each Go block of the README's "APIs
// and services" section identical to the part after "// README:" of the
// Example_apis* function of the same rank, which the compiler checks.
func TestReadmeAPIsSnippetsAreExamples(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	require.NoError(t, err)
	_, section, ok := strings.Cut(string(readme), "\n## APIs and services\n")
	require.True(t, ok, "README has no APIs and services section")
	section, _, _ = strings.Cut(section, "\n## ")
	blocks := regexp.MustCompile("(?s)```go\n(.*?)```").FindAllStringSubmatch(section, -1)

	src, err := os.ReadFile("example_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "example_test.go", src, parser.ParseComments)
	require.NoError(t, err)
	var bodies []string
	for _, d := range file.Decls {
		fn, ok := d.(*ast.FuncDecl)
		if !ok || !strings.HasPrefix(fn.Name.Name, "Example_apis") {
			continue
		}
		body := string(src[fset.Position(fn.Body.Lbrace).Offset+2 : fset.Position(fn.Body.Rbrace).Offset])
		_, body, ok = strings.Cut(body, "\t// README:\n")
		require.True(t, ok, "%s has no // README: line", fn.Name.Name)
		var lines []string
		for _, line := range strings.Split(body, "\n") {
			lines = append(lines, strings.TrimPrefix(line, "\t"))
		}
		bodies = append(bodies, strings.Join(lines, "\n"))
	}
	require.Len(t, bodies, len(blocks), "one Example_apis* per Go block")
	for i, b := range blocks {
		// An example may end with lines that only keep the compiler quiet.
		assert.True(t, strings.HasPrefix(bodies[i], b[1]), "block %d:\n%s\nexample:\n%s", i+1, b[1], bodies[i])
	}
}
