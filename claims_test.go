package cognito

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/cognitokit/cognito/internal/jsonname"
)

// Unit tests of the JSON scanner's edges; fuzz_internal_test.go compares it
// with encoding/json on arbitrary input.

func members(data string, fold bool) ([]string, error) {
	var names []string
	err := scanMembers([]byte(data), fold, func(name, _ []byte) error {
		names = append(names, string(name))
		return nil
	})
	return names, err
}

// scannerDocs use every part of the JSON grammar between them.
var scannerDocs = []string{
	`{"a":1,"b":[true,false,null,{"c":"\u0041\n"}],"d":-1.5e+3,"e":{},"f":[],"g":"x\"y","h":0.25E-2}`,
	` { "kid" : "k" , "alg" : "RS256" } `,
	`{"\u00e9\ud83d\ude00":"\t\\\/\b\f\r","n":-0,"m":12e9,"o":{"p":{"q":[1,[2,[3]]]}}}`,
	`{"a\u004A":"\u004a\u00E9"}`,
	`{}`,
}

func TestEachMemberRefusesEveryTruncation(t *testing.T) {
	// Every bounds check of the scanner is reached by cutting a document
	// just there: each cut is refused, and none reads past the end.
	for _, doc := range scannerDocs {
		_, err := members(doc, false)
		require.NoError(t, err, doc)
		for n := range len(strings.TrimRight(doc, " ")) {
			for _, fold := range []bool{false, true} {
				_, err := members(doc[:n], fold)
				require.ErrorIs(t, err, errInvalidJSON, "%q", doc[:n])
			}
		}
	}
	// The same cuts, inside a value that is not an object.
	for _, cut := range []string{`[`, `["a"`, `["a",`, `[1`, `[tru`, `[1e`, `[-`, `[1.`, `"\u004`, `"a\`, `{"a":[{"b":1}`} {
		_, err := members(cut, false)
		require.ErrorIs(t, err, errInvalidJSON, "%q", cut)
	}
}

func TestEachMemberGrammar(t *testing.T) {
	for doc, want := range map[string]error{
		`{"a":1.}`:               errInvalidJSON, // a fraction needs digits
		`{"a":1.5}`:              nil,
		`{"a":1.e5}`:             errInvalidJSON,
		`{"a":1e}`:               errInvalidJSON,
		`{"a":1e+}`:              errInvalidJSON,
		`{"a":-}`:                errInvalidJSON,
		`{"a":01}`:               errInvalidJSON,
		`{"a":-0.0e-0}`:          nil,
		`{"a":"\u00E9"}`:         nil, // upper-case hex
		`{"a":"\u00G9"}`:         errInvalidJSON,
		`{"a":"\x"}`:             errInvalidJSON,
		`{"a":"` + "\x1f" + `"}`: errInvalidJSON,
		`{"a":[1,]}`:             errInvalidJSON,
		`{"a":[1 2]}`:            errInvalidJSON,
		`{"a":{"b" 1}}`:          errInvalidJSON,
		`{"a":{"b":1,}}`:         errInvalidJSON,
		`{"a":{1:1}}`:            errInvalidJSON,
		`{"a":nul}`:              errInvalidJSON,
		`{"a":falsy}`:            errInvalidJSON,
		`{"a":+1}`:               errInvalidJSON,
		`{"a":1}}`:               errInvalidJSON,
		`{"a":1 "b":2}`:          errInvalidJSON,
		`{"":1}`:                 nil,
		`{"a":"\uFFFF"}`:         nil,
		`true`:                   errNotObject, // a literal that ends the input
		`null`:                   errNotObject,
		`[]`:                     errNotObject,
		`"s"`:                    errNotObject,
		``:                       errInvalidJSON,
		` `:                      errInvalidJSON,
		`x`:                      errInvalidJSON,
	} {
		_, err := members(doc, false)
		if want == nil {
			assert.NoError(t, err, doc)
		} else {
			assert.ErrorIs(t, err, want, doc)
		}
	}
}

func TestEachMemberNames(t *testing.T) {
	names, err := members(`{"\u004A\u004a":1,"\u00E9":2,"\u00e9x":3,"a\u0000":4,"\ud83d\ude00":5,"\ud83d":6,"\ud83dx":7,"\ud83d\u0041":8}`, false)
	require.NoError(t, err)
	assert.Equal(t, []string{"JJ", "é", "éx", "a\x00", "😀", "\uFFFD", "\uFFFDx", "\uFFFDA"}, names)

	// Invalid UTF-8 is U+FFFD to encoding/json: names that differ only in
	// invalid bytes repeat each other.
	_, err = members("{\"a\x80\":1,\"a\xff\":2}", false)
	assert.ErrorContains(t, err, "repeats member")
	_, err = members("{\"a\x80\":1,\"a\uFFFD\":2}", false)
	assert.ErrorContains(t, err, "repeats member")
	_, err = members("{\"\x80\":1,\"\x7f\":2}", false)
	assert.NoError(t, err)

	// Folded, as encoding/json matches names: only when asked.
	for _, doc := range []string{`{"email":1,"EMAIL":2}`, `{"sub":1,"\u017fub":2}`, `{"k":1,"\u212a":2}`, `{"Ab":1,"aB":2}`} {
		_, err := members(doc, false)
		assert.NoError(t, err, doc)
		_, err = members(doc, true)
		assert.ErrorContains(t, err, "repeats member", doc)
	}
	for _, doc := range []string{`{"i":1,"\u0130":2}`, `{"s":1,"ß":2}`, `{"a":1,"b":2}`} {
		_, err := members(doc, true)
		assert.NoError(t, err, doc)
	}
}

func TestMaxJSONDepth(t *testing.T) {
	// A member's value may nest maxJSONDepth-1 containers (the object
	// holding it is the first level); a top-level value maxJSONDepth.
	nest := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	_, err := members(`{"a":`+nest(maxJSONDepth-1)+`}`, false)
	require.NoError(t, err)
	_, err = members(`{"a":`+nest(maxJSONDepth)+`}`, false)
	require.ErrorIs(t, err, errTooDeep)
	_, err = members(nest(maxJSONDepth), false)
	require.ErrorIs(t, err, errNotObject)
	_, err = members(nest(maxJSONDepth+1), false)
	require.ErrorIs(t, err, errTooDeep)
}

func TestDecodeStringMatchesEncodingJSON(t *testing.T) {
	for _, q := range []string{
		`""`, `"plain"`, `"\\"`, `"\\\\"`, `"\"\\\/\b\f\n\r\t"`, `"\u00e9\u00E9\u004A\u004a\u0000"`, `"\uABCD\uabcd\u0fF0\uF00f\uFEFF"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ud83dx"`, `"\ud83d\u0041"`, `"\ude00\ud83d"`, `"\ud83d\ud83d\ude00"`,
		`"\ud83d\`, "\"a\x80b\"", "\"\xff\xfe\"", "\"é\xc3\"", `"😀"`, "\"\xed\xa0\x80\"",
	} {
		var want string
		if json.Unmarshal([]byte(q), &want) != nil {
			continue // not a JSON string; the scanner refuses it before
		}
		got, err := decodeString([]byte(q))
		require.NoError(t, err, q)
		assert.Equal(t, want, got, q)
	}
	for _, v := range []string{``, `1`, `[]`, `n`} {
		_, err := decodeString([]byte(v))
		assert.Error(t, err, v)
	}
}

func TestDecodeNumericDate(t *testing.T) {
	for v, want := range map[string]time.Time{
		"0":              time.Unix(0, 0),
		"1795000000":     time.Unix(1795000000, 0),
		"253402300799":   time.Unix(maxNumericDate, 0),
		"253402300799.0": time.Unix(maxNumericDate, 0),
		"1.5":            time.Unix(1, 5e8),
		"9.5":            time.Unix(9, 5e8),
		"9e2":            time.Unix(900, 0),
		"1795000000.25":  time.Unix(1795000000, 25e7),
		"1.795e9":        time.Unix(1795000000, 0),
		"0.5":            time.Unix(0, 5e8),
		"-0":             time.Unix(0, 0),
	} {
		got, err := decodeNumericDate([]byte(v))
		require.NoError(t, err, v)
		assert.True(t, want.Equal(got), "%s: %v, want %v", v, got, want)
	}
	for _, v := range []string{
		"", "253402300800", "253402300799.5", "999999999999", "1000000000000", "9223372036854775807",
		"9223372036854775808", "99999999999999999999", "-1", "-0.5", "1e400", `"1"`, "true", "null", "[1]",
		"NaN", "-", "x1",
	} {
		_, err := decodeNumericDate([]byte(v))
		assert.Error(t, err, v)
	}
}

func TestParseClaimsCaseOfClaimNames(t *testing.T) {
	// A claim read into a typed field, spelled in another case, is refused;
	// another claim is not.
	for _, doc := range []string{`{"exp":1,"EMAIL":"e"}`, `{"exp":1,"Cognito:Username":"u"}`, `{"exp":1,"\u017fub":"s"}`, `{"Exp":2,"exp":1}`} {
		_, err := parseClaims([]byte(doc), "id")
		require.ErrorIs(t, err, ErrMalformedToken, doc)
		assert.ErrorContains(t, err, "differs only in case", doc)
	}
	c, err := parseClaims([]byte(`{"exp":1,"Custom:Tenant":"t","İss":"x","`+strings.Repeat("x", 100)+`":1}`), "id")
	require.NoError(t, err)
	assert.Nil(t, c.iss)
}

func TestParseHeaderMembers(t *testing.T) {
	h, err := parseHeader([]byte(`{"alg":"RS256","kid":"k","typ":"JWT","cty":"x","jku":1,"ALG":"none"}`))
	require.NoError(t, err)
	assert.Equal(t, header{alg: "RS256", kid: "k"}, h)
	for _, doc := range []string{`{"alg":"RS256","typ":1}`, `{"alg":"RS256","cty":null}`, `{"alg":"RS256","crit":[]}`, `{"alg":1}`, `{"kid":"k"}`, `{"alg":""}`} {
		_, err := parseHeader([]byte(doc))
		assert.ErrorIs(t, err, ErrMalformedToken, doc)
	}
}

func TestDecodeBool(t *testing.T) {
	for v, want := range map[string]bool{"true": true, `"true"`: true, "false": false, `"false"`: false} {
		got, err := decodeBool([]byte(v))
		require.NoError(t, err)
		assert.Equal(t, want, got, v)
	}
	_, err := decodeBool([]byte(`"True"`))
	assert.Error(t, err)
}

func TestReadClaimsNamesEveryCaseOfParseClaims(t *testing.T) {
	// A claim parseClaims reads must be in readClaims, or a token could
	// carry it in another case for Claims(v) to read instead: the cases of
	// parseClaims's switch are read from the source and compared.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "claims.go", nil, 0)
	require.NoError(t, err)
	cases := map[string]bool{}
	ast.Inspect(f, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "parseClaims" {
			return true
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, err := strconv.Unquote(lit.Value)
						require.NoError(t, err)
						cases[s] = true
					}
				}
			}
			return true
		})
		return false
	})
	require.NotEmpty(t, cases)
	names := make([]string, 0, len(cases))
	for c := range cases {
		names = append(names, c)
	}
	assert.Equal(t, jsonname.NewSet(names...), readClaims)
}

func TestParseClaimsAllocationBudget(t *testing.T) {
	// A token without acr and amr costs what it did before they were read
	// (measured then: 6 allocations for this one).
	plain := []byte(`{"sub":"aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee","cognito:groups":["admins"],"email_verified":true,` +
		`"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC","cognito:username":"alice","origin_jti":"o",` +
		`"aud":"client","event_id":"e","token_use":"id","auth_time":1700000000,"exp":1700003600,"iat":1700000000,"jti":"j",` +
		`"email":"alice@example.com"}`)
	parse := func(doc []byte) func() {
		return func() {
			if _, err := parseClaims(doc, "id"); err != nil {
				panic(err)
			}
		}
	}
	assert.LessOrEqual(t, testing.AllocsPerRun(50, parse(plain)), 6.0)
	with := append(bytes.Clone(plain[:len(plain)-1]), `,"acr":"urn:cognito:loa:2","amr":["pwd","otp"]}`...)
	c, err := parseClaims(with, "id")
	require.NoError(t, err)
	assert.Equal(t, "urn:cognito:loa:2", c.acr)
	assert.Equal(t, []string{"pwd", "otp"}, c.amr)
}
