package cluster

import (
	"context"
	"encoding/json"
	"time"

	"github.com/roomring/roomring/node/cluster/peer"
)

// scheduleResync queues this node's members of rooms for announcement to
// the rooms' owners (with none, it only wakes the loop up).
func (r *Router) scheduleResync(rooms ...string) {
	r.resyncMu.Lock()
	for _, id := range rooms {
		r.resyncPending[id] = struct{}{}
	}
	r.resyncMu.Unlock()
	select {
	case r.resyncKick <- struct{}{}:
	default:
	}
}

// resyncLoop announces queued rooms' members, retrying failures every
// ResyncRetry and re-announcing everything every ResyncInterval.
func (r *Router) resyncLoop() {
	defer r.wg.Done()
	var periodic <-chan time.Time
	if r.cfg.ResyncInterval > 0 {
		t := time.NewTicker(r.cfg.ResyncInterval)
		defer t.Stop()
		periodic = t.C
	}
	var retry <-chan time.Time
	for {
		select {
		case <-r.stop:
			return
		case <-r.resyncKick:
		case <-periodic:
			r.resyncMu.Lock()
			for _, id := range r.edge.Rooms() {
				r.resyncPending[id] = struct{}{}
			}
			r.resyncMu.Unlock()
		case <-retry:
			retry = nil
		}
		if r.resync() > 0 {
			if retry == nil {
				retry = time.After(r.cfg.ResyncRetry)
			}
			continue
		}
		r.report()
	}
}

// report tells every member (this node included) that this node's members
// are announced to their owners under the current ring, once after each
// ring change, when nothing is left to announce: owners end their rebuild
// when all members have reported.
func (r *Router) report() {
	r.resyncMu.Lock()
	owed := r.owedReport && len(r.resyncPending) == 0
	if owed {
		r.owedReport = false
	}
	r.resyncMu.Unlock()
	if !owed || r.leaving.Load() {
		return
	}
	cur := r.ringNow()
	h := ringHashOf(cur)
	b, err := json.Marshal(request{Op: opSynced, Ring: h})
	if err != nil {
		return
	}
	for _, m := range cur.Members() {
		if m == r.name {
			r.synced(r.name, h)
			continue
		}
		if err := r.mesh.Send(m, 0, b); err != nil {
			r.met.resyncs.WithLabelValues("report_failed").Inc()
		}
	}
}

// resync announces the members of every pending room to its owner (the
// exact set: the owner drops this edge's users that are not listed) and
// returns the number of rooms that failed and stay pending.
func (r *Router) resync() (failed int) {
	r.resyncMu.Lock()
	pending := r.resyncPending
	r.resyncPending = map[string]struct{}{}
	r.resyncMu.Unlock()
	if len(pending) == 0 || r.leaving.Load() {
		return 0
	}
	type inflight struct {
		room string
		call *peer.Call
	}
	var calls []inflight
	var again []string
	for id := range pending {
		unlock := r.lockRoom(id)
		cur := r.ringNow()
		owner := cur.Owner(id)
		users := r.edge.Roster(id)
		blind := !r.edge.SeesViewers(id)
		if owner == r.name {
			r.sync(id, r.name, users, blind)
			unlock()
			r.met.resyncs.WithLabelValues("local").Inc()
			continue
		}
		b, err := json.Marshal(request{Op: opSync, Room: id, Users: toWireUsers(users), Ring: ringHashOf(cur), Blind: blind})
		var call *peer.Call
		if err == nil {
			call, err = r.mesh.Start(owner, lane(id), b)
		}
		unlock()
		if err != nil {
			again = append(again, id)
			continue
		}
		calls = append(calls, inflight{id, call})
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.ForwardTimeout)
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
		r.resyncMu.Lock()
		for _, id := range again {
			r.resyncPending[id] = struct{}{}
		}
		r.resyncMu.Unlock()
	}
	return len(again)
}
