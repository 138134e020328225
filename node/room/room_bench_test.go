package room

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// Reaction aggregation on the owner (docs/benchmarks.md):
//
//	go test ./node/room -run '^$' -bench . -benchmem

type countingPublisher struct{ n atomic.Int64 }

func (p *countingPublisher) Publish([]string, *op.Event) { p.n.Add(1) }

// BenchmarkReact counts reactions of distinct users in one room from all
// cores at once: the owner's ingest path (room lock, debounce, counts).
func BenchmarkReact(b *testing.B) {
	pub := &countingPublisher{}
	m := NewManager(Config{ReactionWindow: time.Hour, ReactionDebounce: 2 * time.Second}, pub)
	defer m.Close()
	users := make([]string, 1<<16)
	for i := range users {
		users[i] = "u" + strconv.Itoa(i)
	}
	emoji := []string{"👏", "❤️", "👍", "🤣", "😮"}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := next.Add(1)
			m.React("room_1", users[i%int64(len(users))], emoji[(i>>16)%5])
		}
	})
}

// BenchmarkFlush publishes a window's counts of 100 rooms whose 10,000
// users reacted (debounce entries to prune included).
func BenchmarkFlush(b *testing.B) {
	pub := &countingPublisher{}
	m := NewManager(Config{ReactionWindow: time.Hour, ReactionDebounce: time.Nanosecond}, pub)
	defer m.Close()
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		for u := range 10_000 {
			m.React("room_"+strconv.Itoa(u%100), "u"+strconv.Itoa(u), "👏")
		}
		b.StartTimer()
		m.flush()
	}
}
