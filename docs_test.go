package cognito_test

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The documentation is the README (a front page), the guides under docs/ and
// the READMEs beside the programs. Users copy its Go blocks as they are, so
// each must stand, line for line, in a file the compiler checks: an
// example_test.go, or a test file named after one ("readme_example_test.go").
// Its relative links must lead to a file, and its #fragments to a heading.

// readmeMaxLines keeps the README a front page: depth goes to the guides.
const readmeMaxLines = 400

// inClone skips t outside a clone of the repository, such as in the module
// cache, whose copy of this module lacks the other modules' folders (their
// READMEs and example files).
func inClone(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join("redisstore", "go.mod")); err != nil {
		t.Skip("not in a clone of the repository: the other modules' files are absent")
	}
}

// TestReadmeQuickStartIsSessions: the README's first Go block is its quick
// start, and it is Example_sessionsQuickStart's body as a main function.
func TestReadmeQuickStartIsSessions(t *testing.T) {
	inClone(t)
	readme := readDoc(t, "README.md")
	blocks := goBlocks(readme)
	require.NotEmpty(t, blocks, "README.md has no Go block")
	before, _, ok := strings.Cut(readme, "```go\n")
	require.True(t, ok)
	heading := lastHeading(before)
	assert.Equal(t, "## Quick start", heading, "the README's first Go block is not under its Quick start")

	body := exampleBody(t, "example_test.go", "Example_sessionsQuickStart")
	assert.Equal(t, "func main() "+body+"\n", blocks[0].text)
	assert.Contains(t, blocks[0].text, "cognito.NewSessions(")
}

// TestReadmeIsAFrontPage: the README stays short enough to read as one page.
func TestReadmeIsAFrontPage(t *testing.T) {
	inClone(t)
	lines := strings.Count(readDoc(t, "README.md"), "\n")
	assert.LessOrEqual(t, lines, readmeMaxLines, "README.md has %d lines: move the depth to a guide under docs/", lines)
}

// TestDocsGoBlocksAreCompiled: every Go block of every Markdown file stands
// in a compiled example file, with the same lines in the same order, blank
// lines where the block has them, indented alike (by whole tabs, as a block
// taken out of a function's body is). A block that starts with "func main()
// {" stands for the body of an Example function.
func TestDocsGoBlocksAreCompiled(t *testing.T) {
	inClone(t)
	mirrors := mirrorFiles(t)
	require.NotEmpty(t, mirrors)
	docs := docFiles(t)
	require.Contains(t, docs, "README.md")
	var checked int
	for _, doc := range docs {
		for _, b := range goBlocks(readDoc(t, doc)) {
			checked++
			found := slices.ContainsFunc(mirrors, func(m mirror) bool { return containsBlock(m.lines, b.lines) })
			assert.True(t, found, "%s:%d: this Go block stands in no compiled example file (%s):\n%s",
				doc, b.line, strings.Join(mirrorNames(mirrors), ", "), b.text)
		}
	}
	assert.Greater(t, checked, 10, "too few Go blocks found: is the block pattern broken?")
}

// TestDocsLinksResolve: every relative link of every Markdown file leads to
// a file or folder of the repository, and every #fragment to a heading (or
// an <a id>) of the Markdown file it names.
func TestDocsLinksResolve(t *testing.T) {
	inClone(t)
	anchors := map[string][]string{}
	anchorsOf := func(doc string) []string {
		if a, ok := anchors[doc]; ok {
			return a
		}
		anchors[doc] = headingAnchors(readDoc(t, doc))
		return anchors[doc]
	}
	var checked int
	for _, doc := range docFiles(t) {
		for _, l := range relativeLinks(readDoc(t, doc)) {
			checked++
			target, fragment, _ := strings.Cut(l.target, "#")
			file := doc
			if target != "" {
				file = path.Join(path.Dir(doc), target)
				if strings.HasPrefix(file, "../") {
					assert.Fail(t, "link leaves the repository", "%s:%d: %s", doc, l.line, l.target)
					continue
				}
				if _, err := os.Stat(filepath.FromSlash(file)); err != nil {
					assert.Fail(t, "link to a missing file", "%s:%d: %s", doc, l.line, l.target)
					continue
				}
			}
			if fragment == "" {
				continue
			}
			if !strings.HasSuffix(file, ".md") {
				assert.Fail(t, "fragment into a file that is not Markdown", "%s:%d: %s", doc, l.line, l.target)
				continue
			}
			assert.Contains(t, anchorsOf(file), fragment, "%s:%d: %s names no heading of %s", doc, l.line, l.target, file)
		}
	}
	assert.Greater(t, checked, 20, "too few links found: is the link pattern broken?")
}

// TestHeadingAnchor pins the slugs that links rely on to GitHub's.
func TestHeadingAnchor(t *testing.T) {
	for heading, want := range map[string]string{
		"Quick start":                              "quick-start",
		"Several replicas: Redis":                  "several-replicas-redis",
		"Why `cmd/cognito` is its own module":      "why-cmdcognito-is-its-own-module",
		"Compared with x/oauth2/clientcredentials": "compared-with-xoauth2clientcredentials",
		"The load balancer's header":               "the-load-balancers-header",
		"Steps 1 to 7 with Sessions":               "steps-1-to-7-with-sessions",
		"with_underscore and [a link](x.md)":       "with_underscore-and-a-link",
		"Ünïcode – dash":                           "ünïcode--dash",
	} {
		assert.Equal(t, want, headingAnchor(heading), heading)
	}
}

// TestGoBlockMatching pins what counts as a block standing in a file.
func TestGoBlockMatching(t *testing.T) {
	src := strings.Split("func Example_x() {\n\ta := 1\n\n\tif a > 0 {\n\t\tb()\n\t}\n}\n\nfunc helper() {\n}\n", "\n")
	for _, tc := range []struct {
		name  string
		block string
		want  bool
	}{
		{"a run from a body, one tab less", "a := 1\n\nif a > 0 {\n\tb()\n}", true},
		{"the body as main", "func main() {\n\ta := 1\n\n\tif a > 0 {\n\t\tb()\n\t}\n}", true},
		{"a changed line", "a := 2", false},
		{"a dropped blank line", "a := 1\nif a > 0 {", false},
		{"indentation that differs within the block", "a := 1\n\nif a > 0 {\nb()", false},
		{"lines out of order", "if a > 0 {\n\ta := 1", false},
		{"main for a function that is no Example", "func main() {\n}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, containsBlock(src, strings.Split(tc.block, "\n")))
		})
	}
}

// docFiles lists the repository's Markdown files, slash-separated and
// relative to its root, leaving out dependencies and tools' state.
func docFiles(t *testing.T) []string {
	t.Helper()
	var docs []string
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, ".md") {
			docs = append(docs, filepath.ToSlash(p))
		}
		return nil
	})
	require.NoError(t, err)
	return docs
}

// mirror is a compiled file that documentation blocks may stand in.
type mirror struct {
	name  string
	lines []string
}

// mirrorFiles reads every test file of the repository whose name says it
// holds examples.
func mirrorFiles(t *testing.T) []mirror {
	t.Helper()
	var mirrors []mirror
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || d.Name() == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(p, "_test.go") && strings.Contains(d.Name(), "example") {
			src, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			mirrors = append(mirrors, mirror{name: filepath.ToSlash(p), lines: strings.Split(string(src), "\n")})
		}
		return nil
	})
	require.NoError(t, err)
	return mirrors
}

func mirrorNames(ms []mirror) []string {
	var names []string
	for _, m := range ms {
		names = append(names, m.name)
	}
	return names
}

func readDoc(t *testing.T, doc string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(doc))
	require.NoError(t, err)
	return string(b)
}

// block is a fenced Go block of a Markdown file.
type block struct {
	line  int      // of the opening fence, from 1
	text  string   // between the fences, with its final newline
	lines []string // text's lines
}

var goBlockPattern = regexp.MustCompile("(?ms)^```go\n(.*?)^```")

func goBlocks(md string) []block {
	var blocks []block
	for _, m := range goBlockPattern.FindAllStringSubmatchIndex(md, -1) {
		text := md[m[2]:m[3]]
		blocks = append(blocks, block{
			line:  strings.Count(md[:m[0]], "\n") + 1,
			text:  text,
			lines: strings.Split(strings.TrimSuffix(text, "\n"), "\n"),
		})
	}
	return blocks
}

// lastHeading is the last Markdown heading line of md.
func lastHeading(md string) string {
	var h string
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "#") {
			h = line
		}
	}
	return h
}

var exampleFunc = regexp.MustCompile(`^func Example\w*\(\) \{$`)

// containsBlock reports whether block stands in src as consecutive lines:
// each line of src is the block's line behind one indentation of tabs, and
// blank where the block's is blank. A first line "func main() {" stands for
// an Example function's.
func containsBlock(src, block []string) bool {
	if len(block) == 0 {
		return false
	}
	for i := 0; i+len(block) <= len(src); i++ {
		first := src[i]
		indent, ok := strings.CutSuffix(first, block[0])
		if block[0] == "func main() {" {
			indent = first[:len(first)-len(strings.TrimLeft(first, "\t"))]
			ok = exampleFunc.MatchString(strings.TrimPrefix(first, indent))
		}
		if !ok || strings.Trim(indent, "\t") != "" {
			continue
		}
		matched := true
		for j := 1; j < len(block) && matched; j++ {
			if block[j] == "" {
				matched = strings.TrimSpace(src[i+j]) == ""
			} else {
				matched = src[i+j] == indent+block[j]
			}
		}
		if matched {
			return true
		}
	}
	return false
}

// exampleBody is the body of function name in file, braces included.
func exampleBody(t *testing.T, file, name string) string {
	t.Helper()
	src, err := os.ReadFile(file)
	require.NoError(t, err)
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, src, parser.ParseComments)
	require.NoError(t, err)
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Name.Name == name {
			return string(src[fset.Position(fn.Body.Lbrace).Offset:fset.Position(fn.Body.End()).Offset])
		}
	}
	require.Failf(t, "no such function", "%s has no %s", file, name)
	return ""
}

// link is a Markdown link's target, with the line it is on.
type link struct {
	line   int
	target string
}

var (
	fencePattern      = regexp.MustCompile("(?ms)^```.*?^```")
	commentPattern    = regexp.MustCompile("(?s)<!--.*?-->")
	codeSpanPattern   = regexp.MustCompile("`[^`\n]*`")
	inlineLinkPattern = regexp.MustCompile(`\]\(([^)\s]+)\)`)
)

// relativeLinks lists md's inline links that are not absolute URLs, outside
// code and HTML comments (where a link may wait for a page not written yet).
func relativeLinks(md string) []link {
	blank := func(s string) string { return strings.Map(func(r rune) rune { return keepNewline(r) }, s) }
	md = fencePattern.ReplaceAllStringFunc(md, blank)
	md = commentPattern.ReplaceAllStringFunc(md, blank)
	md = codeSpanPattern.ReplaceAllStringFunc(md, blank)
	var links []link
	for _, m := range inlineLinkPattern.FindAllStringSubmatchIndex(md, -1) {
		target := md[m[2]:m[3]]
		if strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
			continue
		}
		links = append(links, link{line: strings.Count(md[:m[0]], "\n") + 1, target: target})
	}
	return links
}

// keepNewline blanks a rune out, keeping line breaks so that line numbers hold.
func keepNewline(r rune) rune {
	if r == '\n' {
		return r
	}
	return ' '
}

var (
	headingPattern = regexp.MustCompile(`(?m)^#{1,6} +(.+?) *#*$`)
	anchorPattern  = regexp.MustCompile(`<a (?:id|name)="([^"]+)"`)
	mdLinkPattern  = regexp.MustCompile(`\[([^\]]*)\]\([^)]*\)`)
)

// headingAnchors lists the fragments md's headings get, as GitHub makes
// them (a repeated heading gets -1, -2, ...), and those of <a id> tags.
func headingAnchors(md string) []string {
	md = fencePattern.ReplaceAllString(md, "")
	md = commentPattern.ReplaceAllString(md, "")
	var anchors []string
	seen := map[string]int{}
	for _, m := range headingPattern.FindAllStringSubmatch(md, -1) {
		a := headingAnchor(m[1])
		if n := seen[a]; n > 0 {
			anchors = append(anchors, fmt.Sprintf("%s-%d", a, n))
		} else {
			anchors = append(anchors, a)
		}
		seen[a]++
	}
	for _, m := range anchorPattern.FindAllStringSubmatch(md, -1) {
		anchors = append(anchors, m[1])
	}
	return anchors
}

// headingAnchor is GitHub's fragment for a heading: its text lower-cased,
// without punctuation but hyphens and underscores, spaces made hyphens.
func headingAnchor(heading string) string {
	heading = mdLinkPattern.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}
