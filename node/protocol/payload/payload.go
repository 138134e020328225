// Package payload is the JSON both codecs share: it splits a frame's JSON
// array into raw elements without decoding them, decodes one element once,
// into the typed value of its operation, failing with the protocol's
// error, and holds the resource-reaction shapes both dialects carry in
// Valu's names.
package payload

import (
	"encoding/json"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/roomring/roomring/node/op"
)

// ErrNotArray is returned by Elements for JSON that is not an array.
var ErrNotArray = errors.New("not a JSON array")

// Elements appends the raw elements of the JSON array a to dst and returns
// the extended slice. The elements alias a. a must be valid JSON (check it
// with json.Valid first); Elements does not validate the elements.
func Elements(dst []json.RawMessage, a []byte) ([]json.RawMessage, error) {
	i := skipSpace(a, 0)
	if i >= len(a) || a[i] != '[' {
		return dst, ErrNotArray
	}
	i = skipSpace(a, i+1)
	if i < len(a) && a[i] == ']' {
		return dst, nil
	}
	depth, start := 0, i
	for i < len(a) {
		switch a[i] {
		case '"':
			i = skipString(a, i)
			continue
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return append(dst, trimRight(a[start:i])), nil
			}
			depth--
		case ',':
			if depth == 0 {
				dst = append(dst, trimRight(a[start:i]))
				i = skipSpace(a, i+1)
				start = i
				continue
			}
		}
		i++
	}
	return dst, ErrNotArray
}

// skipString returns the index after the string that starts at a[i].
func skipString(a []byte, i int) int {
	for i++; i < len(a); i++ {
		switch a[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func skipSpace(a []byte, i int) int {
	for i < len(a) && isSpace(a[i]) {
		i++
	}
	return i
}

func trimRight(b []byte) json.RawMessage {
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// Plain returns the contents of a JSON string of valid UTF-8 without
// escapes, aliasing s; ok is false for anything else (decode it with
// json.Unmarshal then, which also replaces invalid UTF-8).
func Plain(s []byte) (b []byte, ok bool) {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return nil, false
	}
	b = s[1 : len(s)-1]
	ascii := true
	for _, c := range b {
		if c == '\\' || c == '"' || c < 0x20 {
			return nil, false
		}
		ascii = ascii && c < utf8.RuneSelf
	}
	return b, ascii || utf8.Valid(b)
}

// Decode decodes b into v once. An absent or null payload is "missing
// payload"; anything that does not fit v is protocol.invalid with a message
// that names the field, not Go's types.
func Decode(b []byte, v any) *op.Error {
	if len(b) == 0 || string(b) == "null" {
		return op.Errorf(op.CodeBadRequest, "missing payload")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return Invalid(err)
	}
	return nil
}

// Invalid is the protocol.invalid error of a payload that did not decode.
func Invalid(err error) *op.Error {
	msg := err.Error()
	if i := strings.Index(msg, "Go struct field "); i >= 0 {
		msg = "wrong type for field " + msg[i+len("Go struct field "):]
	}
	return op.Errorf(op.CodeBadRequest, "invalid payload: %s", msg)
}

// String decodes the JSON string s; ok is false when s is not a string.
func String(s []byte) (v string, ok bool) {
	if b, plain := Plain(s); plain {
		return string(b), true
	}
	return unquote(s)
}

// unquote is String's slow path, kept apart so that only escaped strings
// pay for the heap-allocated target.
func unquote(s []byte) (string, bool) {
	var v string
	if json.Unmarshal(s, &v) != nil || len(s) == 0 || s[0] != '"' {
		return "", false
	}
	return v, true
}
