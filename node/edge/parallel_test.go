package edge

import (
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestBigRoomFanOut: a room big enough to be fanned out by several
// goroutines gets each event exactly once per session, in the order the
// events were delivered, encoded once per dialect; viewer events still
// skip the sessions that may not see them and the subject's own.
func TestBigRoomFanOut(t *testing.T) {
	prev := runtime.GOMAXPROCS(4)
	defer runtime.GOMAXPROCS(prev)
	e, calls := newEdge()
	n := 5*fanoutChunk + 17
	subs := make([]*sub, n)
	for i := range subs {
		d := Venueless
		if i%3 == 0 {
			d = SocketIO
		}
		subs[i] = &sub{uid: "u" + strconv.Itoa(i), d: d}
		e.Join("big", subs[i], i%2 == 0)
	}
	kinds := []op.EventKind{op.EvSchedule, op.EvResourceUpdated, op.EvReaction}
	for _, k := range kinds {
		e.Deliver(&op.Event{Kind: k, Room: "big", Audience: op.ToRoom})
	}
	e.Deliver(&op.Event{Kind: op.EvViewerAdded, Room: "big", Audience: op.ToRoomViewers, Subject: "u0"})
	if calls[Venueless] != 4 || calls[SocketIO] != 4 {
		t.Errorf("encoder calls %v, want 4 per dialect", *calls)
	}
	for i, s := range subs {
		var want []string
		for _, k := range kinds {
			if s.d == Venueless {
				want = append(want, "v:"+string(k))
			} else if k == op.EvResourceUpdated {
				want = append(want, "s:"+string(k))
			}
		}
		if s.d == Venueless && i%2 == 0 && i != 0 {
			want = append(want, "v:"+string(op.EvViewerAdded))
		}
		if got := s.take(); !slices.Equal(got, want) {
			t.Fatalf("session %d (dialect %d) got %q, want %q", i, s.d, got, want)
		}
	}
}
