package cluster

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/edge"
)

// resyncer announces this node's members of rooms to the rooms' owners
// (the exact set: an owner drops the edge's users that are not listed),
// so that owners rebuild their viewer sets from the edges: for the rooms
// whose owner changed with the ring, after a peer link reconnected, after
// a leave that could not be delivered, and for every room each
// ResyncInterval. After a ring change, once everything is announced, it
// reports so to every member (owners end their rebuild when all have).
//
// Concurrency: schedule, oweReport and linkUp are safe for concurrent use
// and never block (mu guards the pending rooms and the owed report; the
// loop is woken by a one-slot channel). run is the one goroutine that
// announces; each announcement is queued under the room's lock.
type resyncer struct {
	self     string
	interval time.Duration // ResyncInterval
	retryMin time.Duration // RetryInterval: the first pause before a retry
	retry    time.Duration // ResyncRetry: the longest
	timeout  time.Duration // ForwardTimeout
	met      *metrics
	place    Placement
	// synced is the placement's, for this node's own report.
	synced func(member string, ring uint64)
	locks  *roomLocks
	edge   *edge.Edge
	// local applies announcements of the rooms this node owns.
	local *server
	// mesh is set once the peer links exist, before run starts.
	mesh *peer.Mesh

	kick chan struct{}

	mu         sync.Mutex
	pending    map[string]struct{}
	owedReport bool // a ring change happened: report once announcements are through
}

func newResyncer() *resyncer {
	return &resyncer{kick: make(chan struct{}, 1), pending: map[string]struct{}{}}
}

// schedule queues this node's members of rooms for announcement to the
// rooms' owners (with none, it only wakes the loop up).
func (r *resyncer) schedule(rooms ...string) {
	r.mu.Lock()
	for _, id := range rooms {
		r.pending[id] = struct{}{}
	}
	r.mu.Unlock()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// oweReport makes the next pass that leaves nothing pending report to
// every member.
func (r *resyncer) oweReport() {
	r.mu.Lock()
	r.owedReport = true
	r.mu.Unlock()
}

// linkUp schedules this node's rooms that peer owns: frames to it may have
// been lost while its link was down.
func (r *resyncer) linkUp(peer string) {
	ring := r.place.Ring()
	var rooms []string
	for _, id := range r.edge.Rooms() {
		if ring.Owner(id) == peer {
			rooms = append(rooms, id)
		}
	}
	r.schedule(rooms...)
}

// run announces queued rooms' members, retrying failures after a pause
// that starts at RetryInterval and doubles up to ResyncRetry while passes
// keep failing, and re-announcing everything every ResyncInterval, until
// stop closes. The short first pause matters after a ring change: an
// owner whose view of the ring lags this node's refuses the announcement
// (Rebuilding) until its own view changes, typically milliseconds later.
func (r *resyncer) run(stop <-chan struct{}) {
	var periodic <-chan time.Time
	if r.interval > 0 {
		t := time.NewTicker(r.interval)
		defer t.Stop()
		periodic = t.C
	}
	var retry <-chan time.Time
	wait := r.retryMin
	for {
		select {
		case <-stop:
			return
		case <-r.kick:
		case <-periodic:
			r.mu.Lock()
			for _, id := range r.edge.Rooms() {
				r.pending[id] = struct{}{}
			}
			r.mu.Unlock()
		case <-retry:
			retry = nil
		}
		if r.resync() > 0 {
			if retry == nil {
				retry = time.After(wait)
				wait = min(2*wait, r.retry)
			}
			continue
		}
		wait = r.retryMin
		r.report()
	}
}

// report tells every member (this node included) that this node's members
// are announced to their owners under the current ring, once after each
// ring change, when nothing is left to announce: owners end their rebuild
// when all members have reported.
func (r *resyncer) report() {
	r.mu.Lock()
	owed := r.owedReport && len(r.pending) == 0
	if owed {
		r.owedReport = false
	}
	r.mu.Unlock()
	if !owed || r.place.State() == Leaving {
		return
	}
	cur := r.place.Ring()
	h := ringHashOf(cur)
	b, err := json.Marshal(request{Op: opSynced, Ring: h})
	if err != nil {
		return
	}
	for _, m := range cur.Members() {
		if m == r.self {
			r.synced(r.self, h)
			continue
		}
		if err := r.mesh.Send(m, 0, b); err != nil {
			r.met.resyncs.WithLabelValues("report_failed").Inc()
		}
	}
}

// resync announces the members of every pending room to its owner and
// returns the number of rooms that failed and stay pending.
func (r *resyncer) resync() (failed int) {
	r.mu.Lock()
	pending := r.pending
	r.pending = map[string]struct{}{}
	r.mu.Unlock()
	if len(pending) == 0 || r.place.State() == Leaving {
		return 0
	}
	type inflight struct {
		room string
		call *peer.Call
	}
	var calls []inflight
	var again []string
	for id := range pending {
		unlock := r.locks.lock(id)
		cur := r.place.Ring()
		owner := cur.Owner(id)
		users := r.edge.Roster(id)
		blind := !r.edge.SeesViewers(id)
		if owner == r.self {
			r.local.sync(id, r.self, users, blind)
			unlock()
			r.met.resyncs.WithLabelValues("local").Inc()
			continue
		}
		b, err := json.Marshal(request{Op: opSync, Room: id, Users: toWireUsers(users), Ring: ringHashOf(cur), Blind: blind})
		var call *peer.Call
		if err == nil {
			call, err = r.mesh.Start(owner, roomHash(id), b)
		}
		unlock()
		if err != nil {
			again = append(again, id)
			continue
		}
		calls = append(calls, inflight{id, call})
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	for _, c := range calls {
		b, err := c.call.Wait(ctx)
		var resp response
		if err == nil {
			err = json.Unmarshal(b, &resp)
		}
		if err != nil || resp.retry() || resp.err() != nil {
			again = append(again, c.room)
			continue
		}
		r.met.resyncs.WithLabelValues("ok").Inc()
	}
	if len(again) > 0 {
		r.met.resyncs.WithLabelValues("retry").Add(float64(len(again)))
		r.mu.Lock()
		for _, id := range again {
			r.pending[id] = struct{}{}
		}
		r.mu.Unlock()
	}
	return len(again)
}
