package alb

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
)

// FuzzEachMember holds the member walker, which trusts json.Valid for the
// structure, to encoding/json's reading of the same object: no panic, and
// for an object without repeated names, the same names and values.
//
//	go test -run '^$' -fuzz '^FuzzEachMember$' -fuzztime 1m ./alb
func FuzzEachMember(f *testing.F) {
	for _, seed := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a":"x","b":[1,{"c":"]}"}],"d":{"e":null}}`,
		`{"a":1,"a":2}`, `{"\u0061":1,"a":2}`, `{"a":"\"}"}`, `{"a" : -1.5e3 , "b" :true}`,
		`[]`, `"x"`, `{"a":1}x`, `{"a":1,}`, "{\"\xff\":1,\"\xfe\":2}", `{"a":{"a":1}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := map[string][]byte{}
		err := eachMember(data, func(name, value []byte) error {
			got[string(name)] = value
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
	})
}

func TestEachMemberRefusesRepeatedNames(t *testing.T) {
	for _, data := range []string{`{"a":1,"a":1}`, `{"a":1,"\u0061":2}`, "{\"\xff\":1,\"\xfe\":2}"} {
		if err := eachMember([]byte(data), func(_, _ []byte) error { return nil }); err == nil {
			t.Errorf("%q: accepted", data)
		}
	}
	// Past the names compared in the array, the map takes over.
	var b bytes.Buffer
	b.WriteString("{")
	for i := range 40 {
		fmt.Fprintf(&b, `"m%02d":0,`, i)
	}
	unique := append(bytes.Clone(b.Bytes()), `"m40":1}`...)
	if err := eachMember(unique, func(_, _ []byte) error { return nil }); err != nil {
		t.Errorf("41 distinct members: %v", err)
	}
	b.WriteString(`"m02":1}`)
	if err := eachMember(b.Bytes(), func(_, _ []byte) error { return nil }); err == nil {
		t.Error("a name repeated after 40 members: accepted")
	}
}
