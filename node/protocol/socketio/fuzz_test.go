package socketio_test

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/protocol/socketio"
)

var seeds = []string{
	"0", "1", "2", "2probe", "3", "3probe", "5", "6",
	"40", `40{"token":"x"}`, "40/admin,", `40/admin?x=1,`, "41", "41/admin,",
	`42["room:join",{"data":{"room":"room_1"},"event":{"id":"a","date":1}}]`,
	`4212["resource:getReactions",{"data":{"resourceId":"r"}}]`,
	`42/admin,13["foo"]`, `4312["bar"]`, `431[]`, `451-["baz",{"_placeholder":true,"num":0}]`,
	`451-14["foo",{"_placeholder":true,"num":0}]`, `461-15["bar",{"_placeholder":true,"num":0}]`,
	`44{"message":"no"}`, `44"no"`, "42", "42[]", "42[1]", `42{"a":1}`, "4999999999999999999[]",
	"47", "4", "", "7", "\x04binary", `42["x"`, `455-["x"]`, `4299-["x"]`, `45-1["x"]`,
}

// FuzzDecodePacket checks that no input crashes the Socket.IO packet
// decoder, that every accepted packet satisfies the invariants the handler
// relies on, and that accepted events re-encode to an equal packet.
func FuzzDecodePacket(f *testing.F) {
	for _, s := range seeds {
		if len(s) > 0 && s[0] == '4' {
			f.Add([]byte(s[1:]))
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := socketio.DecodePacket(b)
		if err != nil {
			return
		}
		if p.Type > socketio.BinaryAck {
			t.Fatalf("accepted unknown type %d from %q", p.Type, b)
		}
		if p.Attachments < 0 || p.Attachments > socketio.MaxAttachments {
			t.Fatalf("attachments %d out of range from %q", p.Attachments, b)
		}
		if p.Namespace == "" || p.Namespace[0] != '/' {
			t.Fatalf("namespace %q from %q", p.Namespace, b)
		}
		if p.HasID && p.ID < 0 {
			t.Fatalf("negative id from %q", b)
		}
		if p.Data != nil && !json.Valid(p.Data) {
			t.Fatalf("invalid JSON payload accepted from %q", b)
		}
		if p.Type != socketio.Event || p.Namespace != "/" {
			return
		}
		name, args, err := p.EventArgs()
		if err != nil || name == "" {
			t.Fatalf("accepted event without name from %q: %v", b, err)
		}
		anyArgs := make([]any, len(args))
		for i, a := range args {
			anyArgs[i] = a
		}
		enc := socketio.EncodeEvent(name, anyArgs...)
		q, err := socketio.DecodePacket(enc[1:])
		if err != nil {
			t.Fatalf("re-encoded event %q does not decode: %v", enc, err)
		}
		name2, args2, _ := q.EventArgs()
		if name2 != name || len(args2) != len(args) {
			t.Fatalf("round trip of %q changed the event: %q", b, enc)
		}
		if p.HasID {
			ack := socketio.EncodeAck(p.ID, json.RawMessage(`{"data":null}`))
			a, err := socketio.DecodePacket(ack[1:])
			if err != nil || a.Type != socketio.Ack || a.ID != p.ID {
				t.Fatalf("ack %q for id %d does not decode: %+v %v", ack, p.ID, a, err)
			}
		}
	})
}

// FuzzSplitEngine checks the Engine.IO layer: no crash, and an accepted
// message's type is a known packet type and its payload a suffix of it.
func FuzzSplitEngine(f *testing.F) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		typ, payload, err := socketio.SplitEngine(b)
		if err != nil {
			return
		}
		if typ < socketio.EIOOpen || typ > socketio.EIONoop {
			t.Fatalf("accepted engine.io type %q", typ)
		}
		if !bytes.HasSuffix(b, payload) || len(payload) != len(b)-1 {
			t.Fatalf("payload %q is not the rest of %q", payload, b)
		}
	})
}
