package announce

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// fakeClock holds the scheduled calls until the test fires them.
type fakeClock struct {
	mu      sync.Mutex
	pending []*fakeTimer
}

type fakeTimer struct {
	clock   *fakeClock
	d       time.Duration
	f       func()
	stopped bool
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{clock: c, d: d, f: f}
	c.pending = append(c.pending, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// armed is how many calls wait, stopped ones left out.
func (c *fakeClock) armed() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, t := range c.pending {
		if !t.stopped {
			n++
		}
	}
	return n
}

// fire runs the oldest waiting call (the window's end); false if none.
func (c *fakeClock) fire(tb testing.TB) bool {
	c.mu.Lock()
	var t *fakeTimer
	for len(c.pending) > 0 && t == nil {
		t, c.pending = c.pending[0], c.pending[1:]
		if t.stopped {
			t = nil
		}
	}
	c.mu.Unlock()
	if t == nil {
		return false
	}
	if t.d != time.Second {
		tb.Errorf("window %s, want 1s", t.d)
	}
	t.f()
	return true
}

func rename(id, to string) catalog.Change {
	return catalog.Change{ID: id, Before: &catalog.Room{ID: id, Name: id}, After: &catalog.Room{ID: id, Name: to},
		Cause: catalog.CauseUpdate}
}

func TestCoalescedWorldUpdated(t *testing.T) {
	clock := &fakeClock{}
	var got recorder
	a := NewWithClock(&got, time.Second, clock)
	a.Changes(rename("a", "1"))
	if !slices.Equal(got, recorder{"world.updated:"}) || clock.armed() != 1 {
		t.Fatalf("first change of a quiet period: got %v, %d windows, want one world.updated at once and a window", got, clock.armed())
	}
	for i := range 100 {
		a.Changes(rename("a", string(rune('A'+i%26))))
	}
	a.Changes(catalog.Change{ID: "b", After: &catalog.Room{ID: "b"}, Cause: catalog.CauseCreate})
	a.Changes(catalog.Change{ID: "c", Before: &catalog.Room{ID: "c"}, Cause: catalog.CauseDelete})
	want := recorder{"world.updated:", "room.create:b", "room.delete:c"}
	if !slices.Equal(got, want) {
		t.Fatalf("during the window: got %v, want %v (room.create and room.delete at once)", got, want)
	}
	clock.fire(t) // the window ends: one push for the 100 renames, and a new window
	want = append(want, "world.updated:")
	if !slices.Equal(got, want) || clock.armed() != 1 {
		t.Fatalf("window's end: got %v, %d windows, want %v and a window", got, clock.armed(), want)
	}
	clock.fire(t) // a window without changes: quiet again
	if !slices.Equal(got, want) || clock.armed() != 0 {
		t.Fatalf("quiet window: got %v, %d windows, want %v and none", got, clock.armed(), want)
	}
	a.Changes(rename("a", "2")) // a new quiet period: at once
	want = append(want, "world.updated:")
	if !slices.Equal(got, want) {
		t.Fatalf("after a quiet window: got %v, want %v", got, want)
	}
}

func TestCoalescerClose(t *testing.T) {
	clock := &fakeClock{}
	var got recorder
	a := NewWithClock(&got, time.Second, clock)
	a.Changes(rename("a", "1"))
	a.Changes(rename("a", "2"))
	a.Close()
	a.Close()
	if clock.armed() != 0 {
		t.Fatal("the window's timer still runs after Close")
	}
	a.Changes(rename("a", "3"))
	a.Changes(catalog.Change{ID: "b", After: &catalog.Room{ID: "b"}, Cause: catalog.CauseCreate})
	if want := (recorder{"world.updated:", "room.create:b"}); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v (the pending push dropped, none after Close)", got, want)
	}
}

// blockingDeliverer holds each world.updated until released, to see
// pushes never overlap.
type blockingDeliverer struct {
	started chan struct{}
	release chan struct{}
}

func (b *blockingDeliverer) Deliver(ev *op.Event) {
	if ev.Kind == op.EvWorldUpdated {
		b.started <- struct{}{}
		<-b.release
	}
}

// TestCoalescerRequestDuringPush: a change made while the first push is
// being delivered is pushed after the window, by a push that starts after
// it (the first may have read the catalog before the change).
func TestCoalescerRequestDuringPush(t *testing.T) {
	clock := &fakeClock{}
	d := &blockingDeliverer{started: make(chan struct{}), release: make(chan struct{})}
	a := NewWithClock(d, time.Second, clock)
	done := make(chan struct{})
	go func() { a.Changes(rename("a", "1")); close(done) }()
	<-d.started
	a.Changes(rename("a", "2")) // returns at once: folded into the next push
	if clock.armed() != 0 {
		t.Fatal("the window opened before the push ended")
	}
	d.release <- struct{}{}
	<-done
	if clock.armed() != 1 {
		t.Fatalf("%d windows after the push, want 1", clock.armed())
	}
	go clock.fire(t)
	<-d.started // the pending change's push
	d.release <- struct{}{}
}

func TestConfigValidate(t *testing.T) {
	for _, w := range []time.Duration{0, time.Millisecond, MaxWorldUpdateWindow} {
		if err := (Config{WorldUpdateWindow: w}).Validate(); err != nil {
			t.Errorf("%s: %v", w, err)
		}
	}
	for _, w := range []time.Duration{-1, MaxWorldUpdateWindow + 1} {
		if err := (Config{WorldUpdateWindow: w}).Validate(); err == nil {
			t.Errorf("%s accepted", w)
		}
	}
}
