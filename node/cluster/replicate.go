package cluster

import (
	"context"
	"encoding/json"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/catalog"
)

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

// catalogWritten is the catalog's replication hook: it gossips a local
// write. It runs under the catalog's lock and never blocks.
func (r *Router) catalogWritten(recs []catalog.Record) {
	b, err := json.Marshal(notice{From: r.name, Records: recs})
	if err != nil || len(b) > r.ml.BroadcastMaxBytes() {
		b, err = json.Marshal(notice{From: r.name, Fetch: true})
	}
	if err == nil {
		err = r.ml.Broadcast(b)
	}
	if err != nil {
		r.log.Error("catalog write not gossiped; the next state exchange spreads it", "err", err)
		r.met.catalog.WithLabelValues("gossip_failed").Inc()
	}
}

func (r *Router) queueCatalog(u catalogUpdate) {
	select {
	case r.catalogQ <- u:
	default:
		r.met.catalog.WithLabelValues("dropped").Inc()
	}
}

// applyCatalog applies catalog updates one at a time, in arrival order,
// and tells this node's sessions what changed.
func (r *Router) applyCatalog() {
	defer r.wg.Done()
	for {
		var u catalogUpdate
		select {
		case <-r.stop:
			return
		case u = <-r.catalogQ:
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.ForwardTimeout)
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

func (r *Router) fetchCatalog(ctx context.Context, from string) ([]catalog.Record, error) {
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
func (r *Router) publishChanges(changes []catalog.Change) {
	for _, c := range changes {
		if c.Before != nil && c.After == nil {
			unlock := r.lockRoom(c.ID)
			r.rooms.Forget(c.ID)
			unlock()
		}
	}
	announce.Changes(r.edge, changes...)
}

// gossip is the Router as membership.Delegate: the catalog rides on gossip.
type gossip Router

// NotifyMsg implements membership.Delegate.
func (g *gossip) NotifyMsg(msg []byte) {
	r := (*Router)(g)
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
func (g *gossip) LocalState() []byte {
	r := (*Router)(g)
	b, err := json.Marshal(r.catalog.Records())
	if err != nil {
		r.log.Error("catalog state not encoded", "err", err)
		return nil
	}
	return b
}

// MergeRemoteState implements membership.Delegate.
func (g *gossip) MergeRemoteState(state []byte) {
	r := (*Router)(g)
	var recs []catalog.Record
	if err := json.Unmarshal(state, &recs); err != nil {
		r.met.catalog.WithLabelValues("invalid").Inc()
		return
	}
	r.queueCatalog(catalogUpdate{records: recs, source: "state"})
}
