package edge

import (
	"slices"
	"sync"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// sub is a Subscriber that records what it is sent.
type sub struct {
	uid string
	d   Dialect

	mu       sync.Mutex
	frames   []string
	personal []op.EventKind
}

func (s *sub) UserID() string   { return s.uid }
func (s *sub) Dialect() Dialect { return s.d }
func (s *sub) Send(frame []byte) {
	s.mu.Lock()
	s.frames = append(s.frames, string(frame))
	s.mu.Unlock()
}
func (s *sub) SendFrames(frames [][]byte) {
	for _, f := range frames {
		s.Send(f)
	}
}
func (s *sub) SendPersonal(ev *op.Event) {
	s.mu.Lock()
	s.personal = append(s.personal, ev.Kind)
	s.mu.Unlock()
}

func (s *sub) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.frames
	s.frames = nil
	return out
}

// newEdge returns an edge whose encoders count their calls.
func newEdge() (*Edge, *[numDialects]int) {
	var calls [numDialects]int
	e := New("n1")
	e.SetEncoder(Venueless, func(ev *op.Event) ([]byte, bool) {
		calls[Venueless]++
		return []byte("v:" + string(ev.Kind)), true
	})
	e.SetEncoder(SocketIO, func(ev *op.Event) ([]byte, bool) {
		calls[SocketIO]++
		if ev.Kind != op.EvResourceUpdated {
			return nil, false // Valu clients do not get venueless room events
		}
		return []byte("s:" + string(ev.Kind)), true
	})
	return e, &calls
}

func TestFanOutEncodesOncePerDialect(t *testing.T) {
	e, calls := newEdge()
	a, b := &sub{uid: "a"}, &sub{uid: "b"}
	c := &sub{uid: "c", d: SocketIO}
	out := &sub{uid: "out"}
	for _, s := range []*sub{a, b, c, out} {
		e.Attach("", s)
	}
	for _, s := range []*sub{a, b, c} {
		e.Join("r", s, false)
	}
	e.Join("other", out, false)

	e.Deliver(&op.Event{Kind: op.EvReaction, Room: "r", Audience: op.ToRoom})
	if *calls != [numDialects]int{1, 1} {
		t.Fatalf("encoder calls = %v, want one per dialect", *calls)
	}
	for _, s := range []*sub{a, b} {
		if got := s.take(); !slices.Equal(got, []string{"v:room.reaction"}) {
			t.Fatalf("%s got %v", s.uid, got)
		}
	}
	if got := c.take(); len(got) != 0 {
		t.Fatalf("a dialect without the event got %v", got)
	}
	if got := out.take(); len(got) != 0 {
		t.Fatalf("a session outside the room got %v", got)
	}
	e.Deliver(&op.Event{Kind: op.EvResourceUpdated, Room: "r", Audience: op.ToRoom})
	if got := c.take(); !slices.Equal(got, []string{"s:resource.reaction.updated"}) {
		t.Fatalf("socket.io session got %v", got)
	}
	// A room without local sessions costs no encoding.
	before := *calls
	e.Deliver(&op.Event{Kind: op.EvReaction, Room: "empty", Audience: op.ToRoom})
	if *calls != before {
		t.Fatal("encoded an event for a room without sessions")
	}
}

func TestViewerEventsAudience(t *testing.T) {
	e, _ := newEdge()
	mod, mod2, plain := &sub{uid: "mod"}, &sub{uid: "mod"}, &sub{uid: "plain"}
	other := &sub{uid: "other"}
	e.Join("r", mod, true)
	e.Join("r", mod2, true)
	e.Join("r", plain, false)
	e.Join("r", other, true)
	e.Deliver(&op.Event{Kind: op.EvViewerAdded, Room: "r", Audience: op.ToRoomViewers, Subject: "mod"})
	if len(mod.take())+len(mod2.take()) != 0 {
		t.Fatal("a user was told about themselves")
	}
	if len(plain.take()) != 0 {
		t.Fatal("a session without room:viewers got a viewer event")
	}
	if got := other.take(); len(got) != 1 {
		t.Fatalf("a session with room:viewers got %v", got)
	}
	// Joining again updates the permission.
	e.Join("r", plain, true)
	e.Deliver(&op.Event{Kind: op.EvViewerRemoved, Room: "r", Audience: op.ToRoomViewers, Subject: "x"})
	if got := plain.take(); len(got) != 1 {
		t.Fatalf("after re-join with room:viewers: %v", got)
	}
}

func TestPartLastSessionOfUser(t *testing.T) {
	e, _ := newEdge()
	s1, s2 := &sub{uid: "u"}, &sub{uid: "u"}
	e.Join("r", s1, false)
	e.Join("r", s1, false) // twice: still one session
	e.Join("r", s2, false)
	if got := e.Rosters()["r"]; !slices.Equal(got, []string{"u"}) {
		t.Fatalf("Members = %v", got)
	}
	if e.Part("r", s1) {
		t.Fatal("parting the first of two sessions reported last")
	}
	if e.Part("r", s1) {
		t.Fatal("parting again reported last")
	}
	if !e.Part("r", s2) {
		t.Fatal("parting the last session did not report last")
	}
	if len(e.Rosters()) != 0 {
		t.Fatalf("Rosters after everyone left = %v", e.Rosters())
	}
	if e.Part("nope", s1) {
		t.Fatal("parting an unknown room reported last")
	}
}

func TestDetach(t *testing.T) {
	e, _ := newEdge()
	s1, s2 := &sub{uid: "u"}, &sub{uid: "u"}
	e.Attach("", s1)
	e.Attach("", s2)
	e.Join("a", s1, false)
	e.Join("b", s1, false)
	e.Join("b", s2, false)
	last := e.Detach(s1)
	if !slices.Equal(last, []string{"a"}) {
		t.Fatalf("Detach = %v, want [a] (s2 is still in b)", last)
	}
	if e.Sessions() != 1 {
		t.Fatalf("Sessions = %d", e.Sessions())
	}
	e.Deliver(&op.Event{Kind: op.EvReaction, Room: "a", Audience: op.ToRoom})
	if got := s1.take(); len(got) != 0 {
		t.Fatalf("a detached session got %v", got)
	}
}

func TestWorldEvents(t *testing.T) {
	e, calls := newEdge()
	a, b := &sub{uid: "a"}, &sub{uid: "b"}
	e.Attach("", a)
	e.Attach("", b)
	e.Join("r", a, false)
	e.Deliver(&op.Event{Kind: op.EvWorldUpdated, Audience: op.ToWorld, Personal: true})
	if calls[Venueless] != 0 {
		t.Fatal("a personal event was encoded once for everyone")
	}
	for _, s := range []*sub{a, b} {
		if !slices.Equal(s.personal, []op.EventKind{op.EvWorldUpdated}) {
			t.Fatalf("%s personal = %v", s.uid, s.personal)
		}
	}
	e.Deliver(&op.Event{Kind: op.EvRoomDelete, Room: "r", Audience: op.ToWorld})
	if len(a.take()) != 1 || len(b.take()) != 1 {
		t.Fatal("room.delete did not reach every session")
	}
	// The deleted room's local subscriptions are gone.
	if len(e.Rosters()) != 0 {
		t.Fatalf("Rosters after room.delete = %v", e.Rosters())
	}
	e.Deliver(&op.Event{Kind: op.EvReaction, Room: "r", Audience: op.ToRoom})
	if got := a.take(); len(got) != 0 {
		t.Fatalf("got %v for a deleted room", got)
	}
}

// TestViewerSubsCount: the count of sessions that see viewer events, which
// lets a room nobody may see the viewers of skip their fan-out, follows
// joins, permission changes and parts.
func TestViewerSubsCount(t *testing.T) {
	e, _ := newEdge()
	a, b := &sub{uid: "a"}, &sub{uid: "b"}
	count := func() int {
		e.subs.mu.RLock()
		defer e.subs.mu.RUnlock()
		if l := e.subs.rooms["r"]; l != nil {
			return l.viewerSubs
		}
		return -1
	}
	e.Join("r", a, false)
	e.Join("r", b, false)
	if count() != 0 {
		t.Fatalf("count %d with no session seeing viewers", count())
	}
	e.Join("r", a, true)
	e.Join("r", a, true)
	if count() != 1 {
		t.Fatalf("count %d after a may see viewers (twice)", count())
	}
	e.Deliver(&op.Event{Kind: op.EvViewerAdded, Room: "r", Audience: op.ToRoomViewers, Subject: "x"})
	if len(a.take()) != 1 || len(b.take()) != 0 {
		t.Fatal("viewer event not delivered to exactly a")
	}
	e.Join("r", a, false)
	if count() != 0 {
		t.Fatalf("count %d after a lost room:viewers", count())
	}
	e.Join("r", b, true)
	e.Part("r", b)
	if count() != 0 {
		t.Fatalf("count %d after b, who sees viewers, left", count())
	}
	e.Deliver(&op.Event{Kind: op.EvViewerAdded, Room: "r", Audience: op.ToRoomViewers, Subject: "y"})
	if len(a.take())+len(b.take()) != 0 {
		t.Fatal("a viewer event reached a session that may not see it")
	}
}

// TestWorldEventsStayInTheirWorld: a world event reaches the sessions
// attached to its world only.
func TestWorldEventsStayInTheirWorld(t *testing.T) {
	e, _ := newEdge()
	a, b := &sub{uid: "a"}, &sub{uid: "b"}
	e.Attach("expo", a)
	e.Attach("fair", b)
	e.Deliver(&op.Event{Kind: op.EvRoomDelete, Room: "r", Audience: op.ToWorld, World: "expo"})
	e.Deliver(&op.Event{Kind: op.EvWorldUpdated, Audience: op.ToWorld, Personal: true, World: "expo"})
	if len(a.take()) != 1 || !slices.Equal(a.personal, []op.EventKind{op.EvWorldUpdated}) {
		t.Fatalf("expo's session got %v and personal %v", a.take(), a.personal)
	}
	if got := b.take(); len(got) != 0 || len(b.personal) != 0 {
		t.Fatalf("fair's session got %v and personal %v of expo", got, b.personal)
	}
}
