package socketio

import (
	"testing"

	"github.com/roomring/roomring/node/op"
)

// BenchmarkFrameSetReaction measures what one resource:setReaction message
// costs to decode on the way to the engine, payload included:
//
//	go test ./node/protocol/socketio -run '^$' -bench FrameSetReaction -benchmem
//
// The packet header is split off by hand, the event array into raw
// elements, and the request (data and event) is decoded once, into
// op.SetResourceReaction; the engine decodes nothing. (Before decode-once:
// event array, envelope, event and the engine's unmarshal of data, 50
// allocs/frame.)
func BenchmarkFrameSetReaction(b *testing.B) {
	msg := []byte(setReactionFrame)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		_, payload, err := SplitEngine(msg)
		if err != nil {
			b.Fatal(err)
		}
		p, err := DecodePacket(payload)
		if err != nil {
			b.Fatal(err)
		}
		name, args, err := p.EventArgs()
		if err != nil {
			b.Fatal(err)
		}
		req, rerr := decodeRequest(endpoints[name], args)
		if rerr != nil {
			b.Fatal(rerr)
		}
		if r, ok := req.Op.(op.SetResourceReaction); !ok || r.Reaction == "" || req.EventID != "e-1" {
			b.Fatalf("decoded %#v", req)
		}
	}
}
