// Package membership is a node's view of which nodes are alive: it runs
// hashicorp/memberlist (SWIM gossip, encrypted with the cluster's gossip
// key), keeps the current member set with each member's metadata, and
// carries the application's small broadcasts and full-state exchanges.
//
// Failure detection is memberlist's: every ProbeInterval a node probes a
// random member (directly, then through IndirectChecks others, then over
// TCP); a member that fails the probe becomes suspect and, unless it
// refutes, is declared dead after SuspicionMult × log10(max(10, n)) ×
// ProbeInterval (shortened as other members confirm the suspicion). See
// docs/cluster.md for what the defaults mean in seconds.
package membership

import (
	"bytes"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
)

// Member is a live (alive or suspect) node.
type Member struct {
	Name string
	// Addr is the member's gossip address.
	Addr string
	// Meta is what the member's Membership was created with.
	Meta []byte
}

// Delegate is the application's side of gossip.
//
// Its methods are called from memberlist's goroutines, possibly several at
// once: they must be safe for concurrent use and must not block (queue
// work, bounded, instead), or they stall failure detection.
type Delegate interface {
	// NotifyMsg receives a broadcast another member queued with Broadcast.
	// msg is the delegate's to keep.
	NotifyMsg(msg []byte)
	// LocalState returns this node's full application state, sent to a
	// member during a push/pull exchange (on join and every
	// PushPullInterval).
	LocalState() []byte
	// MergeRemoteState merges a member's LocalState.
	MergeRemoteState(state []byte)
}

// Membership runs gossip for one node. It is safe for concurrent use.
type Membership struct {
	cfg   Config
	name  string
	d     Delegate
	log   *slog.Logger
	ml    *memberlist.Memberlist
	queue *memberlist.TransmitLimitedQueue

	mu      sync.Mutex
	members map[string]Member
	dead    map[string]deadMember // died or left, retried until ReconnectTimeout

	meta    []byte
	joined  atomic.Bool
	changes chan struct{}
	stop    chan struct{}
	wg      sync.WaitGroup
	closed  sync.Once

	mMembers prometheus.GaugeFunc
	mEvents  *prometheus.CounterVec
}

type deadMember struct {
	addr  string
	since time.Time
}

// New starts gossip for the node name with the 32-byte gossip key and
// metadata meta (at most 512 bytes, e.g. the node's peer address). The node
// is alone until Start joins the seeds.
func New(cfg Config, name string, key []byte, meta []byte, d Delegate, logger *slog.Logger, reg prometheus.Registerer) (*Membership, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("member metadata is %d bytes, at most %d", len(meta), memberlist.MetaMaxSize)
	}
	m := &Membership{cfg: cfg, name: name, d: d, log: logger,
		members: map[string]Member{}, dead: map[string]deadMember{}, meta: bytes.Clone(meta),
		changes: make(chan struct{}, 1), stop: make(chan struct{})}
	mc := memberlist.DefaultLANConfig()
	mc.Name = name
	host, port, err := splitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("gossip-addr: %w", err)
	}
	mc.BindAddr, mc.BindPort = host, port
	mc.AdvertiseAddr, mc.AdvertisePort = "", port
	if cfg.AdvertiseAddr != "" {
		ah, ap, err := splitHostPort(cfg.AdvertiseAddr)
		if err != nil {
			return nil, fmt.Errorf("gossip-advertise-addr: %w", err)
		}
		mc.AdvertiseAddr, mc.AdvertisePort = ah, ap
	} else if host != "0.0.0.0" && host != "::" && host != "" {
		mc.AdvertiseAddr = host
	}
	mc.SecretKey = key
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	mc.ProbeInterval, mc.ProbeTimeout = cfg.ProbeInterval, cfg.ProbeTimeout
	mc.SuspicionMult, mc.SuspicionMaxTimeoutMult = cfg.SuspicionMult, cfg.SuspicionMaxTimeoutMult
	mc.GossipInterval, mc.RetransmitMult = cfg.GossipInterval, cfg.RetransmitMult
	mc.PushPullInterval = cfg.PushPullInterval
	mc.UDPBufferSize = UDPPacketBytes
	lw := newLogWriter(logger)
	mc.Logger = log.New(lw, "", 0)
	mc.Delegate = (*delegate)(m)
	mc.Events = (*events)(m)
	mc.Conflict = (*events)(m)
	m.queue = &memberlist.TransmitLimitedQueue{RetransmitMult: cfg.RetransmitMult, NumNodes: m.numMembers}

	m.mEvents = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "roomring_cluster_member_events_total", Help: "Membership changes seen by this node, by event (join, leave, update).",
	}, []string{"event"})
	m.mMembers = prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "roomring_cluster_members", Help: "Live (alive or suspect) cluster members, this node included.",
	}, func() float64 { return float64(m.numMembers()) })
	if reg != nil {
		if err := registerAll(reg, m.mEvents, m.mMembers); err != nil {
			return nil, err
		}
	}

	tr, err := newGuardedTransport(mc, cfg, mc.Logger)
	if err != nil {
		return nil, err
	}
	mc.Transport = tr
	if reg != nil {
		if err := registerAll(reg, tr.refused, tr.tooLong, lw.lines, lw.suppressed); err != nil {
			_ = tr.Shutdown()
			return nil, err
		}
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		_ = tr.Shutdown()
		return nil, fmt.Errorf("start gossip on %s: %w", cfg.BindAddr, err)
	}
	m.ml = ml
	return m, nil
}

func registerAll(reg prometheus.Registerer, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register membership metrics: %w", err)
		}
	}
	return nil
}

// Start joins the seeds in the background (retrying until one answers) and
// keeps retrying members declared dead. It returns at once.
func (m *Membership) Start() {
	m.wg.Add(1)
	go m.rejoinLoop()
}

func (m *Membership) rejoinLoop() {
	defer m.wg.Done()
	joined := len(m.cfg.Join) == 0
	m.joined.Store(joined)
	t := time.NewTicker(m.cfg.JoinRetryInterval)
	defer t.Stop()
	for {
		var addrs []string
		if !joined {
			addrs = append(addrs, m.cfg.Join...)
		}
		addrs = append(addrs, m.deadAddrs()...)
		if len(addrs) > 0 {
			n, err := m.ml.Join(addrs)
			switch {
			case !joined && n > 0:
				joined = true
				m.joined.Store(true)
				m.log.Info("joined cluster", "contacted", n, "members", m.numMembers())
			case !joined:
				m.log.Warn("no seed answered; retrying", "seeds", m.cfg.Join, "err", err)
			}
		}
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
	}
}

// deadAddrs returns the addresses of members declared dead that are still
// worth retrying, forgetting the others.
func (m *Membership) deadAddrs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for name, d := range m.dead {
		if time.Since(d.since) > m.cfg.ReconnectTimeout {
			delete(m.dead, name)
			continue
		}
		out = append(out, d.addr)
	}
	return out
}

// Joined reports whether the node has reached a seed (always true without
// seeds: it is the cluster's first member).
func (m *Membership) Joined() bool { return m.joined.Load() }

// Name is this node's member name.
func (m *Membership) Name() string { return m.name }

// Addr is the gossip address this node advertises.
func (m *Membership) Addr() string { return m.ml.LocalNode().Address() }

// Members returns the live members, this node included, sorted by name.
func (m *Membership) Members() []Member {
	m.mu.Lock()
	out := make([]Member, 0, len(m.members))
	for _, mb := range m.members {
		out = append(out, mb)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Member returns the live member named name, if there is one.
func (m *Membership) Member(name string) (Member, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	mb, ok := m.members[name]
	return mb, ok
}

func (m *Membership) numMembers() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.members)
}

// Changes receives a value after the member set or a member's metadata
// changed. Notifications coalesce: read Members after receiving.
func (m *Membership) Changes() <-chan struct{} { return m.changes }

// Broadcast queues msg (at most BroadcastMaxBytes) to be gossiped to every
// member; each member's Delegate.NotifyMsg receives it once or, rarely,
// not at all (full-state exchanges repair what gossip misses).
func (m *Membership) Broadcast(msg []byte) error {
	if len(msg) > m.cfg.BroadcastMaxBytes {
		return fmt.Errorf("broadcast of %d bytes exceeds the %d-byte limit", len(msg), m.cfg.BroadcastMaxBytes)
	}
	m.queue.QueueBroadcast(broadcast(bytes.Clone(msg)))
	m.queue.Prune(m.cfg.BroadcastQueueLen)
	return nil
}

// BroadcastMaxBytes is the largest message Broadcast accepts.
func (m *Membership) BroadcastMaxBytes() int { return m.cfg.BroadcastMaxBytes }

// Leave announces this node's departure and waits up to LeaveTimeout for
// the announcement to spread; other members drop the node at once instead
// of suspecting it first.
func (m *Membership) Leave() error {
	if err := m.ml.Leave(m.cfg.LeaveTimeout); err != nil {
		return fmt.Errorf("leave cluster: %w", err)
	}
	return nil
}

// Shutdown stops gossip without announcing anything (after Leave, or to
// simulate a crash). It is idempotent.
func (m *Membership) Shutdown() error {
	var err error
	m.closed.Do(func() {
		close(m.stop)
		if e := m.ml.Shutdown(); e != nil {
			err = fmt.Errorf("stop gossip: %w", e)
		}
		m.wg.Wait()
	})
	return err
}
