package edge

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

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

// gateSub is a session whose first Send waits for the gate, as a fan-out
// busy writing sockets would; it records its Send and SendFrames calls.
type gateSub struct {
	sub
	gate    chan struct{}
	entered chan struct{}
	once    sync.Once
	batches [][]string
}

func (s *gateSub) Send(frame []byte) {
	s.once.Do(func() { close(s.entered); <-s.gate })
	s.sub.Send(frame)
}

func (s *gateSub) SendFrames(frames [][]byte) {
	s.mu.Lock()
	var b []string
	for _, f := range frames {
		b = append(b, string(f))
	}
	s.batches = append(s.batches, b)
	s.mu.Unlock()
	for _, f := range frames {
		s.sub.Send(f)
	}
}

// TestLaneGathersEventsDuringFanOut: events delivered to a room while its
// fan-out runs return at once and go out after it, in order, each session
// getting them with one SendFrames; an event for viewers in the batch
// reaches only the sessions that see viewers.
func TestLaneGathersEventsDuringFanOut(t *testing.T) {
	e := New("n1")
	e.SetEncoder(Venueless, func(ev *op.Event) ([]byte, bool) {
		return []byte(string(ev.Kind) + ":" + ev.Subject), true
	})
	slow := &gateSub{sub: sub{uid: "slow"}, gate: make(chan struct{}), entered: make(chan struct{})}
	other := &gateSub{sub: sub{uid: "other"}, gate: make(chan struct{}), entered: make(chan struct{})}
	close(other.gate)
	e.Join("r", slow, false)
	e.Join("r", other, true)
	first := make(chan struct{})
	go func() {
		e.Deliver(&op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom, Subject: "0"})
		close(first)
	}()
	<-slow.entered
	var want []string
	for i := 1; i <= 5; i++ {
		e.Deliver(&op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom, Subject: strconv.Itoa(i)})
		want = append(want, string(op.EvSchedule)+":"+strconv.Itoa(i))
	}
	// (a viewer audience; not a viewer event, whose bookkeeping would
	// wait for the running fan-out)
	e.Deliver(&op.Event{Kind: op.EvReaction, Room: "r", Audience: op.ToRoomViewers, Subject: "x"})
	select {
	case <-first:
		t.Fatal("the first fan-out ended before its session took the frame")
	default:
	}
	close(slow.gate)
	<-first
	if got := slow.take(); !slices.Equal(got, append([]string{string(op.EvSchedule) + ":0"}, want...)) {
		t.Errorf("slow session got %q", got)
	}
	if len(slow.batches) != 1 || len(slow.batches[0]) != 5 {
		t.Errorf("slow session's SendFrames calls: %q, want one of 5 frames", slow.batches)
	}
	wantOther := append(append([]string{string(op.EvSchedule) + ":0"}, want...), string(op.EvReaction)+":x")
	if got := other.take(); !slices.Equal(got, wantOther) {
		t.Errorf("viewer-seeing session got %q, want %q", got, wantOther)
	}
}

// TestLaneConcurrentDeliveries: events delivered by many goroutines at
// once reach every session exactly once, each goroutine's in its order.
func TestLaneConcurrentDeliveries(t *testing.T) {
	e := New("n1")
	e.SetEncoder(Venueless, func(ev *op.Event) ([]byte, bool) { return []byte(ev.Subject), true })
	subs := make([]*sub, 50)
	for i := range subs {
		subs[i] = &sub{uid: "u" + strconv.Itoa(i)}
		e.Join("r", subs[i], false)
	}
	const producers, each = 8, 300
	var wg sync.WaitGroup
	for p := range producers {
		wg.Go(func() {
			for i := range each {
				e.Deliver(&op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom, Subject: fmt.Sprintf("%d/%d", p, i)})
			}
		})
	}
	wg.Wait()
	for _, s := range subs {
		got := s.take()
		if len(got) != producers*each {
			t.Fatalf("session %s got %d frames, want %d", s.uid, len(got), producers*each)
		}
		next := make([]int, producers)
		for _, f := range got {
			var p, i int
			if _, err := fmt.Sscanf(f, "%d/%d", &p, &i); err != nil || i != next[p] {
				t.Fatalf("session %s: frame %q out of order (want %d/%d)", s.uid, f, p, next[p])
			}
			next[p]++
		}
	}
}

// firstGate blocks the first Send of any of its sessions until opened.
type firstGate struct {
	once    sync.Once
	entered chan *gatedSub
	open    chan struct{}
}

// gatedSub tells got of each frame it is sent.
type gatedSub struct {
	sub
	g   *firstGate
	got chan string
}

func (s *gatedSub) Send(frame []byte) {
	s.g.once.Do(func() { s.g.entered <- s; <-s.g.open })
	s.sub.Send(frame)
	s.got <- string(frame)
}

// TestPostDoesNotWait: Post returns while the fan-out it started is still
// writing, and the edge is not locked meanwhile: a session can part, and
// then gets nothing of the batch.
func TestPostDoesNotWait(t *testing.T) {
	e, _ := newEdge()
	g := &firstGate{entered: make(chan *gatedSub, 1), open: make(chan struct{})}
	a := &gatedSub{sub: sub{uid: "a"}, g: g, got: make(chan string, 4)}
	b := &gatedSub{sub: sub{uid: "b"}, g: g, got: make(chan string, 4)}
	e.Join("r", a, false)
	e.Join("r", b, false)
	e.Post(&op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom})
	first := <-g.entered // the fan-out is writing to first; Post has returned
	other := a
	if first == a {
		other = b
	}
	e.Part("r", other)
	// Queued behind the running batch: once first has it, that batch is done.
	e.Post(&op.Event{Kind: op.EvReaction, Room: "r", Audience: op.ToRoom})
	close(g.open)
	for _, want := range []op.EventKind{op.EvSchedule, op.EvReaction} {
		select {
		case f := <-first.got:
			if f != "v:"+string(want) {
				t.Fatalf("session %s got %q, want v:%s", first.uid, f, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("session %s did not get %s", first.uid, want)
		}
	}
	if got := other.take(); len(got) != 0 {
		t.Errorf("session %s, parted during the fan-out, got %q", other.uid, got)
	}
}

// TestLaneBackPressure: while a fan-out is stuck, a room's lane takes
// laneMax events; the next Post waits for room instead of growing the
// queue, and once the fan-out moves on every event arrives, in order.
func TestLaneBackPressure(t *testing.T) {
	e := New("n1")
	e.SetEncoder(Venueless, func(ev *op.Event) ([]byte, bool) { return []byte(ev.Subject), true })
	s := &gateSub{sub: sub{uid: "s"}, gate: make(chan struct{}), entered: make(chan struct{})}
	e.Join("r", s, false)
	ev := func(i int) *op.Event {
		return &op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom, Subject: strconv.Itoa(i)}
	}
	e.Post(ev(0))
	<-s.entered // the fan-out of event 0 is stuck in Send
	for i := 1; i <= laneMax; i++ {
		e.Post(ev(i)) // queued: returns at once
	}
	done := make(chan struct{})
	go func() {
		e.Post(ev(laneMax + 1))
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a Post into a full lane returned while the fan-out was stuck")
	case <-time.After(100 * time.Millisecond): // a wait that should not end; the bound of a negative check
	}
	close(s.gate)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting Post did not return once the lane drained")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.mu.Lock()
		n := len(s.frames)
		s.mu.Unlock()
		if n == laneMax+2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d frames, want %d", n, laneMax+2)
		}
		time.Sleep(time.Millisecond) // poll interval of a condition wait with a deadline
	}
	for i, f := range s.take() {
		if f != strconv.Itoa(i) {
			t.Fatalf("frame %d is %q", i, f)
		}
	}
}
