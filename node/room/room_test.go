package room

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

// recorder is a Publisher that keeps what it is given: room events in
// got, the occupancy's world events in counts.
type recorder struct {
	mu     sync.Mutex
	got    []published
	counts []op.UserCount
}

type published struct {
	edges []string
	ev    *op.Event
}

func (r *recorder) Publish(edges []string, ev *op.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if uc, ok := ev.Data.(op.UserCount); ok {
		if ev.Audience != op.ToWorld || !ev.Personal || len(edges) != 0 {
			panic("user count published as a room event")
		}
		r.counts = append(r.counts, uc)
		return
	}
	e := slices.Clone(edges)
	slices.Sort(e)
	r.got = append(r.got, published{e, ev})
}

// takeCounts returns the occupancy events published since the last call.
func (r *recorder) takeCounts() []op.UserCount {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.counts
	r.counts = nil
	return out
}

func (r *recorder) take() []published {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

// newManager returns a Manager whose aggregation loop never fires on its
// own (tests call flush) and whose clock the test moves.
func newManager(t *testing.T) (*Manager, *recorder, *time.Time) {
	t.Helper()
	rec := &recorder{}
	m := NewManager(Config{ReactionWindow: time.Hour, ReactionDebounce: 2 * time.Second}, rec)
	t.Cleanup(m.Close)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	return m, rec, &now
}

func u(id string) op.User { return op.User{ID: id} }

func ids(us []op.User) []string {
	out := make([]string, len(us))
	for i, x := range us {
		out[i] = x.ID
	}
	return out
}

func TestViewersDedupedAcrossEdges(t *testing.T) {
	m, rec, _ := newManager(t)
	if got := ids(m.Enter("r", u("alice"), "e1")); !slices.Equal(got, []string{"alice"}) {
		t.Fatalf("viewers = %v", got)
	}
	p := rec.take()
	if len(p) != 1 || p[0].ev.Kind != op.EvViewerAdded || p[0].ev.Audience != op.ToRoomViewers ||
		p[0].ev.Subject != "alice" || !slices.Equal(p[0].edges, []string{"e1"}) {
		t.Fatalf("published %+v", p)
	}
	// alice again through another edge, and through the same edge: no event.
	m.Enter("r", u("alice"), "e2")
	m.Enter("r", u("alice"), "e1")
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("re-entry published %+v", p)
	}
	if got := ids(m.Enter("r", u("bob"), "e2")); !slices.Equal(got, []string{"alice", "bob"}) {
		t.Fatalf("viewers = %v", got)
	}
	if p := rec.take(); len(p) != 1 || !slices.Equal(p[0].edges, []string{"e1", "e2"}) {
		t.Fatalf("bob's entry published %+v, want to both edges", p)
	}
	if m.Viewers("r") != 2 {
		t.Fatalf("Viewers = %d", m.Viewers("r"))
	}

	m.Leave("r", "alice", "e1")
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("leaving one of two edges published %+v", p)
	}
	m.Leave("r", "alice", "e1") // again: no-op
	m.Leave("r", "carol", "e1") // never there: no-op
	m.Leave("x", "alice", "e1") // unknown room: no-op
	m.Leave("r", "alice", "e2")
	p = rec.take()
	if len(p) != 1 || p[0].ev.Kind != op.EvViewerRemoved || p[0].ev.Data.(op.ViewerRemoved).UserID != "alice" ||
		!slices.Equal(p[0].edges, []string{"e2"}) {
		t.Fatalf("last leave published %+v", p)
	}
	if rooms, viewers := m.Stats(); rooms != 1 || viewers != 1 {
		t.Fatalf("Stats = %d, %d", rooms, viewers)
	}
	// The last viewer leaving has nobody to tell.
	m.Leave("r", "bob", "e2")
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("last viewer's leave published %+v", p)
	}
}

func TestIncognitoViewer(t *testing.T) {
	m, rec, _ := newManager(t)
	m.Enter("r", u("mod"), "e1")
	rec.take()
	ghost := op.User{ID: "ghost", Incognito: true}
	if got := ids(m.Enter("r", ghost, "e1")); !slices.Equal(got, []string{"ghost", "mod"}) {
		t.Fatalf("the incognito user's own list = %v, want themselves included", got)
	}
	if got := ids(m.Enter("r", u("zed"), "e1")); !slices.Equal(got, []string{"mod", "zed"}) {
		t.Fatalf("others' list = %v, want no ghost", got)
	}
	m.Leave("r", "ghost", "e1")
	for _, p := range rec.take() {
		if p.ev.Subject == "ghost" {
			t.Fatalf("published about the incognito user: %+v", p.ev)
		}
	}
	if m.Viewers("r") != 2 {
		t.Fatalf("Viewers = %d", m.Viewers("r"))
	}
}

func TestDropEdge(t *testing.T) {
	m, rec, _ := newManager(t)
	m.Enter("r", u("a"), "e1")
	m.Enter("r", u("b"), "e1")
	m.Enter("r", u("b"), "e2")
	m.Enter("r", u("c"), "e2")
	rec.take()
	m.DropEdge("e1")
	p := rec.take()
	if len(p) != 1 || p[0].ev.Data.(op.ViewerRemoved).UserID != "a" || !slices.Equal(p[0].edges, []string{"e2"}) {
		t.Fatalf("DropEdge published %+v, want a removed, to e2", p)
	}
	if m.Viewers("r") != 2 {
		t.Fatalf("Viewers = %d", m.Viewers("r"))
	}
}

func reactionsOf(t *testing.T, p []published) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, x := range p {
		if x.ev.Kind != op.EvReaction || x.ev.Audience != op.ToRoom {
			t.Fatalf("unexpected %+v", x.ev)
		}
		out[x.ev.Room] = x.ev.Data.(op.Reaction).Reactions
	}
	return out
}

func TestReactionAggregationAndDebounce(t *testing.T) {
	m, rec, now := newManager(t)
	m.Enter("r", u("a"), "e1")
	m.Enter("q", u("a"), "e1")
	rec.take()

	for _, tc := range []struct {
		user, emoji string
		counted     bool
	}{
		{"a", "👏", true}, {"b", "👏", true}, {"a", "👏", false}, {"a", "❤️", true}, {"b", "👏", false},
	} {
		if got := m.React("r", tc.user, tc.emoji); got != tc.counted {
			t.Fatalf("React(%s, %s) = %v, want %v", tc.user, tc.emoji, got, tc.counted)
		}
	}
	m.React("q", "a", "👍") // debounce is per room
	m.flush()
	got := reactionsOf(t, rec.take())
	if want := map[string]int{"👏": 2, "❤️": 1}; !maps.Equal(got["r"], want) {
		t.Fatalf("r window = %v, want %v", got["r"], want)
	}
	if want := map[string]int{"👍": 1}; !maps.Equal(got["q"], want) {
		t.Fatalf("q window = %v, want %v", got["q"], want)
	}
	// A window without reactions publishes nothing.
	m.flush()
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("empty window published %+v", p)
	}
	// Still within 2 s: not counted; at 2 s: counted again.
	*now = now.Add(1999 * time.Millisecond)
	if m.React("r", "a", "👏") {
		t.Fatal("repeat at 1.999 s counted")
	}
	*now = now.Add(time.Millisecond)
	if !m.React("r", "a", "👏") {
		t.Fatal("repeat at 2 s not counted")
	}
	m.flush()
	if got := reactionsOf(t, rec.take()); !maps.Equal(got["r"], map[string]int{"👏": 1}) {
		t.Fatalf("window = %v", got)
	}
	// Debounce entries are pruned once expired.
	*now = now.Add(time.Hour)
	m.flush()
	s := m.lookup("r")
	s.mu.Lock()
	n := len(s.debounce)
	s.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d debounce entries left after they expired", n)
	}
}

func TestReactionsWithoutMembers(t *testing.T) {
	m, rec, _ := newManager(t)
	m.React("r", "a", "👏") // nobody in the room: counted, published to no edge
	m.flush()
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("published %+v with no edges", p)
	}
}

func TestAnnounceAndForget(t *testing.T) {
	m, rec, _ := newManager(t)
	ev := &op.Event{Kind: op.EvSchedule, Room: "r", Audience: op.ToRoom}
	m.Announce("r", ev) // unknown room: nobody to tell
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("published %+v", p)
	}
	m.Enter("r", u("a"), "e1")
	m.Enter("r", u("b"), "e2")
	m.React("r", "a", "👏")
	rec.take()
	m.Announce("r", ev)
	if p := rec.take(); len(p) != 1 || p[0].ev != ev || !slices.Equal(p[0].edges, []string{"e1", "e2"}) {
		t.Fatalf("Announce published %+v", p)
	}
	m.Forget("r")
	m.flush()
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("a forgotten room published %+v", p)
	}
	if m.Viewers("r") != 0 {
		t.Fatal("a forgotten room has viewers")
	}
	// A room of the same id starts afresh.
	if got := ids(m.Enter("r", u("c"), "e1")); !slices.Equal(got, []string{"c"}) {
		t.Fatalf("viewers after Forget = %v", got)
	}
}

// TestLoopFlushes: the real aggregation loop publishes about once a window.
func TestLoopFlushes(t *testing.T) {
	rec := &recorder{}
	m := NewManager(Config{ReactionWindow: 10 * time.Millisecond, ReactionDebounce: time.Second}, rec)
	defer m.Close()
	m.Enter("r", u("a"), "e1")
	rec.take()
	m.React("r", "a", "👏")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if p := rec.take(); len(p) > 0 {
			if got := reactionsOf(t, p); !maps.Equal(got["r"], map[string]int{"👏": 1}) {
				t.Fatalf("published %v", got)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop never flushed")
		}
		time.Sleep(5 * time.Millisecond) // poll interval of the wait above
	}
}

// TestJoinIsEnterWithoutTheList: Join records the same presence and
// publishes the same event as Enter; Enter sees the joined users.
func TestJoinIsEnterWithoutTheList(t *testing.T) {
	m, rec, _ := newManager(t)
	m.Join("r", u("carol"), "e1")
	p := rec.take()
	if len(p) != 1 || p[0].ev.Kind != op.EvViewerAdded || p[0].ev.Subject != "carol" || !slices.Equal(p[0].edges, []string{"e1"}) {
		t.Fatalf("published %+v", p)
	}
	m.Join("r", u("carol"), "e2")
	if p := rec.take(); len(p) != 0 {
		t.Fatalf("a second presence of carol published %+v", p)
	}
	if got := ids(m.Enter("r", u("alice"), "e1")); !slices.Equal(got, []string{"alice", "carol"}) {
		t.Fatalf("viewers = %v", got)
	}
	m.Leave("r", "carol", "e1")
	if m.Viewers("r") != 2 {
		t.Fatalf("carol left through e1 only, still present through e2: viewers %d", m.Viewers("r"))
	}
}

// TestOccupancyPublishedOnBucketChange: world.user_count_change is
// published when the number of users crosses venueless' buckets (0, 1–10,
// more than 10), on enter, leave, DropEdge and SyncEdge, and not otherwise.
func TestOccupancyPublishedOnBucketChange(t *testing.T) {
	m, rec, _ := newManager(t)
	for i := range 12 {
		m.Join("r", u(string(rune('a'+i))), "e1")
	}
	m.Join("r", u("a"), "e2") // a second edge of a present user
	if got := rec.takeCounts(); !slices.Equal(got, []op.UserCount{{Room: "r", Users: op.OccupancyFew}, {Room: "r", Users: op.OccupancyMany}}) {
		t.Fatalf("entering 12 users published %v, want few then many", got)
	}
	m.Leave("r", "l", "e1")
	m.Leave("r", "a", "e1") // still there through e2
	if got := rec.takeCounts(); len(got) != 0 {
		t.Fatalf("11 users left, still many: published %v", got)
	}
	m.Leave("r", "k", "e1")
	if got := rec.takeCounts(); !slices.Equal(got, []op.UserCount{{Room: "r", Users: op.OccupancyFew}}) {
		t.Fatalf("down to 10: published %v, want few", got)
	}
	m.SyncEdge("r", "e1", nil, true) // e1 holds nobody any more: only a (via e2) stays
	if got := rec.takeCounts(); len(got) != 0 {
		t.Fatalf("sync down to 1: published %v, want nothing", got)
	}
	m.DropEdge("e2")
	if got := rec.takeCounts(); !slices.Equal(got, []op.UserCount{{Room: "r", Users: op.OccupancyNone}}) {
		t.Fatalf("last edge dropped: published %v, want none", got)
	}
	// A rebuild is silent; its snapshot publishes the bucket found.
	users := []op.User{}
	for i := range 11 {
		users = append(users, u(string(rune('a'+i))))
	}
	m.SyncEdge("r", "e3", users, false)
	if got := rec.takeCounts(); len(got) != 0 {
		t.Fatalf("silent rebuild published %v", got)
	}
	m.Snapshot("r")
	if got := rec.takeCounts(); !slices.Equal(got, []op.UserCount{{Room: "r", Users: op.OccupancyMany}}) {
		t.Fatalf("rebuild's snapshot published %v, want many", got)
	}
	var told []string
	m.Occupancies(func(room string, b op.Occupancy) { told = append(told, room+"="+string(b)) })
	if !slices.Equal(told, []string{"r=many"}) {
		t.Fatalf("Occupancies = %v", told)
	}
}

// TestOccupancyStartsFromWhatThePoolWasTold: a gained room's state starts
// from the bucket the pool heard last (Config.Told), so the new owner
// publishes only real changes, and Recount tells the pool a room it
// thinks busy but that has no users here is empty.
func TestOccupancyStartsFromWhatThePoolWasTold(t *testing.T) {
	rec := &recorder{}
	told := map[string]op.Occupancy{"busy": op.OccupancyFew, "gone": op.OccupancyMany}
	m := NewManager(Config{ReactionWindow: time.Hour, ReactionDebounce: time.Second,
		Told: func(r string) op.Occupancy {
			if b, ok := told[r]; ok {
				return b
			}
			return op.OccupancyNone
		}}, rec)
	t.Cleanup(m.Close)
	m.SyncEdge("busy", "e1", []op.User{u("a"), u("b")}, false)
	m.Snapshot("busy")
	m.Recount("busy")
	if got := rec.takeCounts(); len(got) != 0 {
		t.Fatalf("a rebuilt room still few published %v", got)
	}
	m.Recount("gone")
	m.Recount("quiet") // never busy
	if got := rec.takeCounts(); !slices.Equal(got, []op.UserCount{{Room: "gone", Users: op.OccupancyNone}}) {
		t.Fatalf("Recount published %v, want gone: none", got)
	}
}
