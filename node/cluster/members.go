package cluster

import (
	"encoding/json"
	"slices"

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
	prev := r.ring.Swap(next)
	if prev.Equal(next) {
		return
	}
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
	r.scheduleResync(moved...)
}
