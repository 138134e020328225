package cluster

import (
	"encoding/json"
	"hash/fnv"
	"slices"
	"time"

	"github.com/roomring/roomring/node/cluster/ring"
)

// watchMembers recomputes the ring whenever membership changes.
func (r *Router) watchMembers() {
	defer r.wg.Done()
	r.updateRing()
	for {
		select {
		case <-r.stop:
			return
		case <-r.ml.Changes():
			r.updateRing()
		}
	}
}

// updateRing brings links and ownership in line with the live members:
// links to new members are dialled and to departed ones closed, owner state
// of departed edges and of rooms this node no longer owns is dropped, and
// this node's members of every room whose owner changed are re-announced.
// A leaving node places rooms on the other members only.
func (r *Router) updateRing() {
	r.ringMu.Lock()
	defer r.ringMu.Unlock()
	members := r.ml.Members()
	peers := make(map[string]string, len(members))
	names := make([]string, 0, len(members))
	for _, m := range members {
		var md meta
		if err := json.Unmarshal(m.Meta, &md); err != nil || md.Peer == "" {
			r.log.Warn("member without a peer address ignored", "member", m.Name, "err", err)
			continue
		}
		if !ring.ValidName(m.Name) {
			r.log.Warn("member with an invalid name ignored", "member", m.Name)
			continue
		}
		peers[m.Name] = md.Peer
		if m.Name != r.name || !r.leaving.Load() {
			names = append(names, m.Name)
		}
	}
	if !r.leaving.Load() && !slices.Contains(names, r.name) {
		names = append(names, r.name) // gossip reports this node once started; never place without it
	}
	r.mesh.SetPeers(peers)
	next, err := ring.New(r.cfg.Ring, names)
	if err != nil {
		r.log.Error("cannot place rooms on the members; keeping the previous ring", "members", len(names), "err", err)
		return
	}
	prev := r.ringNow()
	if prev.Equal(next) {
		return
	}
	if !r.leaving.Load() {
		// Open the rebuild before the new ring is visible: announcements
		// that follow it must find the rooms this node gains rebuilding.
		r.startRebuild(prev)
	}
	r.ring.Store(next)
	r.met.ringChanges.Inc()
	r.log.Info("ring changed", "members", next.Members())
	for _, name := range prev.Members() {
		if !next.Has(name) && name != r.name {
			r.rooms.DropEdge(name)
		}
	}
	for _, id := range r.rooms.Rooms() {
		unlock := r.lockRoom(id)
		if next.Owner(id) != r.name {
			r.rooms.Forget(id)
		}
		unlock()
	}
	if r.leaving.Load() {
		return
	}
	var moved []string
	for _, id := range r.edge.Rooms() {
		if prev.Owner(id) != next.Owner(id) {
			moved = append(moved, id)
		}
	}
	// Announce the moved rooms, then report to every member that this
	// node's announcements are through (even if none were needed); an
	// owner ends its rebuild once all members reported.
	r.resyncMu.Lock()
	r.owedReport = true
	r.resyncMu.Unlock()
	r.scheduleResync(moved...)
	r.checkRebuild() // reports may have come in before this node's ring changed
}

// rebuild is the window after a ring change during which this node
// rebuilds the rooms it gained from the edges' announcements.
type rebuild struct {
	from  *ring.Ring // the ring before the window's first change
	until time.Time  // the latest end, should some member never report
}

// startRebuild opens (or extends) a rebuild window after the ring moved
// away from prev. Until it closes, rooms this node gained are rebuilt:
// announcements of their members add them silently (the members heard of
// them from the previous owner) and enters wait, so that no client is told
// a half-built viewer list. It closes when every member of the ring has
// reported that it announced its members (or at RebuildWindow); then each
// such room's edges get a viewer snapshot. Called with ringMu held.
func (r *Router) startRebuild(prev *ring.Ring) {
	now := time.Now()
	from := prev
	if cur := r.rebuild.Load(); cur != nil {
		from = cur.from // still rebuilding since an earlier change
	}
	b := &rebuild{from: from, until: now.Add(r.cfg.RebuildWindow)}
	r.rebuild.Store(b)
	if r.rebuildTimer != nil {
		r.rebuildTimer.Stop()
	}
	r.rebuildTimer = time.AfterFunc(r.cfg.RebuildWindow, func() { r.endRebuild(b) })
}

// gained reports whether room became this node's in the window from b: it
// had another owner, or this node was alone (its rooms then had no
// members elsewhere it knew of).
func (r *Router) gained(b *rebuild, room string) bool {
	return len(b.from.Members()) <= 1 || b.from.Owner(room) != r.name
}

// rebuilding reports whether room is being rebuilt.
func (r *Router) rebuilding(room string) bool {
	b := r.rebuild.Load()
	return b != nil && time.Now().Before(b.until) && r.gained(b, room)
}

// synced records that member announced all its members to their owners
// under the ring with the given hash, and ends the rebuild once every
// member of this node's ring has.
func (r *Router) synced(member string, ringHash uint64) {
	r.reportsMu.Lock()
	r.reports[member] = ringHash
	r.reportsMu.Unlock()
	r.checkRebuild()
}

// checkRebuild ends the current rebuild if every member reported for the
// current ring.
func (r *Router) checkRebuild() {
	b := r.rebuild.Load()
	if b == nil {
		return
	}
	cur := r.ringNow()
	h := ringHashOf(cur)
	r.reportsMu.Lock()
	for _, m := range cur.Members() {
		if r.reports[m] != h {
			r.reportsMu.Unlock()
			return
		}
	}
	r.reportsMu.Unlock()
	r.endRebuild(b)
}

// endRebuild closes the rebuild window b (unless another replaced it): the
// rooms this node gained get their viewer snapshots.
func (r *Router) endRebuild(b *rebuild) {
	select {
	case <-r.stop:
		return
	default:
	}
	if !r.rebuild.CompareAndSwap(b, nil) {
		return // ended already, or extended by a later change
	}
	r.log.Debug("rebuild ended", "early", time.Now().Before(b.until))
	for _, id := range r.rooms.Rooms() {
		unlock := r.lockRoom(id)
		if !r.leaving.Load() && r.ringNow().Owner(id) == r.name && r.gained(b, id) {
			r.rooms.Snapshot(id)
		}
		unlock()
	}
}

// ringHash identifies a member set: members report which ring their
// announcements followed.
func ringHashOf(rg *ring.Ring) uint64 {
	h := fnv.New64a()
	for _, m := range rg.Members() {
		_, _ = h.Write([]byte(m))
		_, _ = h.Write([]byte{0})
	}
	return h.Sum64()
}
