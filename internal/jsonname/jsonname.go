// Package jsonname compares JSON member names as encoding/json matches them
// to struct fields, ignoring case. The cognito and alb packages both read a
// token's claims into typed fields and also hand the raw claims to
// encoding/json (the Claims methods): a claim that encoding/json would match
// to a field tagged with one of the names they read, but under a name they do
// not read ("EMAIL", "\u017fub"), would make the two disagree. Both refuse
// such claims, and both use this package to fold names alike.
package jsonname

import (
	"unicode"
	"unicode/utf8"
)

// AppendFolded appends name folded as encoding/json folds member names to
// match them with struct fields (its foldName): ASCII letters in upper case,
// every other rune as the smallest rune of its unicode.SimpleFold orbit, so
// that "ſ" (U+017F) folds to "S" and the Kelvin sign to "K". Two names that
// fold alike are one field to encoding/json. Invalid UTF-8 folds to U+FFFD,
// as encoding/json decodes it.
func AppendFolded(out, name []byte) []byte {
	for i := 0; i < len(name); {
		if c := name[i]; c < utf8.RuneSelf {
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			out = append(out, c)
			i++
			continue
		}
		r, n := utf8.DecodeRune(name[i:])
		out = utf8.AppendRune(out, foldRune(r))
		i += n
	}
	return out
}

// foldRune returns the smallest rune of r's unicode.SimpleFold orbit.
func foldRune(r rune) rune {
	for {
		f := unicode.SimpleFold(r)
		if f <= r {
			return f
		}
		r = f
	}
}

// Set holds member names, folded.
type Set map[string]struct{}

// NewSet returns the set of names, folded.
func NewSet(names ...string) Set {
	s := make(Set, len(names))
	for _, n := range names {
		s[string(AppendFolded(nil, []byte(n)))] = struct{}{}
	}
	return s
}

// Holds reports whether name folds alike with one of s's names.
func (s Set) Holds(name []byte) bool {
	var buf [64]byte
	_, ok := s[string(AppendFolded(buf[:0], name))]
	return ok
}
