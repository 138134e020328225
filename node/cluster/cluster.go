// Package cluster makes a node a member of a pool of nodes: it ties gossip
// membership, the ownership ring and peer links to the engine, so that a
// client may use any node.
//
// The Router is the engine's room owner (engine.Owner), resource-reaction
// owner (engine.ResourceReactions) and world broadcaster
// (engine.Broadcaster), and the local room owner's publisher
// (room.Publisher):
//
//   - Room operations go to the room's owner on the ring of live members:
//     the local room.Manager when this node owns the room, otherwise a
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
	"flag"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster/key"
	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/owner"
	"github.com/roomring/roomring/node/reaction"
	"github.com/roomring/roomring/node/room"
	"github.com/roomring/roomring/node/store"
)

// KeyEnv is the environment variable that supplies the cluster key when
// --cluster-key is not given.
const KeyEnv = "ROOMRING_CLUSTER_KEY"

// DevKey is the cluster key of --dev nodes that were given none: every dev
// node on a machine can join every other. Never use it in production.
const DevKey = "roomring-dev-cluster-key"

// Config configures a node's membership in a cluster.
type Config struct {
	// Key is the cluster passphrase; every node of a cluster uses the same.
	// Gossip and peer-link keys are derived from it (package key).
	Key        string
	Membership membership.Config
	Peer       peer.Config
	Ring       ring.Config
	// ForwardTimeout bounds a forwarded operation, retries included; the
	// client gets server.unavailable after it.
	ForwardTimeout time.Duration
	// RetryInterval is the pause before retrying an operation the supposed
	// owner refused because, in its view of the ring, it does not own the
	// room (views converge within a gossip round or two).
	RetryInterval time.Duration
	// ResyncInterval is how often every edge re-announces all its members to
	// their rooms' owners, repairing lost messages (0: only on changes).
	ResyncInterval time.Duration
	// ResyncRetry is the pause before retrying resyncs that failed.
	ResyncRetry time.Duration
	// RebuildWindow bounds how long after a ring change an owner collects
	// the edges' announcements silently (the members heard of those users
	// from the previous owner), holding back enters, before it sends each
	// room's edges a snapshot of the viewers, from which they tell their
	// sessions what changed — the users who vanished with a dead node. The
	// rebuild ends sooner, as soon as every member reported its
	// announcements through; the bound covers a member that never does.
	RebuildWindow time.Duration
	// CatalogQueueLen bounds the catalog updates (gossiped changes, full
	// states) waiting to be applied; beyond it updates are dropped and the
	// next full-state exchange repairs the catalog.
	CatalogQueueLen int
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{
		Membership:      membership.DefaultConfig(),
		Peer:            peer.DefaultConfig(),
		Ring:            ring.DefaultConfig(),
		ForwardTimeout:  3 * time.Second,
		RetryInterval:   50 * time.Millisecond,
		ResyncInterval:  30 * time.Second,
		ResyncRetry:     500 * time.Millisecond,
		RebuildWindow:   2 * time.Second,
		CatalogQueueLen: 256,
	}
}

// RegisterFlags registers the cluster's flags on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	*c = d
	fs.StringVar(&c.Key, "cluster-key", "", "cluster passphrase; gossip encryption and peer-link authentication keys derive from it (env "+KeyEnv+")")
	c.Membership.RegisterFlags(fs)
	c.Peer.RegisterFlags(fs)
	c.Ring.RegisterFlags(fs)
	fs.DurationVar(&c.ForwardTimeout, "forward-timeout", d.ForwardTimeout, "how long an operation forwarded to a room's owner may take before the client gets server.unavailable")
	fs.DurationVar(&c.RetryInterval, "forward-retry-interval", d.RetryInterval, "pause before retrying an operation a node refused as not the room's owner")
	fs.DurationVar(&c.ResyncInterval, "resync-interval", d.ResyncInterval, "how often edges re-announce all their members to the owners (0: only on ring changes and reconnects)")
	fs.DurationVar(&c.ResyncRetry, "resync-retry", d.ResyncRetry, "pause before retrying failed member announcements")
	fs.DurationVar(&c.RebuildWindow, "rebuild-window", d.RebuildWindow, "after a ring change, the longest owners wait for every member's announcements before answering enters and sending viewer snapshots")
	fs.IntVar(&c.CatalogQueueLen, "catalog-queue", d.CatalogQueueLen, "catalog updates waiting to be applied; beyond it updates are dropped until the next full-state exchange")
}

// Enabled reports whether the node is to be a cluster member: it has a
// gossip address or seeds to join.
func (c *Config) Enabled() bool {
	return c.Membership.BindAddr != "" || len(c.Membership.Join) > 0
}

// Complete fills defaults that derive from other settings: the key from
// the environment (or DevKey when dev), the peer address from the gossip
// address (same host, next port).
func (c *Config) Complete(dev bool) {
	if c.Key == "" {
		c.Key = os.Getenv(KeyEnv)
	}
	if c.Key == "" && dev {
		c.Key = DevKey
	}
	if c.Peer.ListenAddr == "" {
		if host, port, err := net.SplitHostPort(c.Membership.BindAddr); err == nil {
			if p, err := strconv.Atoi(port); err == nil && p > 0 {
				c.Peer.ListenAddr = net.JoinHostPort(host, strconv.Itoa(p+1))
			} else {
				c.Peer.ListenAddr = net.JoinHostPort(host, "0")
			}
		}
	}
	// A peer listener on every interface is advertised at the gossip
	// advertise host.
	if c.Peer.AdvertiseAddr == "" && c.Membership.AdvertiseAddr != "" {
		lhost, lport, err1 := net.SplitHostPort(c.Peer.ListenAddr)
		ahost, _, err2 := net.SplitHostPort(c.Membership.AdvertiseAddr)
		if err1 == nil && err2 == nil && (lhost == "" || net.ParseIP(lhost) != nil && net.ParseIP(lhost).IsUnspecified()) && lport != "0" {
			c.Peer.AdvertiseAddr = net.JoinHostPort(ahost, lport)
		}
	}
}

// Validate reports settings the cluster cannot work with.
func (c *Config) Validate() error {
	var errs []error
	if c.Membership.BindAddr == "" {
		errs = append(errs, errors.New("--join needs --gossip-addr"))
	}
	if c.Key == "" {
		errs = append(errs, fmt.Errorf("a cluster key is required: --cluster-key or %s", KeyEnv))
	}
	for _, err := range []error{c.Membership.Validate(), c.Peer.Validate(), c.Ring.Validate()} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if c.ForwardTimeout <= 0 || c.RetryInterval <= 0 || c.ResyncRetry <= 0 || c.RebuildWindow <= 0 || c.ResyncInterval < 0 {
		errs = append(errs, errors.New("forward-timeout, forward-retry-interval, resync-retry and rebuild-window must be positive, resync-interval not negative"))
	}
	if c.RebuildWindow >= c.ForwardTimeout {
		errs = append(errs, errors.New("rebuild-window must be shorter than forward-timeout (enters wait for rebuilds)"))
	}
	if c.CatalogQueueLen < 1 {
		errs = append(errs, errors.New("catalog-queue must be at least 1"))
	}
	return errors.Join(errs...)
}

// MemberName returns a member name for a node whose configured name is
// base (a host or pod name): base plus a random suffix, so that a restarted
// node is a new member and never inherits its previous run's presences.
func MemberName(base string) string {
	var b strings.Builder
	for _, r := range base {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r) {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		b.WriteString("node")
	}
	if b.Len() > 100 {
		s := b.String()[:100]
		b.Reset()
		b.WriteString(s)
	}
	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix) // crypto/rand.Read never fails (it panics instead)
	return b.String() + "-" + hex.EncodeToString(suffix)
}

// Deps are the Router's collaborators.
type Deps struct {
	// Name is this node's member name (MemberName); it is also the edge's id.
	Name    string
	Edge    *edge.Edge
	Catalog *catalog.Catalog
	// Room tunes the local owner of the rooms this node owns.
	Room room.Config
	// Reactions stores resource reactions; Reaction bounds them.
	Reactions store.ResourceReactions
	Reaction  reaction.Config
	// AdminAddr is where this node's admin API answers (its admin listener,
	// else its HTTP listener), reported to the operator.
	AdminAddr string
	Logger    *slog.Logger
	Registry  prometheus.Registerer
}

// meta is what a node gossips about itself.
type meta struct {
	Peer string `json:"peer"`
	// Admin is the member's admin API address (the key predates
	// --admin-listen, when it was always the HTTP listener).
	Admin string `json:"http"`
}

// Router is a node's part in the cluster. It is safe for concurrent use.
type Router struct {
	cfg         Config
	name        string
	incarnation string
	adminAddr   string
	log         *slog.Logger
	met         *metrics

	edge    *edge.Edge
	catalog *catalog.Catalog
	owner   *owner.Local
	rooms   *room.Manager // owner's

	ml   *membership.Membership
	mesh *peer.Mesh
	ring atomic.Pointer[ring.Ring]
	// ringMu serialises ring updates (membership changes, Depart).
	ringMu sync.Mutex
	// locks order each room's membership changes: an edge's announcement of
	// a room and its Enter/Leave for it leave this node in the order they
	// happened, and an owner checks ownership and applies under the same
	// lock, so a room it stops owning keeps no late state.
	locks [256]sync.Mutex

	resyncMu      sync.Mutex
	resyncPending map[string]struct{}
	resyncKick    chan struct{}
	owedReport    bool // a ring change happened: report once announcements are through

	// reports holds, per member, the ring under which it last reported its
	// announcements through (see report, synced).
	reportsMu sync.Mutex
	reports   map[string]uint64

	catalogQ chan catalogUpdate

	// rebuild is the current rebuild window (nil: none); rebuildTimer
	// closes it. Guarded by ringMu, read atomically.
	rebuild      atomic.Pointer[rebuild]
	rebuildTimer *time.Timer

	leaving atomic.Bool
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  sync.Once
}

// New builds a Router: it binds the peer listener and the gossip port and
// starts gossip, alone until Start joins the seeds.
func New(cfg Config, d Deps) (*Router, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if !ring.ValidName(d.Name) {
		return nil, fmt.Errorf("invalid node name %q: use letters, digits, '.', '_' and '-'", d.Name)
	}
	keys, err := key.Derive(cfg.Key)
	if err != nil {
		return nil, err
	}
	r := &Router{cfg: cfg, name: d.Name, adminAddr: d.AdminAddr, log: d.Logger.With("component", "cluster", "node", d.Name),
		edge: d.Edge, catalog: d.Catalog,
		resyncPending: map[string]struct{}{}, resyncKick: make(chan struct{}, 1), reports: map[string]uint64{},
		catalogQ: make(chan catalogUpdate, cfg.CatalogQueueLen), stop: make(chan struct{})}
	r.incarnation = newIncarnation()
	r.met = newMetrics(r)
	if d.Registry != nil {
		if err := r.met.register(d.Registry); err != nil {
			return nil, err
		}
	}
	alone, err := ring.New(cfg.Ring, []string{r.name})
	if err != nil {
		return nil, err
	}
	r.ring.Store(alone)
	r.owner = owner.New(owner.Config{Room: d.Room, Reaction: d.Reaction}, d.Reactions, r)
	r.rooms = r.owner.Rooms()

	r.mesh, err = peer.New(cfg.Peer, r.name, keys.Peer, r, r.log, d.Registry)
	if err != nil {
		r.owner.Close()
		return nil, err
	}
	m, err := json.Marshal(meta{Peer: r.mesh.Addr(), Admin: d.AdminAddr})
	if err != nil {
		_ = r.mesh.Close()
		r.owner.Close()
		return nil, fmt.Errorf("encode member metadata: %w", err)
	}
	// Gossip may call the delegate as soon as it exists: everything it
	// touches is ready by now.
	r.ml, err = membership.New(cfg.Membership, r.name, keys.Gossip, m, (*gossip)(r), r.log, d.Registry)
	if err != nil {
		_ = r.mesh.Close()
		r.owner.Close()
		return nil, err
	}
	r.catalog.Replicate(r.name, r.catalogWritten)
	return r, nil
}

func newIncarnation() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}

// Start joins the cluster (in the background, retrying the seeds) and
// starts the Router's loops.
func (r *Router) Start() {
	r.wg.Add(3)
	go r.watchMembers()
	go r.applyCatalog()
	go r.resyncLoop()
	r.ml.Start()
}

// Name is this node's member name.
func (r *Router) Name() string { return r.name }

// Ready reports whether the node is a member of the ring: it has joined
// (reached a seed, or has none) and is not leaving.
func (r *Router) Ready() bool { return r.ml.Joined() && !r.leaving.Load() }

// GossipAddr is the gossip address other nodes join.
func (r *Router) GossipAddr() string { return r.ml.Addr() }

// PeerAddr is the peer-link address other nodes dial.
func (r *Router) PeerAddr() string { return r.mesh.Addr() }

// Local is the local owner of the rooms this node owns.
func (r *Router) Local() *owner.Local { return r.owner }

// Rooms is the soft state of the rooms this node owns.
func (r *Router) Rooms() *room.Manager { return r.rooms }

// MemberNames returns the names of the live members, this node included.
func (r *Router) MemberNames() []string { return r.ringNow().Members() }

// OwnerOf returns the member that owns room in this node's view.
func (r *Router) OwnerOf(room string) string { return r.ringNow().Owner(room) }

func (r *Router) ringNow() *ring.Ring { return r.ring.Load() }

func (r *Router) lockRoom(room string) func() {
	mu := &r.locks[lane(room)%uint32(len(r.locks))]
	mu.Lock()
	return mu.Unlock
}

// lane is the peer-link lane of a room (its frames are handled in order),
// also the stripe of its lock.
func lane(room string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(room))
	return h.Sum32()
}

// Depart hands this node's rooms over and announces its departure: its own
// users leave the rooms it owns (their viewers are told), it stops owning
// anything, and the other members learn of the departure at once instead
// of suspecting a crash. Sessions stay open; the caller closes them next
// (1012), and their leaves go to the new owners.
func (r *Router) Depart(ctx context.Context) error {
	if r.leaving.Swap(true) {
		return nil
	}
	r.rooms.DropEdge(r.name)
	r.updateRing() // without this node: forget every room, forward to the new owners
	if err := r.ml.Leave(); err != nil {
		return err
	}
	return ctx.Err()
}

// Close stops the Router: gossip stops without a leave announcement (after
// Depart, or as a crash would), links close, loops end. It is idempotent.
func (r *Router) Close() error {
	var err error
	r.closed.Do(func() {
		close(r.stop)
		err = errors.Join(r.ml.Shutdown(), r.mesh.Close())
		r.wg.Wait()
		r.ringMu.Lock()
		if r.rebuildTimer != nil {
			r.rebuildTimer.Stop()
		}
		r.ringMu.Unlock()
		r.owner.Close()
	})
	return err
}
