package cluster

import (
	"encoding/json"
	"testing"
)

// TestReactWireForm: the hand-written react form is json.Marshal's, reads
// back as json.Unmarshal reads it, and everything else falls back.
func TestReactWireForm(t *testing.T) {
	for _, c := range []struct{ room, uid, reaction string }{
		{"lg-big", "guest-0123abcd", "👏"},
		{"room_1", "alice", "❤️"},
		{"r", "ü-ß", "🤣"},
	} {
		q := request{Op: opReact, Room: c.room, UserID: c.uid, Reaction: c.reaction}
		want, err := json.Marshal(&q)
		if err != nil {
			t.Fatal(err)
		}
		got := encodeReact(c.room, c.uid, c.reaction)
		if string(got) != string(want) {
			t.Errorf("encodeReact = %s, json.Marshal = %s", got, want)
		}
		back, ok := decodeReact(got)
		if !ok || back.Op != q.Op || back.Room != q.Room || back.UserID != q.UserID || back.Reaction != q.Reaction {
			t.Errorf("decodeReact(%s) = %+v, %v", got, back, ok)
		}
	}
	for _, odd := range []struct{ room, uid, reaction string }{
		{`a"b`, "u", "x"}, {"a", `u\v`, "x"}, {"a", "u", "x\ny"}, {"a&b", "u", "x"}, {"a", "u", "\u2028"}, {"a", "\xff", "x"},
	} {
		if b := encodeReact(odd.room, odd.uid, odd.reaction); b != nil {
			t.Errorf("encodeReact(%q, %q, %q) = %s, want the encoding/json fallback", odd.room, odd.uid, odd.reaction, b)
		}
	}
	for _, in := range []string{
		`{"op":"react","room":"a","uid":"b","reaction":"c","ring":1}`,
		`{"op":"react","room":"a\"x","uid":"b","reaction":"c"}`,
		`{"op":"react","uid":"b","room":"a","reaction":"c"}`,
		`{"op":"leave","room":"a","uid":"b"}`,
	} {
		if q, ok := decodeReact([]byte(in)); ok {
			t.Errorf("decodeReact(%s) = %+v, want the encoding/json fallback", in, q)
		}
	}
}
