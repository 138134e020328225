package loadgen

import (
	"hash/fnv"
	"sort"
	"sync"
	"time"
)

// room.reaction carries no timestamp: the owner aggregates a window of
// reactions and broadcasts the counts. Its delivery is measured as spread:
// how long after the first receipt of one broadcast (by any connection of
// any worker) each member received it. The first receipt comes from the
// member closest to the owner, so the spread includes every later hop (the
// peer link to other nodes, each node's fan-out) but not the owner's own
// flush; it is a lower bound of delivery latency, and its tail is what
// members of a big room wait for.
//
// A broadcast is recognised by its room and payload (counts are the same
// for every receiver) and a receipt within groupSpan of the first.
//
// The gap between two consecutive broadcasts of a room (first receipts) is
// also kept: after an owner dies, the largest gap is how long members went
// without room.reaction.

// groupSpan is how long after its first receipt a receipt still belongs to
// a broadcast; broadcasts of one room are a reaction window (1 s) apart,
// and consecutive ones usually differ in their counts too. A spread near
// groupSpan means deliveries slower than the window itself.
const groupSpan = 900 * time.Millisecond

// maxGroupOffsets bounds one group's sparse offsets (milliseconds).
const maxGroupOffsets = 4096

// Group is one room.reaction broadcast as one worker saw it.
type Group struct {
	Room  string `json:"room"`
	Hash  uint64 `json:"hash"`
	First int64  `json:"first"` // unix ns of this worker's first receipt
	// Offsets are [ms after First, receipts] pairs.
	Offsets [][2]uint32 `json:"offsets"`
}

// groupTracker collects a worker's groups.
type groupTracker struct {
	mu     sync.Mutex
	open   map[string]*openGroup // by room
	closed []Group
}

type openGroup struct {
	hash    uint64
	first   int64
	offsets map[uint32]uint32
}

func payloadHash(b []byte) uint64 {
	h := fnv.New64a()
	_, _ = h.Write(b)
	return h.Sum64()
}

// add records a receipt of a broadcast with payload hash h in room at now
// (unix ns).
func (t *groupTracker) add(room string, h uint64, now int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.open[room]
	if g == nil || g.hash != h || now-g.first > int64(groupSpan) {
		if g != nil {
			t.closeLocked(room, g)
		}
		if t.open == nil {
			t.open = map[string]*openGroup{}
		}
		g = &openGroup{hash: h, first: now, offsets: map[uint32]uint32{}}
		t.open[room] = g
	}
	off := uint32(max(0, now-g.first) / int64(time.Millisecond))
	if _, ok := g.offsets[off]; ok || len(g.offsets) < maxGroupOffsets {
		g.offsets[off]++
	}
}

func (t *groupTracker) closeLocked(room string, g *openGroup) {
	out := Group{Room: room, Hash: g.hash, First: g.first, Offsets: make([][2]uint32, 0, len(g.offsets))}
	for off, n := range g.offsets {
		out.Offsets = append(out.Offsets, [2]uint32{off, n})
	}
	sort.Slice(out.Offsets, func(i, j int) bool { return out.Offsets[i][0] < out.Offsets[j][0] })
	t.closed = append(t.closed, out)
	delete(t.open, room)
}

// take returns the groups that ended (all groups when all is set, at the
// end of a run): those replaced by a newer broadcast and those older than
// groupSpan at now.
func (t *groupTracker) take(now int64, all bool) []Group {
	t.mu.Lock()
	defer t.mu.Unlock()
	for room, g := range t.open {
		if all || now-g.first > int64(groupSpan) {
			t.closeLocked(room, g)
		}
	}
	out := t.closed
	t.closed = nil
	return out
}

// groupMerger joins the workers' groups of one broadcast (parent side).
type groupMerger struct {
	pending []*mergedGroup
	// last first receipt per room, for gaps.
	last map[string]int64
	// firsts are the first receipts of every broadcast, in order, for the
	// recovery after a drop (one a room and reaction window: small).
	firsts []int64
}

// after returns the first receipt of the first broadcast after t (unix
// ns), 0 when none came.
func (m *groupMerger) after(t int64) int64 {
	for _, f := range m.firsts {
		if f > t {
			return f
		}
	}
	return 0
}

type mergedGroup struct {
	room  string
	hash  uint64
	first int64
	parts []Group
}

// add takes a worker's group.
func (m *groupMerger) add(g Group) {
	for _, p := range m.pending {
		if p.room == g.Room && p.hash == g.Hash && abs64(p.first-g.First) <= int64(groupSpan) {
			p.parts = append(p.parts, g)
			p.first = min(p.first, g.First)
			return
		}
	}
	m.pending = append(m.pending, &mergedGroup{room: g.Room, hash: g.Hash, first: g.First, parts: []Group{g}})
}

// flush completes the groups whose first receipt is older than settle at
// now (all of them when now is 0). Those first received within [from, to]
// (to zero: open-ended; from zero: none) are recorded: their receipts in
// spread, the gap since the room's previous broadcast in gaps; earlier ones
// only advance the gap baseline.
func (m *groupMerger) flush(now int64, settle time.Duration, from, to time.Time, spread, gaps *Dist) {
	sort.Slice(m.pending, func(i, j int) bool { return m.pending[i].first < m.pending[j].first })
	keep := m.pending[:0]
	for _, p := range m.pending {
		if now != 0 && now-p.first < int64(settle) {
			keep = append(keep, p)
			continue
		}
		if m.last == nil {
			m.last = map[string]int64{}
		}
		record := !from.IsZero() && p.first >= from.UnixNano() && (to.IsZero() || p.first <= to.UnixNano())
		if record {
			var s HistSnapshot
			for _, part := range p.parts {
				shift := part.First - p.first
				for _, o := range part.Offsets {
					d := time.Duration(shift) + time.Duration(o[0])*time.Millisecond
					s = append(s, [2]uint64{uint64(bucketOf(uint64(d.Microseconds()))), uint64(o[1])})
				}
			}
			spread.Add(s)
			if prev, ok := m.last[p.room]; ok {
				gaps.Add(HistSnapshot{{uint64(bucketOf(uint64(time.Duration(p.first - prev).Microseconds()))), 1}})
			}
		}
		m.last[p.room] = p.first
		m.firsts = append(m.firsts, p.first)
	}
	m.pending = keep
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
