package alb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/cognitokit/cognito/internal/jsonname"
)

// FuzzEachMember holds the member walker, which trusts json.Valid for the
// structure, to encoding/json's reading of the same object: no panic, and
// for an object without repeated names, the same names and values; with
// fold, names repeat each other when encoding/json would match them to one
// struct field (its folding agrees with bytes.EqualFold).
//
//	go test -run '^$' -fuzz '^FuzzEachMember$' -fuzztime 1m ./alb
func FuzzEachMember(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":"x","b":[1,{"c":"]}"}],"d":{"e":null}}`,
		`{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":"\"}"}`, `{"a" : -1.5e3 , "b" :true}`,
		`[]`, `"x"`, `{"a":1}x`, `{"a":1,}`, "{\"\xff\":1,\"\xfe\":2}", `{"a":{"a":1}}`,
		`{"sub":1,"SUB":2}`, `{"sub":1,"\u017fub":2}`, `{"k":1,"\u212a":2}`, `{"i":1,"\u0130":2}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzEachMember(t, data, false)
		fuzzEachMember(t, data, true)
	})
}

func fuzzEachMember(t *testing.T, data []byte, fold bool) {
	got := map[string][]byte{}
	var names []string
	err := eachMember(data, fold, func(name, value []byte) error {
		got[string(name)] = value
		names = append(names, string(name))
		return nil
	})
	var want map[string]json.RawMessage
	if json.Unmarshal(data, &want) != nil || want == nil {
		if err == nil {
			t.Fatalf("accepted %q, which is not a JSON object", data)
		}
		return
	}
	if err != nil {
		return // a repeated name, which encoding/json lets through
	}
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, encoding/json has %d", data, len(got), len(want))
	}
	for name, v := range want {
		if !bytes.Equal(bytes.TrimSpace(v), got[name]) {
			t.Fatalf("%q: member %q is %q, encoding/json has %q", data, name, got[name], v)
		}
	}
	if fold {
		for i, n := range names {
			for _, m := range names[:i] {
				if strings.EqualFold(n, m) {
					t.Fatalf("%q: accepted %q and %q, which encoding/json reads as one field", data, m, n)
				}
			}
		}
	}
}

func TestEachMemberRefusesRepeatedNames(t *testing.T) {
	each := func(data []byte, fold bool) error {
		return eachMember(data, fold, func(_, _ []byte) error { return nil })
	}
	for _, data := range []string{`{"a":1,"a":1}`, `{"a":1,"\u0061":2}`, "{\"\xff\":1,\"\xfe\":2}"} {
		for _, fold := range []bool{false, true} {
			if err := each([]byte(data), fold); err == nil {
				t.Errorf("%q (fold %v): accepted", data, fold)
			}
		}
	}
	for _, data := range []string{`{"a":1,"A":1}`, `{"sub":1,"\u017fub":1}`, `{"k":1,"\u212a":1}`, `{"Custom:X":1,"custom:x":1}`} {
		if err := each([]byte(data), false); err != nil {
			t.Errorf("%q: %v, but the names differ", data, err)
		}
		if err := each([]byte(data), true); err == nil {
			t.Errorf("%q folded: accepted, but the names fold alike", data)
		}
	}
	for _, data := range []string{`{"i":1,"\u0130":1}`, `{"s":1,"ß":1}`, `{"a":1,"b":1}`} {
		if err := each([]byte(data), true); err != nil {
			t.Errorf("%q folded: %v, but encoding/json reads two fields", data, err)
		}
	}
	// Past the names compared in the array, the map takes over.
	for _, fold := range []bool{false, true} {
		var b bytes.Buffer
		b.WriteString("{")
		for i := range 40 {
			fmt.Fprintf(&b, `"m%02d":0,`, i)
		}
		unique := append(bytes.Clone(b.Bytes()), `"m40":1}`...)
		if err := each(unique, fold); err != nil {
			t.Errorf("41 distinct members (fold %v): %v", fold, err)
		}
		repeat := `"m02":1}`
		if fold {
			repeat = `"M02":1}`
		}
		if err := each(append(b.Bytes(), repeat...), fold); err == nil {
			t.Errorf("a name repeated after 40 members (fold %v): accepted", fold)
		}
	}
	// Folded names longer than the buffer on the stack still compare.
	long := strings.Repeat("\u017f", 200)
	if err := each([]byte(`{"`+long+`":1,"`+strings.Repeat("s", 200)+`":2}`), true); err == nil {
		t.Error("two long names that fold alike: accepted")
	}
}

// TestReadClaimsNamesEveryCaseOfParseClaims: a claim parseClaims reads must
// be in readClaims, or a value could carry it in another case for
// Token.Claims to read instead. The cases of parseClaims's switch are read
// from the source and compared.
func TestReadClaimsNamesEveryCaseOfParseClaims(t *testing.T) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, "claims.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cases []string
	ast.Inspect(file, func(n ast.Node) bool {
		fn, ok := n.(*ast.FuncDecl)
		if !ok || fn.Name.Name != "parseClaims" {
			return true
		}
		ast.Inspect(fn, func(n ast.Node) bool {
			if cc, ok := n.(*ast.CaseClause); ok {
				for _, e := range cc.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						s, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						cases = append(cases, s)
					}
				}
			}
			return true
		})
		return false
	})
	if len(cases) == 0 {
		t.Fatal("no cases found in parseClaims")
	}
	if want := jsonname.NewSet(cases...); !maps.Equal(want, readClaims) {
		t.Errorf("readClaims is %v, parseClaims reads %v", readClaims, want)
	}
}

// TestPlainStrings: every JSON string of printable ASCII without escapes,
// the empty one and ones with spaces included, takes the copy-as-is path of
// decodeString, and that path reads each as encoding/json does; anything
// else goes to encoding/json.
func TestPlainStrings(t *testing.T) {
	for _, tc := range []struct {
		v     string
		plain bool
	}{
		{`""`, true},
		{`"alice"`, true},
		{`"Alice Smith"`, true},
		{`" "`, true},
		{`"!~"`, true},
		{`"a\"b"`, false},
		{`"\u0061"`, false},
		{"\"a\tb\"", false},
		{"\"\x1f\"", false},
		{"\"caf\u00e9\"", false},
		{`"`, false},
		{``, false},
		{`alice`, false},
		{`"alice`, false},
	} {
		t.Run(strconv.Quote(tc.v), func(t *testing.T) {
			assert.Equal(t, tc.plain, plainString([]byte(tc.v)))
			var want string
			wantErr := json.Unmarshal([]byte(tc.v), &want)
			got, err := decodeString([]byte(tc.v))
			if wantErr != nil {
				assert.Error(t, err)
				return
			}
			if assert.NoError(t, err) {
				assert.Equal(t, want, got, "as encoding/json reads it")
			}
		})
	}
}

// TestParseAllocationBudget: the strings of a load balancer's header and
// claims (plain ASCII, no escapes) are copied as they are, one allocation
// each, without encoding/json's decoder, and their members tracked without a
// map.
func TestParseAllocationBudget(t *testing.T) {
	hdr := []byte(`{"typ":"JWT","kid":"c2f80c8b-c05c-4068-af14-17299f7896b1","alg":"ES256",` +
		`"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123","client":"4fmvht22tjrgd7d3k3tghttct7",` +
		`"signer":"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188","exp":1772366400}`)
	claims := []byte(`{"sub":"3d4e5f60-1a2b-4c3d-8e9f-0a1b2c3d4e5f","email_verified":"true","email":"alice@example.com",` +
		`"username":"alice","exp":1772366400,"iss":"https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEf123"}`)
	h := testing.AllocsPerRun(50, func() {
		if _, err := parseHeader(hdr); err != nil {
			panic(err)
		}
	})
	c := testing.AllocsPerRun(50, func() {
		if _, err := parseClaims(claims); err != nil {
			panic(err)
		}
	})
	t.Logf("allocations: header %.0f, claims %.0f", h, c)
	assert.LessOrEqual(t, h, 6.0, "the six strings of the header")
	assert.LessOrEqual(t, c, 5.0, "the four strings read of the claims, and the claims")
}
