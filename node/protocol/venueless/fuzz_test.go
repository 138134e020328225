package venueless_test

import (
	"testing"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/venueless"
)

// FuzzDecode checks that no input crashes the frame decoder and that every
// frame it accepts has an action and re-encodes as a valid reply.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`["ping", 1]`, `["authenticate", {"token": "x"}]`, `["room.enter", 1, {"room": "room_1"}]`,
		`["room.config.reorder", "a", ["x", "y"]]`, `[]`, `{}`, `[1, 2, 3]`, `["a", 1, 2, 3]`, "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := venueless.Decode(b)
		if err != nil {
			return
		}
		if fr.Action == "" {
			t.Fatalf("accepted frame without action: %q", b)
		}
		_ = venueless.Success(fr.ID, fr.Body)
		_ = venueless.Error(fr.ID, &op.Error{Code: op.CodeBadRequest, Message: string(b)})
	})
}
