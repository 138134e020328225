package socketio

import (
	"encoding/json"
	"testing"
)

// BenchmarkFrameSetReaction measures what one resource:setReaction message
// costs to decode on the way to the engine, payload included:
//
//	go test ./node/protocol/socketio -run '^$' -bench FrameSetReaction -benchmem
//
// Before decode-once this is the packet decode, the event array, the
// request envelope and the engine's second unmarshal of data (mirrored
// here).
func BenchmarkFrameSetReaction(b *testing.B) {
	msg := []byte(`4217["resource:setReaction",{"data":{"room":"room_1","resource":"talk-1","reaction":"👏"},"event":{"id":"e-1","date":1700000000000}}]`)
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
		_, args, err := p.EventArgs()
		if err != nil {
			b.Fatal(err)
		}
		req, rerr := parseRequest(args)
		if rerr != nil {
			b.Fatal(rerr)
		}
		var body struct {
			Room       string `json:"room"`
			Resource   string `json:"resource"`
			ResourceID string `json:"resourceId"`
			Comment    string `json:"comment"`
			Reaction   string `json:"reaction"`
		}
		if err := json.Unmarshal(req.Data, &body); err != nil || body.Reaction == "" {
			b.Fatal(err)
		}
	}
}
