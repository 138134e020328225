// Package cluster makes a node a member of a pool of nodes: it ties gossip
// membership, the ownership ring and peer links to the engine, so that a
// client may use any node.
//
// A member is a set of small parts, each with one job, wired by New:
//
//   - Forwarder (forward.go), the edge side: the engine's owner, sending
//     each room operation to the room's owner on the ring.
//   - server (server.go), the owner side: serves owner operations on the
//     one local owner (node/owner) and publishes its events to the edges.
//   - placement (placement.go): the ring and this node's state in it, a
//     read-only view (Placement) that lifecycle (lifecycle.go) updates.
//   - resyncer (resync.go): re-announces this edge's members to owners.
//   - goneDetector (gone.go): finds a crashed member gone from its refused
//     ports, so that the lifecycle places its rooms elsewhere before
//     gossip declares it dead.
//   - catalogSync (replicate.go): replicates the room catalog over gossip.
//   - pool (pool.go): the operator's view of the pool (admin.Pool).
//
// roomLocks (locks.go) order each room's operations across them. What the
// cluster does:
//
//   - Room operations go to the room's owner on the ring of live members:
//     the local owner (owner.Local) when this node owns the room, otherwise a
//     request over the peer link to the owner, retried while the ring
//     settles and failed as server.unavailable after ForwardTimeout.
//   - An owner publishes one message per edge node with members; each edge
//     fans it out to its own sessions.
//   - When the ring changes, owners drop the soft state of rooms they no
//     longer own and of edge nodes that left, and every edge re-announces
//     its members of each room whose owner changed ("resync"); the new
//     owner rebuilds the viewer set from those announcements. Resyncs also
//     follow every peer-link reconnection and run every ResyncInterval, so
//     lost messages are repaired.
//   - The room catalog is replicated: local writes are gossiped (inline
//     when small, as a version notice the others fetch otherwise) and full
//     state is exchanged on join and every push/pull interval. Each node
//     derives room.create, room.delete and world.updated for its own
//     clients from the changes it applies, so an event never arrives
//     before the configuration it announces.
//
// docs/cluster.md describes what this guarantees and what it does not.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster/key"
	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/owner"
)

// Deps are the cluster's collaborators.
type Deps struct {
	// Name is this node's member name (MemberName); it is also the edge's id.
	Name    string
	Edge    *edge.Edge
	Catalog *catalog.Catalog
	// Owner builds the local owner of the rooms this node owns (the one a
	// standalone node uses), publishing through pub: the owner server's
	// publisher to the pool's edges.
	Owner func(pub owner.Publisher) *owner.Local
	// AdminAddr is where this node's admin API answers (its admin listener,
	// else its HTTP listener), reported to the operator.
	AdminAddr string
	Logger    *slog.Logger
	Registry  prometheus.Registerer
	// Announce tells this node's sessions about the catalog changes other
	// nodes made (optional: one without coalescing, delivering to Edge,
	// when nil); the node shares it with its engine.
	Announce *announce.Announcer
}

// Cluster is a node's membership in a cluster: its methods are the
// membership's lifecycle and addresses, plus the parts the composition
// root hands to the engine and the admin API. It is safe for concurrent
// use.
type Cluster struct {
	name string

	place   *placement
	fwd     *Forwarder
	srv     *server
	resync  *resyncer
	catalog *catalogSync
	life    *lifecycle
	pool    *Pool
	ml      *membership.Membership
	mesh    *peer.Mesh

	stop   chan struct{}
	wg     sync.WaitGroup
	closed sync.Once
}

// New builds a member: it binds the peer listener and the gossip port and
// starts gossip, alone until Start joins the seeds.
func New(cfg Config, d Deps) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Announce == nil {
		d.Announce = announce.New(d.Edge, 0)
	}
	if !ring.ValidName(d.Name) {
		return nil, fmt.Errorf("invalid node name %q: use letters, digits, '.', '_' and '-'", d.Name)
	}
	keys, err := key.Derive(cfg.Key)
	if err != nil {
		return nil, err
	}
	alone, err := ring.New(cfg.Ring, []string{d.Name})
	if err != nil {
		return nil, err
	}
	c := newCluster(cfg, d, alone)
	if d.Registry != nil {
		if err := c.srv.met.register(d.Registry); err != nil {
			c.srv.local.Close()
			return nil, err
		}
	}
	// Sealed before anything reaches the network: records carry world
	// secrets sealed from now on.
	sealer, err := catalog.NewSealer(keys.Catalog)
	if err != nil {
		c.srv.local.Close()
		return nil, err
	}
	if err := d.Catalog.SetSealer(context.Background(), sealer); err != nil {
		c.srv.log.Warn("stored world secrets not opened; those worlds refuse every token until they are put again", "err", err)
	}
	if err := c.connect(cfg, d, keys); err != nil {
		c.srv.local.Close()
		return nil, err
	}
	d.Catalog.Replicate(d.Name, c.catalog.written)
	return c, nil
}

// newCluster builds the parts that need no network and ties them
// together.
func newCluster(cfg Config, d Deps, alone *ring.Ring) *Cluster {
	log := d.Logger.With("component", "cluster", "node", d.Name)
	place := newPlacement(d.Name, cfg.RebuildWindow, alone, log)
	met := newMetrics(func() float64 {
		rg, n := place.Ring(), 0
		for _, rm := range d.Catalog.List() {
			if rg.Owner(rm.ID) == d.Name {
				n++
			}
		}
		return float64(n)
	})
	locks := &roomLocks{}
	srv := &server{self: d.Name, timeout: cfg.ForwardTimeout, log: log, met: met, place: place, locks: locks,
		edge: d.Edge, catalog: d.Catalog}
	srv.local = d.Owner(srv)
	place.rebuilt = srv.snapshotGained
	res := newResyncer()
	res.self, res.interval, res.retry, res.timeout = d.Name, cfg.ResyncInterval, cfg.ResyncRetry, cfg.ForwardTimeout
	res.retryMin = min(cfg.RetryInterval, cfg.ResyncRetry)
	res.met, res.place, res.locks, res.edge, res.local = met, place, locks, d.Edge, srv
	gone := newGoneDetector(cfg.FastFailover, cfg.FastFailoverProbeTimeout, log, met.goneProbes)
	srv.linkUp = func(peer string) { gone.up(peer); res.linkUp(peer) }
	srv.linkRefused, srv.synced, res.synced = gone.refused, place.synced, place.synced
	fwd := &Forwarder{self: d.Name, timeout: cfg.ForwardTimeout, retry: cfg.RetryInterval, met: met, place: place,
		locks: locks, local: srv, reads: srv.local, repair: res.schedule}
	cat := &catalogSync{self: d.Name, timeout: cfg.ForwardTimeout, log: log, met: met, catalog: d.Catalog,
		announce: d.Announce, queue: make(chan catalogUpdate, cfg.CatalogQueueLen), forget: srv.forget,
		maxPush: cfg.Peer.MaxFrameBytes - peerFrameOverhead}
	srv.catalogPut = cat.received
	life := &lifecycle{self: d.Name, ringCfg: cfg.Ring, log: log, met: met, place: place, owner: srv,
		edge: d.Edge, resync: res, gone: gone}
	p := &Pool{name: d.Name, addr: d.AdminAddr, incarnation: newIncarnation(), place: place, fwd: fwd}
	return &Cluster{name: d.Name, place: place, fwd: fwd, srv: srv, resync: res, catalog: cat, life: life, pool: p,
		stop: make(chan struct{})}
}

// connect opens the peer links and gossip and hands them to the parts.
func (c *Cluster) connect(cfg Config, d Deps, keys key.Keys) error {
	log := c.srv.log
	mesh, err := peer.New(cfg.Peer, d.Name, keys.Peer, c.srv, log, d.Registry)
	if err != nil {
		return err
	}
	c.mesh, c.srv.mesh, c.fwd.mesh, c.resync.mesh, c.catalog.mesh, c.life.mesh = mesh, mesh, mesh, mesh, mesh, mesh
	m, err := json.Marshal(meta{Peer: mesh.Addr(), Admin: d.AdminAddr})
	if err != nil {
		_ = mesh.Close()
		return fmt.Errorf("encode member metadata: %w", err)
	}
	// Gossip may call the delegate as soon as it exists: everything it
	// touches is ready by now, but for ml, which it uses only for
	// catalog writes, hooked after this.
	ml, err := membership.New(cfg.Membership, d.Name, keys.Gossip, m, c.catalog, log, d.Registry)
	if err != nil {
		_ = mesh.Close()
		return err
	}
	c.ml, c.catalog.ml, c.life.ml, c.pool.ml = ml, ml, ml, ml
	c.life.gone.gossipAddr = func(member string) (string, bool) {
		mb, ok := ml.Member(member)
		return mb.Addr, ok
	}
	c.place.gossip(ml)
	return nil
}

func newIncarnation() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}

// Start joins the cluster (in the background, retrying the seeds) and
// starts the parts' loops.
func (c *Cluster) Start() {
	c.wg.Add(3)
	go func() { defer c.wg.Done(); c.life.run(c.stop) }()
	go func() { defer c.wg.Done(); c.catalog.run(c.stop) }()
	go func() { defer c.wg.Done(); c.resync.run(c.stop) }()
	c.ml.Start()
}

// Name is this node's member name.
func (c *Cluster) Name() string { return c.name }

// Ready reports whether the node is a member of the ring: it has joined
// (reached a seed, or has none) and is not leaving.
func (c *Cluster) Ready() bool {
	s := c.place.State()
	return s == Active || s == Rebuilding
}

// GossipAddr is the gossip address other nodes join.
func (c *Cluster) GossipAddr() string { return c.ml.Addr() }

// PeerAddr is the peer-link address other nodes dial.
func (c *Cluster) PeerAddr() string { return c.mesh.Addr() }

// Forwarder is the engine's room owner and resource-reaction owner.
func (c *Cluster) Forwarder() *Forwarder { return c.fwd }

// Local is the local owner of the rooms this node owns.
func (c *Cluster) Local() *owner.Local { return c.srv.local }

// Pool is the operator's view of the cluster.
func (c *Cluster) Pool() *Pool { return c.pool }

// Placement is where rooms live, as this node sees it.
func (c *Cluster) Placement() Placement { return c.place }

// Depart hands this node's rooms over and announces its departure: its own
// users leave the rooms it owns (their viewers are told), it stops owning
// anything, and the other members learn of the departure at once instead
// of suspecting a crash. Sessions stay open; the caller closes them next
// (1012), and their leaves go to the new owners.
func (c *Cluster) Depart(ctx context.Context) error {
	departed, err := c.life.depart()
	if !departed || err != nil {
		return err
	}
	return ctx.Err()
}

// Close stops the member: gossip stops without a leave announcement (after
// Depart, or as a crash would), links close, loops end. It is idempotent.
func (c *Cluster) Close() error {
	var err error
	c.closed.Do(func() {
		close(c.stop)
		c.place.close() // no rebuild ends (and snapshots) from here on
		err = errors.Join(c.ml.Shutdown(), c.mesh.Close())
		c.life.gone.close()
		c.wg.Wait()
		c.srv.local.Close()
	})
	return err
}
