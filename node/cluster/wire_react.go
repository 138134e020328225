package cluster

import (
	"bytes"
	"unicode/utf8"
)

// Reactions are the one owner operation sent at the pace of clients (tens
// of thousands a second into a big room), one peer message each. Their
// wire form stays the JSON of request, but plain ones — no character that
// JSON escapes, which is every room id, user id and emoji in practice —
// are written and read by hand: encoding/json's reflection was a third of
// what forwarding a reaction cost. Anything else takes encoding/json.

const (
	reactPrefix   = `{"op":"react","room":"`
	reactUID      = `","uid":"`
	reactReaction = `","reaction":"`
	reactSuffix   = `"}`
)

// plainJSON reports whether s is written as is inside a JSON string by
// encoding/json: valid UTF-8 without quotes, backslashes, control
// characters, the HTML characters it escapes (<, >, &) or U+2028/U+2029.
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		case c == 0xE2 && i+2 < len(s) && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9):
			return false
		}
	}
	return utf8.ValidString(s)
}

// encodeReact returns the wire form of a react request, byte for byte what
// json.Marshal writes, or nil when a field is not plain.
func encodeReact(room, uid, reaction string) []byte {
	if !plainJSON(room) || !plainJSON(uid) || !plainJSON(reaction) {
		return nil
	}
	b := make([]byte, 0, len(reactPrefix)+len(room)+len(reactUID)+len(uid)+len(reactReaction)+len(reaction)+len(reactSuffix))
	b = append(b, reactPrefix...)
	b = append(b, room...)
	b = append(b, reactUID...)
	b = append(b, uid...)
	b = append(b, reactReaction...)
	b = append(b, reaction...)
	return append(b, reactSuffix...)
}

// decodeReact reads a react request in the form encodeReact writes; ok is
// false for anything else (json.Unmarshal then reads it).
func decodeReact(b []byte) (q request, ok bool) {
	rest, ok := bytes.CutPrefix(b, []byte(reactPrefix))
	if !ok {
		return q, false
	}
	var room, uid, reaction []byte
	if room, rest, ok = bytes.Cut(rest, []byte(reactUID)); !ok {
		return q, false
	}
	if uid, rest, ok = bytes.Cut(rest, []byte(reactReaction)); !ok {
		return q, false
	}
	if reaction, ok = bytes.CutSuffix(rest, []byte(reactSuffix)); !ok {
		return q, false
	}
	for _, f := range [][]byte{room, uid, reaction} {
		if bytes.ContainsAny(f, "\"\\") || !utf8.Valid(f) {
			return q, false
		}
	}
	return request{Op: opReact, Room: string(room), UserID: string(uid), Reaction: string(reaction)}, true
}
