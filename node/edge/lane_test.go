package edge

import (
	"strconv"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestLaneBatches: the first add makes its caller the runner, later ones
// queue; the runner takes the events in order, laneBatch at a time, and
// the lane is idle again once it is empty.
func TestLaneBatches(t *testing.T) {
	var ln lane
	ln.init()
	n := laneBatch + 3
	for i := range n {
		ev := &op.Event{Subject: strconv.Itoa(i)}
		if got := ln.add(ev); got != (i == 0) {
			t.Fatalf("add %d: runner %v", i, got)
		}
	}
	var sizes []int
	next := 0
	ln.drain(func(batch []*op.Event) {
		sizes = append(sizes, len(batch))
		for _, ev := range batch {
			if ev.Subject != strconv.Itoa(next) {
				t.Fatalf("event %q, want %d", ev.Subject, next)
			}
			next++
		}
	})
	if len(sizes) != 2 || sizes[0] != laneBatch || sizes[1] != 3 {
		t.Fatalf("batch sizes %v, want [%d 3]", sizes, laneBatch)
	}
	if !ln.add(&op.Event{}) {
		t.Fatal("a drained lane did not make the next add's caller its runner")
	}
}
