package jsonname

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAppendFolded(t *testing.T) {
	for in, want := range map[string]string{
		"email": "EMAIL", "Az09:_-z{": "AZ09:_-Z{", "\u017f": "S", "\u212a": "K", "é": "É", "É": "É",
		"σ": "Σ", "ς": "Σ", "\u0130": "\u0130", "ß": "ß", "\uFFFD": "\uFFFD", "\xff": "\uFFFD",
	} {
		assert.Equal(t, want, string(AppendFolded(nil, []byte(in))), in)
	}
}

// TestFoldedAlikeIsOneFieldToEncodingJSON: names that fold alike fill the
// same struct field, and names that do not, do not.
func TestFoldedAlikeIsOneFieldToEncodingJSON(t *testing.T) {
	var v struct {
		Sub string `json:"sub"`
	}
	for _, name := range []string{"sub", "SUB", "Sub", "\u017fub", "\u017fUB"} {
		v.Sub = ""
		assert.NoError(t, json.Unmarshal([]byte(`{"`+name+`":"x"}`), &v))
		assert.Equal(t, "x", v.Sub, name)
		assert.True(t, NewSet("sub").Holds([]byte(name)), name)
	}
	for _, name := range []string{"su", "subs", "sub ", "s\u0075b\u0301"} {
		v.Sub = ""
		assert.NoError(t, json.Unmarshal([]byte(`{"`+name+`":"x"}`), &v))
		assert.Empty(t, v.Sub, name)
		assert.False(t, NewSet("sub").Holds([]byte(name)), name)
	}
}

func TestSetHoldsLongNames(t *testing.T) {
	long := "custom:" + string(make([]byte, 100))
	s := NewSet(long, "email")
	assert.True(t, s.Holds([]byte(long)))
	assert.True(t, s.Holds([]byte("Email")))
	assert.False(t, s.Holds([]byte("mail")))
	assert.Len(t, NewSet("email", "EMAIL", "Email"), 1)
}
