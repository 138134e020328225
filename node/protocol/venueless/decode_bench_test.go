package venueless

import (
	"testing"

	"github.com/roomring/roomring/node/op"
)

// BenchmarkFrameReact measures what one room.react frame costs to decode
// on the way to the engine, payload included:
//
//	go test ./node/protocol/venueless -run '^$' -bench FrameReact -benchmem
//
// Decode splits the array and decodes the payload once, into op.React; the
// engine decodes nothing. (Before decode-once, the codec decoded the array
// into raw elements and the engine unmarshalled the payload again: 20
// allocs/frame.)
func BenchmarkFrameReact(b *testing.B) {
	frame := []byte(`["room.react",1234,{"room":"room_1","reaction":"👏"}]`)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		if r, ok := f.Op.(op.React); !ok || r.Reaction == "" {
			b.Fatalf("decoded %#v", f.Op)
		}
	}
}
