package node

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"

	"github.com/roomring/roomring/node/manifest"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/cluster"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/kube"
	"github.com/roomring/roomring/node/metrics"
	"github.com/roomring/roomring/node/owner"
	"github.com/roomring/roomring/node/protocol/socketio"
	"github.com/roomring/roomring/node/protocol/venueless"
	"github.com/roomring/roomring/node/room"
	"github.com/roomring/roomring/node/server"
	"github.com/roomring/roomring/node/session"
	"github.com/roomring/roomring/node/store"
)

// SampleRooms is the rooms file --dev loads when --rooms is not given.
const SampleRooms = "config/samples/rooms.yaml"

// Node is a running node.
type Node struct {
	cfg     Config
	log     *slog.Logger
	store   store.Store
	catalog *catalog.Catalog
	// owner owns this node's rooms (all of them when standalone).
	owner *owner.Local
	edge  *edge.Edge
	// announce tells the sessions about catalog changes (engine's and
	// cluster's alike), coalescing world.updated.
	announce *announce.Announcer
	// worlds maps each world the node serves to its engine.
	worlds *worlds
	server *server.Server
	ln     net.Listener
	// adminLn serves the admin API alone (--admin-listen); nil: the admin
	// API is on ln.
	adminLn net.Listener
	// reg holds the node's metrics (the store's too).
	reg *prometheus.Registry
	// pool answers the admin API's questions about the pool: a pool of one
	// until the node joins a cluster.
	pool admin.Pool
	// cluster is nil on a standalone node.
	cluster *cluster.Cluster
	// debug serves profiles (--debug-addr); nil when off.
	debug *debugServer
	// stopGC stops the catalog's tombstone collection.
	stopGC func()
}

// New builds a node: opens the store, loads rooms, binds the listener.
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Node, error) {
	cfg.Complete()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, w := range append(cfg.Warnings(), cfg.AcceptedRisks()...) {
		log.Warn(w.Msg, w.Args...)
	}
	if cfg.Dev && cfg.JWTSecret == "" {
		b := make([]byte, 24)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("generate jwt secret: %w", err)
		}
		cfg.JWTSecret = hex.EncodeToString(b)
	}
	if cfg.DataDir == "" {
		if cfg.Dev {
			dir, err := os.MkdirTemp("", "roomring-dev-")
			if err != nil {
				return nil, fmt.Errorf("temp data dir: %w", err)
			}
			cfg.DataDir = dir
		} else {
			cfg.DataDir = "data"
		}
	}
	if cfg.Dev && cfg.RoomsFile == "" && !cfg.Kube.Enabled() {
		cfg.RoomsFile = SampleRooms
	}
	reg := prometheus.NewRegistry()
	st, err := openStore(ctx, cfg, log, reg)
	if err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: log, store: st, reg: reg}
	if cfg.Debug.Addr != "" {
		if n.debug, err = startDebug(cfg.Debug, log); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	if err := n.build(ctx); err != nil {
		_ = n.debug.close()
		_ = st.Close()
		return nil, err
	}
	return n, nil
}

func (n *Node) build(ctx context.Context) error {
	cfg := &n.cfg
	cat, err := n.openCatalog(ctx)
	if err != nil {
		return err
	}
	n.catalog = cat
	ln, adminAddr, err := n.listen()
	if err != nil {
		return err
	}
	closeListeners := func() {
		_ = ln.Close()
		if n.adminLn != nil {
			_ = n.adminLn.Close()
		}
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + ln.Addr().String()
	}
	edgeID := "local"
	if cfg.Cluster.Enabled() {
		edgeID = cfg.NodeName
	}
	n.edge = edge.New(edgeID)
	n.edge.SetEncoder(edge.Venueless, venueless.EncodeEvent)
	n.edge.SetEncoder(edge.SocketIO, socketio.EncodePush)
	n.announce = announce.New(n.edge, cfg.Announce.WorldUpdateWindow)
	n.announce.SetBuiltinWorld(cfg.WorldID)
	roomOwner, resources, err := n.buildOwner(cat, adminAddr)
	if err != nil {
		closeListeners()
		return err
	}
	m := n.registerMetrics(cat)
	if err := n.buildEngine(cat, roomOwner, resources, m); err != nil {
		closeListeners()
		return err
	}
	adminAPI := admin.NewHandler(cfg.Admin, n.worlds.Builtin(), n.worlds, n.pool, n.log.With("component", "admin"))
	srvCfg := server.Config{HTTP: cfg.HTTP, Conns: cfg.Conns, Surface: cfg.Surface,
		Session: cfg.Session, SocketIO: cfg.SocketIO, BeforeFrame: cfg.TestBeforeFrame,
		Internal: adminAPI.ServeHTTP, SeparateAdmin: n.adminLn != nil}
	if n.cluster != nil {
		srvCfg.Ready = n.cluster.Ready
	}
	n.server = server.New(srvCfg, n.worlds, m, n.reg, n.log)
	n.ln = ln
	if n.cluster != nil {
		if cfg.Cluster.Key == cluster.DevKey {
			n.log.Warn("cluster key: using the public development key (--dev); set --cluster-key or " + cluster.KeyEnv + " in production")
		}
		n.cluster.Start()
		n.log.Info("cluster member", "name", n.cluster.Name(), "gossip", n.cluster.GossipAddr(),
			"peer", n.cluster.PeerAddr(), "join", cfg.Cluster.Membership.Join.String())
	}
	n.stopGC = cat.StartGC(cfg.Catalog, n.log.With("component", "catalog"))
	return nil
}

// openCatalog opens the room catalog on the node's store and applies the
// --rooms file: only rooms whose manifest is new or changed are written,
// the others keep what was done to them since (catalog.ApplyManifests).
func (n *Node) openCatalog(ctx context.Context) (*catalog.Catalog, error) {
	cat, err := catalog.Open(ctx, n.store)
	if err != nil {
		return nil, err
	}
	cat.SetInviteCodeLength(n.cfg.Catalog.InviteCodeLength)
	if file := n.cfg.RoomsFile; file != "" {
		f, err := manifest.Load(file, n.cfg.SecretsDir)
		if err != nil {
			return nil, fmt.Errorf("rooms file %s: %w", file, err)
		}
		// Worlds first: the file's Rooms may name them. A World whose
		// configuration is unchanged is not written again.
		for _, w := range f.Worlds {
			if w.InviteRedirect != "" {
				if err := engine.ValidateInviteRedirect(w.InviteRedirect); err != nil {
					return nil, fmt.Errorf("world %s: %w", w.ID, err)
				}
			}
			if _, err := cat.PutWorld(ctx, w); err != nil {
				return nil, fmt.Errorf("load world %s: %w", w.ID, err)
			}
		}
		applied, err := cat.ApplyManifests(ctx, f.Rooms...)
		if err != nil {
			return nil, fmt.Errorf("load rooms: %w", err)
		}
		n.log.Info("rooms loaded", "file", file, "rooms", len(f.Rooms), "applied", len(applied), "worlds", len(f.Worlds))
	}
	return cat, nil
}

// listen opens the client listener and, with --admin-listen, the admin
// listener (n.adminLn); adminAddr is where the admin API answers.
func (n *Node) listen() (ln net.Listener, adminAddr string, err error) {
	ln, err = net.Listen("tcp", n.cfg.Listen)
	if err != nil {
		return nil, "", fmt.Errorf("listen: %w", err)
	}
	adminAddr = ln.Addr().String()
	if n.cfg.Admin.Listen != "" {
		if n.adminLn, err = net.Listen("tcp", n.cfg.Admin.Listen); err != nil {
			_ = ln.Close()
			return nil, "", fmt.Errorf("admin listen: %w", err)
		}
		adminAddr = n.adminLn.Addr().String()
	}
	return ln, adminAddr, nil
}

// buildEngine builds the node's world registry: an engine for the
// built-in world (from the flags) and for each world of the catalog, over
// the catalog and the room owner. Under Kubernetes admin actions write the
// Room resources, then the catalog; standalone, the catalog (and its
// store) only.
func (n *Node) buildEngine(cat *catalog.Catalog, roomOwner engine.Owner, resources engine.ResourceReactions, m *metrics.Metrics) error {
	cfg := &n.cfg
	secret := auth.Secret{Key: []byte(cfg.JWTSecret)}
	if !cfg.Dev {
		secret.Issuer, secret.Audience = cfg.JWTIssuer, cfg.JWTAudience
	}
	policy := &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: cfg.worldGrants()}
	var writer engine.RoomWriter
	if cfg.Kube.Enabled() {
		kc, err := kube.NewClient(cfg.Kube)
		if err != nil {
			return err
		}
		writer = kube.NewWriter(kc, cfg.Kube, cat, n.log.With("component", "kube"))
	}
	base := engine.Config{MaxConnsPerUser: cfg.MaxConnsPerUser, MaxProfileBytes: cfg.MaxProfileBytes, Invites: cfg.Invites,
		WorldViewCacheEntries: cfg.WorldViewCacheEntries}
	builtin := base
	builtin.WorldID, builtin.WorldTitle, builtin.Builtin = cfg.WorldID, cfg.WorldTitle, true
	builtin.InviteBaseURL, builtin.AllowGuests = cfg.PublicURL+"/i", cfg.AllowGuests
	builtin.InviteRedirect = cfg.InviteRedirect
	n.worlds = &worlds{cat: cat, announce: n.announce, log: n.log.With("component", "worlds"),
		builtin: builtin, builtinAuth: secret, builtinPol: policy, base: base, publicURL: cfg.PublicURL,
		closed: m.ForgetWorld,
		newEngine: func(c engine.Config, v *auth.Verifier, p *auth.Policy) *engine.Engine {
			return engine.New(c, engine.Deps{Verifier: v, Policy: p, Catalog: cat, Owner: roomOwner,
				Resources: resources, Edge: n.edge, Logger: n.log, Rooms: writer, Announce: n.announce,
				EncodeWorld: venueless.EncodeWorldUpdated})
		}}
	n.worlds.start()
	n.announce.OnWorld(n.worlds.changed)
	return nil
}

// registerMetrics registers the process and node collectors.
func (n *Node) registerMetrics(cat *catalog.Catalog) *metrics.Metrics {
	n.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return metrics.New(n.reg, metrics.Gauges{
		Rooms:   func() float64 { return float64(cat.Len()) },
		Active:  func() float64 { r, _ := n.owner.Rooms().Stats(); return float64(r) },
		Viewers: func() float64 { _, v := n.owner.Rooms().Stats(); return float64(v) },
	})
}

// buildOwner builds the one room owner of both modes and the engine's way
// to it: the owner itself on a standalone node; on a cluster member, the
// cluster's forwarder, with the owner behind the cluster's owner server.
func (n *Node) buildOwner(cat *catalog.Catalog, adminAddr string) (engine.Owner, engine.ResourceReactions, error) {
	cfg := &n.cfg
	newOwner := func(pub owner.Publisher) *owner.Local {
		rc := room.DefaultConfig()
		rc.Told = n.edge.Occupancy // the occupancy this node heard last
		return owner.New(owner.Config{Room: rc, Reaction: cfg.Reactions}, n.store, pub)
	}
	if !cfg.Cluster.Enabled() {
		// Standalone: this node owns every room.
		n.owner = newOwner(owner.EdgePublisher{Edge: n.edge})
		n.pool = admin.NewLocalPool(cfg.NodeName, adminAddr, n.owner.Rooms())
		return n.owner, n.owner, nil
	}
	// A cluster member: the ring decides which node owns each room; the
	// forwarder reaches it, the owner server serves this node's share.
	c, err := cluster.New(cfg.Cluster, cluster.Deps{Name: cfg.NodeName, Edge: n.edge, Catalog: cat,
		Owner: newOwner, AdminAddr: adminAddr, Logger: n.log, Registry: n.reg, Announce: n.announce})
	if err != nil {
		return nil, nil, err
	}
	n.cluster, n.owner, n.pool = c, c.Local(), c.Pool()
	return c.Forwarder(), c.Forwarder(), nil
}

// Catalog is the node's room catalog.
func (n *Node) Catalog() *catalog.Catalog { return n.catalog }

// Cluster is the node's part in its cluster, nil on a standalone node.
func (n *Node) Cluster() *cluster.Cluster { return n.cluster }

// Addr is the address the node listens on.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// AdminAddr is the address of the admin API: the admin listener's
// (--admin-listen), else the client listener's.
func (n *Node) AdminAddr() string {
	if n.adminLn != nil {
		return n.adminLn.Addr().String()
	}
	return n.Addr()
}

// Config is the completed configuration (with generated values filled in).
func (n *Node) Config() Config { return n.cfg }

// DataDir is the store directory in use.
func (n *Node) DataDir() string { abs, _ := filepath.Abs(n.cfg.DataDir); return abs }

// Serve serves the client listener, and the admin listener when there is
// one, until Shutdown; it returns nil after a shutdown. When one listener
// fails, the other is closed too.
func (n *Node) Serve() error {
	if n.adminLn == nil {
		return n.server.Serve(n.ln)
	}
	errc := make(chan error, 2)
	go func() { errc <- n.server.ServeAdmin(n.adminLn) }()
	go func() { errc <- n.server.Serve(n.ln) }()
	err := <-errc
	if err != nil {
		_ = n.ln.Close()
		_ = n.adminLn.Close()
	}
	return errors.Join(err, <-errc)
}

// Shutdown closes client sockets with 1001, stops the room owner and
// flushes and closes the store. A cluster member first hands its rooms over
// and announces its departure, then closes its sockets with 1012 (service
// restart) so that clients reconnect to another node. It is idempotent.
func (n *Node) Shutdown(ctx context.Context) error {
	var err error
	if n.cluster != nil {
		if derr := n.cluster.Depart(ctx); derr != nil {
			err = fmt.Errorf("leave cluster: %w", derr)
		}
		err = errors.Join(err, n.server.Shutdown(ctx, session.CloseServiceRestart))
		if cerr := n.cluster.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("stop cluster: %w", cerr))
		}
	} else {
		err = n.server.Shutdown(ctx, session.CloseGoingAway)
		n.owner.Close()
	}
	// The listeners are closed already unless Serve never ran.
	_ = n.ln.Close()
	if n.adminLn != nil {
		_ = n.adminLn.Close()
	}
	if n.stopGC != nil {
		n.stopGC()
	}
	n.announce.Close()
	if cerr := n.store.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close store: %w", cerr))
	}
	_ = n.debug.close()
	return err
}
