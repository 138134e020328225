package room

import (
	"strconv"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// TestOccupancyOfABigRoom: 45,000 users entering and leaving one room
// cost four world.user_count_change events in all, not one per user.
func TestOccupancyOfABigRoom(t *testing.T) {
	m, rec, _ := newManager(t)
	const n = 45_000
	for i := range n {
		m.Join("stage", u("u"+strconv.Itoa(i)), "e"+strconv.Itoa(i%3))
	}
	for i := range n {
		m.Leave("stage", "u"+strconv.Itoa(i), "e"+strconv.Itoa(i%3))
	}
	want := []op.Occupancy{op.OccupancyFew, op.OccupancyMany, op.OccupancyFew, op.OccupancyNone}
	got := rec.takeCounts()
	if len(got) != len(want) {
		t.Fatalf("published %d occupancy events, want %d: %v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].Users != want[i] {
			t.Fatalf("published %v, want %v", got, want)
		}
	}
}

// BenchmarkJoinLeave is a user's enter and leave of a busy room on its
// owner, occupancy check included.
func BenchmarkJoinLeave(b *testing.B) {
	pub := &countingPublisher{}
	m := NewManager(Config{ReactionWindow: time.Hour, ReactionDebounce: time.Second}, pub)
	defer m.Close()
	for i := range 1000 {
		m.Join("stage", op.User{ID: "resident" + strconv.Itoa(i)}, "e1")
	}
	user := op.User{ID: "visitor"}
	b.ReportAllocs()
	for b.Loop() {
		m.Join("stage", user, "e2")
		m.Leave("stage", user.ID, "e2")
	}
}
