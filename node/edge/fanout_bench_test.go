package edge_test

import (
	"strconv"
	"testing"

	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/venueless"
)

// Broadcast encode + fan-out to N local sessions (docs/benchmarks.md):
//
//	go test ./node/edge -run '^$' -bench . -benchmem
//
// The sessions queue the shared frame like session.Conn.Send does (a
// non-blocking send on a bounded channel); the socket writes are the load
// generator's business.

type queueSub struct {
	id  string
	out chan []byte
}

func (s *queueSub) UserID() string         { return s.id }
func (s *queueSub) Dialect() edge.Dialect  { return edge.Venueless }
func (s *queueSub) SendPersonal(*op.Event) {}
func (s *queueSub) SendFrames(frames [][]byte) {
	for _, f := range frames {
		s.Send(f)
	}
}
func (s *queueSub) Send(frame []byte) {
	select {
	case s.out <- frame:
	default:
	}
}

func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{100, 10_000} {
		b.Run("sessions="+strconv.Itoa(n), func(b *testing.B) {
			e := edge.New("local")
			e.SetEncoder(edge.Venueless, venueless.EncodeEvent)
			subs := make([]*queueSub, n)
			for i := range subs {
				subs[i] = &queueSub{id: "u" + strconv.Itoa(i), out: make(chan []byte, 1)}
				e.Join("room_1", subs[i], false)
			}
			ev := &op.Event{Kind: op.EvSchedule, Room: "room_1", Audience: op.ToRoom,
				Data: op.Schedule{Room: "room_1", ScheduleData: map[string]any{"title": "lg:1700000000123456789"}}}
			b.ReportAllocs()
			for b.Loop() {
				e.Deliver(ev)
				b.StopTimer()
				for _, s := range subs {
					<-s.out
				}
				b.StartTimer()
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
		})
	}
}
