package cluster

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/edge"
)

// catalogSync replicates the room catalog over gossip: local writes are
// gossiped (inline when small, as a version notice the others fetch over
// a peer link otherwise) and full state is exchanged on join and every
// push/pull interval (membership.Delegate). It applies what it receives
// and tells this node's sessions what changed (room.create, room.delete,
// world.updated), so an event never arrives before the configuration it
// announces.
//
// Concurrency: the delegate's methods and written run on gossip's and the
// catalog's goroutines and never block: updates wait in a bounded queue
// (dropped when full; the next state exchange repairs the catalog), which
// run applies one at a time, in arrival order. It has no lock of its own.
type catalogSync struct {
	self    string
	timeout time.Duration // ForwardTimeout, for applies and fetches
	log     *slog.Logger
	met     *metrics
	catalog *catalog.Catalog
	edge    *edge.Edge
	queue   chan catalogUpdate
	// forget drops a deleted room's owner state (the server's).
	forget func(room string)
	// ml and mesh are set once they exist, before the catalog's hook is.
	ml   *membership.Membership
	mesh *peer.Mesh
}

// notice is a gossiped catalog write: the records themselves when they fit
// in a gossip message, otherwise a request to fetch the origin's catalog
// over the peer link (records have no size bound; gossip packets do).
type notice struct {
	From    string           `json:"from"`
	Records []catalog.Record `json:"records,omitempty"`
	Fetch   bool             `json:"fetch,omitempty"`
}

// catalogUpdate is work for the catalog loop: records to apply, or an
// origin to fetch them from first.
type catalogUpdate struct {
	records   []catalog.Record
	fetchFrom string
	source    string // for metrics: gossip, fetch, state
}

// written is the catalog's replication hook: it gossips a local
// write. It runs under the catalog's lock and never blocks.
func (r *catalogSync) written(recs []catalog.Record) {
	b, err := json.Marshal(notice{From: r.self, Records: recs})
	if err != nil || len(b) > r.ml.BroadcastMaxBytes() {
		b, err = json.Marshal(notice{From: r.self, Fetch: true})
	}
	if err == nil {
		err = r.ml.Broadcast(b)
	}
	if err != nil {
		r.log.Error("catalog write not gossiped; the next state exchange spreads it", "err", err)
		r.met.catalog.WithLabelValues("gossip_failed").Inc()
	}
}

func (r *catalogSync) queueCatalog(u catalogUpdate) {
	select {
	case r.queue <- u:
	default:
		r.met.catalog.WithLabelValues("dropped").Inc()
	}
}

// run applies catalog updates one at a time, in arrival order,
// and tells this node's sessions what changed.
func (r *catalogSync) run(stop <-chan struct{}) {
	for {
		var u catalogUpdate
		select {
		case <-stop:
			return
		case u = <-r.queue:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
		if u.fetchFrom != "" {
			recs, err := r.fetchCatalog(ctx, u.fetchFrom)
			if err != nil {
				cancel()
				r.log.Warn("catalog fetch failed; the next state exchange repairs it", "from", u.fetchFrom, "err", err)
				r.met.catalog.WithLabelValues("fetch_failed").Inc()
				continue
			}
			u.records = recs
		}
		changes, err := r.catalog.Apply(ctx, u.records)
		cancel()
		if err != nil {
			r.log.Error("catalog update not applied", "source", u.source, "err", err)
			r.met.catalog.WithLabelValues("error").Inc()
			continue
		}
		r.met.catalog.WithLabelValues("applied").Add(float64(len(changes)))
		r.publishChanges(changes)
	}
}

func (r *catalogSync) fetchCatalog(ctx context.Context, from string) ([]catalog.Record, error) {
	b, err := json.Marshal(request{Op: opCatalogGet})
	if err != nil {
		return nil, err
	}
	b, err = r.mesh.Request(ctx, from, 0, b)
	if err != nil {
		return nil, err
	}
	var resp response
	if err := json.Unmarshal(b, &resp); err != nil {
		return nil, err
	}
	return resp.Records, resp.err()
}

// publishChanges tells this node's sessions about catalog changes made on
// other nodes, as the engine tells them about its own (announce.Changes),
// once the owner state of deleted rooms is gone.
func (r *catalogSync) publishChanges(changes []catalog.Change) {
	for _, c := range changes {
		if c.Before != nil && c.After == nil {
			r.forget(c.ID)
		}
	}
	announce.Changes(r.edge, changes...)
}

// NotifyMsg implements membership.Delegate.
func (r *catalogSync) NotifyMsg(msg []byte) {
	var n notice
	if err := json.Unmarshal(msg, &n); err != nil || n.From == "" {
		r.met.catalog.WithLabelValues("invalid").Inc()
		return
	}
	if n.Fetch {
		r.queueCatalog(catalogUpdate{fetchFrom: n.From, source: "fetch"})
		return
	}
	r.queueCatalog(catalogUpdate{records: n.Records, source: "gossip"})
}

// LocalState implements membership.Delegate: the whole catalog, tombstones
// included.
func (r *catalogSync) LocalState() []byte {
	b, err := json.Marshal(r.catalog.Records())
	if err != nil {
		r.log.Error("catalog state not encoded", "err", err)
		return nil
	}
	return b
}

// MergeRemoteState implements membership.Delegate.
func (r *catalogSync) MergeRemoteState(state []byte) {
	var recs []catalog.Record
	if err := json.Unmarshal(state, &recs); err != nil {
		r.met.catalog.WithLabelValues("invalid").Inc()
		return
	}
	r.queueCatalog(catalogUpdate{records: recs, source: "state"})
}
