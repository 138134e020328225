package socketio

import "testing"

// go test ./node/protocol/socketio -run '^$' -bench . -benchmem

// setReactionFrame is the Engine.IO message of one resource:setReaction
// emit with an ack, as socket.io-client sends it; both benchmarks decode it.
const setReactionFrame = `4217["resource:setReaction",{"data":{"room":"room_1","resource":"talk-1","reaction":"👏"},"event":{"id":"e-1","date":1700000000000}}]`

func BenchmarkDecodeEvent(b *testing.B) {
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
		if _, _, err := p.EventArgs(); err != nil {
			b.Fatal(err)
		}
	}
}
