package op

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Profile is a user's profile (the session token's profile claim, or a
// guest's display name) kept as the JSON text of an object: compact (no
// insignificant whitespace), valid UTF-8, keys and numbers as the token
// had them. It is kept as bytes instead of decoded because a connection
// holds its user's profile for its whole life and the node reads only a
// field or two of it, once, when the user authenticates (auth.NewUser):
// the codecs write the bytes into their frames as they are.
//
// The zero Profile is the empty object {}. A Profile is immutable once
// built (ParseProfile, UnmarshalJSON), so copies share its bytes and it
// is safe for concurrent use.
type Profile struct {
	raw []byte // nil for {}; otherwise compact JSON of a non-empty object
}

// ErrProfileNotObject is ParseProfile's error for JSON that is not an
// object (null, an array, a string, a number, a boolean) or not JSON.
var ErrProfileNotObject = errors.New("profile is not a JSON object")

// ErrProfileTooLarge is ParseProfile's error for a profile over its limit.
var ErrProfileTooLarge = errors.New("profile is too large")

var emptyObject = []byte("{}")

// ParseProfile checks that b is the JSON text of an object and returns it
// as a Profile, compacted (json.Compact: whitespace between tokens
// removed; strings, numbers and key order kept). Invalid UTF-8 inside its
// strings is replaced by U+FFFD, as decoding it would have done: frames
// carry the profile to clients as websocket text, which must be UTF-8.
// A compacted profile of more than max bytes is refused with
// ErrProfileTooLarge (max <= 0: no limit). The Profile does not alias b.
func ParseProfile(b []byte, max int) (Profile, error) {
	b = bytes.Trim(b, " \t\n\r") // JSON's whitespace only: \f or U+00A0 around an object make it invalid
	if len(b) == 0 || b[0] != '{' || !json.Valid(b) {
		return Profile{}, ErrProfileNotObject
	}
	// Compacting never lengthens: one allocation of len(b), kept as it is
	// when b was compact already.
	buf := bytes.NewBuffer(make([]byte, 0, len(b)))
	if err := json.Compact(buf, b); err != nil { // cannot fail: b is valid
		return Profile{}, fmt.Errorf("%w: %w", ErrProfileNotObject, err)
	}
	raw := buf.Bytes()
	if !utf8.Valid(raw) {
		// Outside strings valid JSON is ASCII, so only string contents change.
		raw = bytes.ToValidUTF8(raw, []byte("\uFFFD"))
	}
	if max > 0 && len(raw) > max {
		return Profile{}, fmt.Errorf("%w: %d bytes, at most %d", ErrProfileTooLarge, len(raw), max)
	}
	if bytes.Equal(raw, emptyObject) {
		return Profile{}, nil
	}
	if cap(raw) > len(raw) {
		raw = bytes.Clone(raw) // keep no spare capacity for the connection's life
	}
	return Profile{raw: raw}, nil
}

// JSON returns the profile's JSON text ({} for the zero Profile). The
// caller must not modify it.
func (p Profile) JSON() []byte {
	if p.raw == nil {
		return emptyObject
	}
	return p.raw
}

// String returns the profile's JSON text.
func (p Profile) String() string { return string(p.JSON()) }

// IsZero reports whether p is the empty object; encoding/json's omitzero
// omits it then.
func (p Profile) IsZero() bool { return p.raw == nil }

// Len is the size of the profile's JSON text in bytes.
func (p Profile) Len() int { return len(p.JSON()) }

// Equal reports whether p and q are the same JSON text.
func (p Profile) Equal(q Profile) bool { return bytes.Equal(p.raw, q.raw) }

// Unmarshal decodes the profile into v as json.Unmarshal does: the fields
// a reader needs, in a struct of its own.
func (p Profile) Unmarshal(v any) error { return json.Unmarshal(p.JSON(), v) }

// MarshalJSON implements json.Marshaler: the profile's JSON text as it is.
// (encoding/json copies it into its output, escaping <, > and & in its
// strings as it escapes every string it writes.)
func (p Profile) MarshalJSON() ([]byte, error) { return p.JSON(), nil }

// UnmarshalJSON implements json.Unmarshaler: a JSON object (ParseProfile
// without a limit) or null, which is the empty object. It is how profiles
// arrive from peers (node/cluster), which checked the limit at their edge.
func (p *Profile) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*p = Profile{}
		return nil
	}
	q, err := ParseProfile(b, 0)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// MustProfile is ParseProfile without a limit for JSON known to be an
// object (literals, tests); it panics on anything else, as
// regexp.MustCompile does.
func MustProfile(s string) Profile {
	p, err := ParseProfile([]byte(s), 0)
	if err != nil {
		panic(fmt.Sprintf("op.MustProfile(%q): %v", s, err))
	}
	return p
}
