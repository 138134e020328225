package cluster

import (
	"encoding/json"
	"log/slog"
	"slices"
	"sync"

	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/edge"
)

// meta is what a node gossips about itself.
type meta struct {
	Peer string `json:"peer"`
	// Admin is the member's admin API address (the key predates
	// --admin-listen, when it was always the HTTP listener).
	Admin string `json:"http"`
}

// lifecycle keeps the placement in line with the live members: it
// recomputes the ring on every membership change and on departure, and
// makes the other parts follow (links, owner state, announcements).
//
// Concurrency: mu serialises ring updates (membership changes, depart);
// an update takes room locks one at a time under it. run is its goroutine.
type lifecycle struct {
	self    string
	ringCfg ring.Config
	log     *slog.Logger
	met     *metrics
	ml      *membership.Membership
	mesh    *peer.Mesh
	place   *placement
	owner   *server
	edge    *edge.Edge
	resync  *resyncer
	// gone names the members whose process is gone before gossip agrees:
	// they are left out of the ring.
	gone *goneDetector

	mu sync.Mutex
}

// run recomputes the ring whenever membership changes, until stop closes.
func (l *lifecycle) run(stop <-chan struct{}) {
	l.update()
	for {
		select {
		case <-stop:
			return
		case <-l.ml.Changes():
			l.update()
		case <-l.gone.changes:
			l.update()
		}
	}
}

// depart makes this node leave the ring: its own users leave the rooms it
// owns, it stops owning anything and places rooms on the other members,
// and gossip announces its departure. It reports false when it departed
// already.
func (l *lifecycle) depart() (bool, error) {
	if l.place.leave() {
		return false, nil
	}
	l.owner.dropEdge(l.self)
	l.update() // without this node: forget every room, forward to the new owners
	return true, l.ml.Leave()
}

// members returns the live members' names and peer addresses; a leaving
// node places rooms on the others only, and no node places rooms on a
// member found gone (it keeps its link, which tells when it is back).
func (l *lifecycle) members() (names []string, peers map[string]string) {
	members := l.ml.Members()
	peers = make(map[string]string, len(members))
	names = make([]string, 0, len(members))
	leaving := l.place.State() == Leaving
	for _, m := range members {
		var md meta
		if err := json.Unmarshal(m.Meta, &md); err != nil || md.Peer == "" {
			l.log.Warn("member without a peer address ignored", "member", m.Name, "err", err)
			continue
		}
		if !ring.ValidName(m.Name) {
			l.log.Warn("member with an invalid name ignored", "member", m.Name)
			continue
		}
		peers[m.Name] = md.Peer
		if m.Name == l.self && !leaving || m.Name != l.self && !l.gone.isGone(m.Name) {
			names = append(names, m.Name)
		}
	}
	if !leaving && !slices.Contains(names, l.self) {
		names = append(names, l.self) // gossip reports this node once started; never place without it
	}
	return names, peers
}

// update brings links and ownership in line with the live members: links
// to new members are dialled and to departed ones closed, owner state of
// departed edges and of rooms this node no longer owns is dropped, and
// this node's members of every room whose owner changed are re-announced.
func (l *lifecycle) update() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gone.prune(func(member string) bool { _, ok := l.ml.Member(member); return ok })
	names, peers := l.members()
	l.mesh.SetPeers(peers)
	next, err := ring.New(l.ringCfg, names)
	if err != nil {
		l.log.Error("cannot place rooms on the members; keeping the previous ring", "members", len(names), "err", err)
		return
	}
	prev := l.place.Ring()
	if prev.Equal(next) {
		return
	}
	leaving := l.place.State() == Leaving
	if !leaving {
		// Open the rebuild before the new ring is visible: announcements
		// that follow it must find the rooms this node gains rebuilding.
		l.place.startRebuild(prev)
	}
	l.place.setRing(next)
	l.met.ringChanges.Inc()
	l.log.Info("ring changed", "members", next.Members())
	for _, name := range prev.Members() {
		if !next.Has(name) && name != l.self {
			l.owner.dropEdge(name)
		}
	}
	l.owner.forgetUnowned(next)
	if leaving {
		return
	}
	var moved []string
	for _, id := range l.edge.Rooms() {
		if prev.Owner(id) != next.Owner(id) {
			moved = append(moved, id)
		}
	}
	// Announce the moved rooms, then report to every member that this
	// node's announcements are through (even if none were needed); an
	// owner ends its rebuild once all members reported.
	l.resync.oweReport()
	l.resync.schedule(moved...)
	l.place.checkRebuild() // reports may have come in before this node's ring changed
}
