package venueless

import (
	"encoding/json"
	"testing"
)

// BenchmarkFrameReact measures what one room.react frame costs to decode
// on the way to the engine, payload included:
//
//	go test ./node/protocol/venueless -run '^$' -bench FrameReact -benchmem
//
// Before decode-once this is the codec's envelope decode plus the engine's
// second unmarshal of the payload (mirrored here).
func BenchmarkFrameReact(b *testing.B) {
	frame := []byte(`["room.react",1234,{"room":"room_1","reaction":"👏"}]`)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		f, err := Decode(frame)
		if err != nil {
			b.Fatal(err)
		}
		var body struct {
			Room     string `json:"room"`
			Reaction string `json:"reaction"`
		}
		if err := json.Unmarshal(f.Body, &body); err != nil || body.Reaction == "" {
			b.Fatal(err)
		}
	}
}
