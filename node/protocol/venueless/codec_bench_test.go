package venueless

import (
	"testing"

	"github.com/roomring/roomring/node/op"
)

// Hot-path micro-benchmarks (docs/benchmarks.md):
//
//	go test ./node/protocol/venueless -run '^$' -bench . -benchmem

func BenchmarkDecodeReact(b *testing.B) {
	frame := []byte(`["room.react",1234,{"room":"room_1","reaction":"👏"}]`)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeSuccess(b *testing.B) {
	id := []byte("1234")
	b.ReportAllocs()
	for b.Loop() {
		_ = Success(id, struct{}{})
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	for _, tc := range []struct {
		name string
		ev   *op.Event
	}{
		{"schedule", &op.Event{Kind: op.EvSchedule, Room: "room_1", Data: op.Schedule{Room: "room_1",
			ScheduleData: map[string]any{"title": "lg:1700000000123456789"}}}},
		{"reaction", &op.Event{Kind: op.EvReaction, Room: "room_1", Data: op.Reaction{Room: "room_1",
			Reactions: map[string]int{"👏": 120, "❤️": 33, "👍": 7}}}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = EncodeEvent(tc.ev)
			}
		})
	}
}
