package report

import (
	"errors"
	"fmt"
)

// The page carries its geometry and point sets as streams of integers
// written in a compact text form that a script can decode quickly and
// that is safe inside a JSON string and an HTML script element: each
// integer is zig-zagged (so small negatives stay small) and cut into
// five-bit groups, least significant first; each group is one character
// of intAlphabet, with 32 added while more groups follow. Values that
// are close to the previous one (delta-coded coordinates) take one or
// two characters.

const intAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// intStream builds an encoded stream.
type intStream struct{ b []byte }

func (s *intStream) put(v int) {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	for u >= 32 {
		s.b = append(s.b, intAlphabet[32|u&31])
		u >>= 5
	}
	s.b = append(s.b, intAlphabet[u])
}

func (s *intStream) String() string { return string(s.b) }

var intValue = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(intAlphabet) {
		t[intAlphabet[i]] = int8(i)
	}
	return t
}()

// errStream reports a malformed stream.
var errStream = errors.New("malformed integer stream")

// decodeInts is the inverse of intStream, as the page's script does it.
func decodeInts(s string) ([]int, error) {
	var out []int
	var u uint64
	shift := 0
	for i := 0; i < len(s); i++ {
		c := intValue[s[i]]
		if c < 0 {
			return nil, fmt.Errorf("%w: character %q at %d", errStream, s[i], i)
		}
		if shift > 60 {
			return nil, fmt.Errorf("%w: value too long at %d", errStream, i)
		}
		u |= uint64(c&31) << shift
		if c&32 != 0 {
			shift += 5
			continue
		}
		v := int(u >> 1)
		if u&1 != 0 {
			v = ^v
		}
		out = append(out, v)
		u, shift = 0, 0
	}
	if shift != 0 {
		return nil, fmt.Errorf("%w: ends inside a value", errStream)
	}
	return out, nil
}
