package op_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"unicode/utf8"

	"github.com/roomring/roomring/node/op"
)

func TestParseProfile(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{`{}`, `{}`, nil},
		{" {\n} ", `{}`, nil},
		{`{"b": 1e2, "a": [1, {"x": null}], "s": "<&>"}`, `{"b":1e2,"a":[1,{"x":null}],"s":"<&>"}`, nil},
		{`{"s":"a\u00e9\ud83c\udf89"}`, `{"s":"a\u00e9\ud83c\udf89"}`, nil}, // escapes kept as sent
		{"{\"s\":\"\xff\"}", "{\"s\":\"\uFFFD\"}", nil},                     // invalid UTF-8 replaced
		{`{"a":1,"a":2}`, `{"a":1,"a":2}`, nil},                             // duplicates kept (readers: the last wins)
		{`null`, "", op.ErrProfileNotObject},
		{`[]`, "", op.ErrProfileNotObject},
		{`"x"`, "", op.ErrProfileNotObject},
		{`1`, "", op.ErrProfileNotObject},
		{`{"a":}`, "", op.ErrProfileNotObject},
		{`{} {}`, "", op.ErrProfileNotObject},
		{``, "", op.ErrProfileNotObject},
		{`{"s":"` + string(bytes.Repeat([]byte("x"), 40)) + `"}`, "", op.ErrProfileTooLarge},
	} {
		p, err := op.ParseProfile([]byte(tc.in), 40)
		if !errors.Is(err, tc.err) || (tc.err == nil && p.String() != tc.want) {
			t.Errorf("ParseProfile(%q) = %s, %v; want %s, %v", tc.in, p, err, tc.want, tc.err)
		}
	}
	if p, _ := op.ParseProfile([]byte(`{ }`), 0); !p.IsZero() || !p.Equal(op.Profile{}) {
		t.Errorf("ParseProfile({ }) = %s, want the zero Profile", p)
	}
	in := []byte(`{"a":1}`)
	p := op.MustProfile(string(in))
	in[1] = 'b'
	if p.String() != `{"a":1}` {
		t.Errorf("the profile aliases its input: %s", p)
	}
}

// TestProfileInStructs: a Profile is written into JSON as its text (the
// zero Profile as {}) and read back from an object or null; it is refused
// where the JSON has anything else.
func TestProfileInStructs(t *testing.T) {
	type holder struct {
		P op.Profile `json:"p"`
	}
	for _, tc := range []struct{ p, want string }{{`{}`, `{"p":{}}`}, {`{"x":[1,"<"]}`, `{"p":{"x":[1,"\u003c"]}}`}} {
		b, err := json.Marshal(holder{P: op.MustProfile(tc.p)})
		if err != nil || string(b) != tc.want {
			t.Errorf("Marshal(%s) = %s, %v; want %s", tc.p, b, err, tc.want)
		}
		// Read back: the same value, as encoding/json wrote it (< escaped).
		var h holder
		if err := json.Unmarshal(b, &h); err != nil || !reflect.DeepEqual(decode(t, h.P.JSON()), decode(t, []byte(tc.p))) {
			t.Errorf("Unmarshal(%s) = %s, %v; want %s", b, h.P, err, tc.p)
		}
	}
	var h holder
	if err := json.Unmarshal([]byte(`{"p":null}`), &h); err != nil || !h.P.IsZero() {
		t.Errorf("Unmarshal of null = %s, %v; want {}", h.P, err)
	}
	for _, bad := range []string{`{"p":[]}`, `{"p":"{}"}`, `{"p":1}`} {
		if err := json.Unmarshal([]byte(bad), &h); !errors.Is(err, op.ErrProfileNotObject) {
			t.Errorf("Unmarshal(%s) = %v, want ErrProfileNotObject", bad, err)
		}
	}
}

// FuzzParseProfile: any JSON object becomes a Profile that is compact,
// valid UTF-8, and the same value (numbers as their text) — and parsing it
// again changes nothing; anything else is refused.
func FuzzParseProfile(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, ` { "n" : [1.50, -0e3, {"d": "é\u2028<"}], "t": true } `,
		`[]`, `null`, `"s"`, `{"a":}`, "{\"x\":\"\xc3\"}", `{"a":{"b":{"c":[[],[{}]]}}}`, `{"big":123456789012345678901234567890}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := op.ParseProfile(b, 0)
		isObject := json.Valid(b) && bytes.HasPrefix(bytes.TrimSpace(b), []byte("{"))
		if !isObject {
			if err == nil {
				t.Fatalf("ParseProfile(%q) accepted a non-object: %s", b, p)
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseProfile(%q): %v", b, err)
		}
		out := p.JSON()
		if !utf8.Valid(out) || !json.Valid(out) {
			t.Fatalf("ParseProfile(%q) = %q: not valid UTF-8 JSON", b, out)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, out); err != nil || !bytes.Equal(compact.Bytes(), out) {
			t.Fatalf("ParseProfile(%q) = %q: not compact", b, out)
		}
		if utf8.Valid(b) && !reflect.DeepEqual(decode(t, b), decode(t, out)) {
			t.Fatalf("ParseProfile(%q) = %q: another value", b, out)
		}
		if again, err := op.ParseProfile(out, 0); err != nil || !again.Equal(p) {
			t.Fatalf("ParseProfile(ParseProfile(%q)) = %q, %v; want it unchanged", b, again.JSON(), err)
		}
		var via struct{ P op.Profile }
		enc, err := json.Marshal(struct{ P op.Profile }{p})
		if err != nil || json.Unmarshal(enc, &via) != nil || !reflect.DeepEqual(decode(t, via.P.JSON()), decode(t, out)) {
			t.Fatalf("Profile %q does not survive encoding/json: %s, %v", out, enc, err)
		}
	})
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return v
}
