package cluster

import (
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/ring"
)

// State is this node's part in placing rooms.
type State int32

const (
	// Joining: gossip has reached no seed yet; the node is not ready.
	Joining State = iota
	// Active: the node owns its share of the rooms.
	Active
	// Rebuilding: the ring changed lately and the node collects the edges'
	// announcements of the rooms it gained (Placement.Rebuilding).
	Rebuilding
	// Leaving: the node departs; it owns nothing and places rooms on the
	// other members only.
	Leaving
)

func (s State) String() string {
	switch s {
	case Joining:
		return "joining"
	case Active:
		return "active"
	case Rebuilding:
		return "rebuilding"
	case Leaving:
		return "leaving"
	}
	return "unknown"
}

// Placement is a read-only view of where rooms live: the ring of live
// members and this node's state in it. Its methods are safe for concurrent
// use and never block: the ring is immutable and replaced atomically by the
// lifecycle, the states are atomic.
type Placement interface {
	// Self is this node's member name.
	Self() string
	// Ring is the current ring.
	Ring() *ring.Ring
	// Owner is the member that owns room in this node's view.
	Owner(room string) string
	// Members are the ring's members, sorted, this node included unless
	// it is leaving.
	Members() []string
	// State is this node's state.
	State() State
	// Rebuilding reports whether room is being rebuilt here: this node
	// gained it in a ring change and still collects its members.
	Rebuilding(room string) bool
}

// placement is the Placement the lifecycle updates. Readers use the view
// above; only the lifecycle calls setRing, startRebuild and leave (under
// its own lock, one update at a time). synced and checkRebuild may come
// from any goroutine. mu guards the rebuild timer and the reports; the
// rebuild window itself is an atomic pointer, ended once by
// compare-and-swap. The rebuilt hook runs without mu held.
type placement struct {
	self   string
	window time.Duration
	log    *slog.Logger
	// rebuilt is called when a rebuild window ends, with the test of the
	// rooms it gained (the owner sends their edges viewer snapshots).
	rebuilt func(gained func(room string) bool)

	members atomic.Pointer[membership.Membership] // for Joining; nil until gossip runs
	ring    atomic.Pointer[ring.Ring]
	leaving atomic.Bool
	closed  atomic.Bool
	rebuild atomic.Pointer[rebuild] // nil: none

	mu      sync.Mutex
	timer   *time.Timer       // ends the current rebuild at its bound
	reports map[string]uint64 // per member, the ring hash it last reported its announcements through under
}

// rebuild is the window after a ring change during which this node
// rebuilds the rooms it gained from the edges' announcements.
type rebuild struct {
	from  *ring.Ring // the ring before the window's first change
	until time.Time  // the latest end, should some member never report
}

func newPlacement(self string, window time.Duration, first *ring.Ring, log *slog.Logger) *placement {
	p := &placement{self: self, window: window, log: log, reports: map[string]uint64{}}
	p.ring.Store(first)
	return p
}

func (p *placement) Self() string                    { return p.self }
func (p *placement) Ring() *ring.Ring                { return p.ring.Load() }
func (p *placement) Owner(room string) string        { return p.Ring().Owner(room) }
func (p *placement) Members() []string               { return p.Ring().Members() }
func (p *placement) leavingNow() bool                { return p.leaving.Load() }
func (p *placement) owns(room string) bool           { return !p.leaving.Load() && p.Owner(room) == p.self }
func (p *placement) setRing(next *ring.Ring)         { p.ring.Store(next) }
func (p *placement) leave() (already bool)           { return p.leaving.Swap(true) }
func (p *placement) gossip(m *membership.Membership) { p.members.Store(m) }

// State implements Placement.
func (p *placement) State() State {
	if p.leaving.Load() {
		return Leaving
	}
	if m := p.members.Load(); m == nil || !m.Joined() {
		return Joining
	}
	if b := p.rebuild.Load(); b != nil && time.Now().Before(b.until) {
		return Rebuilding
	}
	return Active
}

// Rebuilding implements Placement.
func (p *placement) Rebuilding(room string) bool {
	b := p.rebuild.Load()
	return b != nil && time.Now().Before(b.until) && p.gained(b, room)
}

// owns reports whether this node owns room in p's view: the ring places
// it here and the node is not leaving.
func owns(p Placement, room string) bool {
	return p.State() != Leaving && p.Owner(room) == p.Self()
}

// gained reports whether room became this node's in the window b: it had
// another owner, or this node was alone (its rooms then had no members
// elsewhere it knew of).
func (p *placement) gained(b *rebuild, room string) bool {
	return len(b.from.Members()) <= 1 || b.from.Owner(room) != p.self
}

// startRebuild opens (or extends) a rebuild window after the ring moved
// away from prev; the lifecycle calls it before the new ring is visible, so
// that announcements that follow it find the rooms this node gains
// rebuilding. Until it closes, announcements of those rooms' members add
// them silently (the members heard of them from the previous owner) and
// enters wait, so that no client is told a half-built viewer list. It
// closes when every member of the ring has reported that it announced its
// members (or at the window's bound); then the rebuilt hook runs.
func (p *placement) startRebuild(prev *ring.Ring) {
	p.mu.Lock()
	defer p.mu.Unlock()
	from := prev
	if cur := p.rebuild.Load(); cur != nil {
		from = cur.from // still rebuilding since an earlier change
	}
	b := &rebuild{from: from, until: time.Now().Add(p.window)}
	p.rebuild.Store(b)
	if p.timer != nil {
		p.timer.Stop()
	}
	p.timer = time.AfterFunc(p.window, func() { p.endRebuild(b) })
}

// synced records that member announced all its members to their owners
// under the ring with the given hash, and ends the rebuild once every
// member of this node's ring has.
func (p *placement) synced(member string, ringHash uint64) {
	p.mu.Lock()
	p.reports[member] = ringHash
	p.mu.Unlock()
	p.checkRebuild()
}

// checkRebuild ends the current rebuild if every member reported for the
// current ring.
func (p *placement) checkRebuild() {
	b := p.rebuild.Load()
	if b == nil {
		return
	}
	cur := p.Ring()
	h := ringHashOf(cur)
	p.mu.Lock()
	for _, m := range cur.Members() {
		if p.reports[m] != h {
			p.mu.Unlock()
			return
		}
	}
	p.mu.Unlock()
	p.endRebuild(b)
}

// endRebuild closes the rebuild window b (unless another replaced it):
// the rooms this node gained, and still owns, get their viewer snapshots.
func (p *placement) endRebuild(b *rebuild) {
	if p.closed.Load() {
		return
	}
	if !p.rebuild.CompareAndSwap(b, nil) {
		return // ended already, or extended by a later change
	}
	p.log.Debug("rebuild ended", "early", time.Now().Before(b.until))
	p.rebuilt(func(room string) bool { return owns(p, room) && p.gained(b, room) })
}

// close stops the rebuild timer; no rebuild ends after it.
func (p *placement) close() {
	p.closed.Store(true)
	p.mu.Lock()
	if p.timer != nil {
		p.timer.Stop()
	}
	p.mu.Unlock()
}

// ringHashOf identifies a member set: members report which ring their
// announcements followed.
func ringHashOf(rg *ring.Ring) uint64 {
	h := fnv.New64a()
	for _, m := range rg.Members() {
		_, _ = h.Write([]byte(m))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
