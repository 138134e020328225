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
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
)

// Config tunes gossip. The failure-detection defaults are memberlist's LAN
// profile: they suit nodes in one data centre or one Kubernetes cluster.
type Config struct {
	// BindAddr is the gossip listener, HOST:PORT, UDP and TCP on the same
	// port. Port 0 picks a free port (tests).
	BindAddr string
	// AdvertiseAddr is the address other nodes reach this node's gossip at,
	// HOST:PORT; empty means BindAddr (or, for 0.0.0.0, a private address
	// of this host).
	AdvertiseAddr string
	// Join lists seed members, HOST:PORT each. A node joins through any one
	// of them; while none answers it keeps retrying every JoinRetryInterval.
	Join StringList
	// JoinRetryInterval is the pause between join attempts while no seed
	// answered, and between attempts to reach members that were declared
	// dead or left (memberlist never probes them again by itself, so this
	// is how the two sides of a healed partition find each other).
	JoinRetryInterval time.Duration
	// ReconnectTimeout is how long a member that died or left is retried
	// before it is forgotten.
	ReconnectTimeout time.Duration
	// ProbeInterval is the period of failure-detection probes.
	ProbeInterval time.Duration
	// ProbeTimeout is how long a probe waits for an ack before asking other
	// members to probe indirectly. It should be above the network's 99th
	// percentile RTT.
	ProbeTimeout time.Duration
	// SuspicionMult scales how long a suspect member has to refute before it
	// is declared dead.
	SuspicionMult int
	// SuspicionMaxTimeoutMult caps the suspicion timeout at this multiple of
	// the minimum, which applies once enough members confirmed.
	SuspicionMaxTimeoutMult int
	// GossipInterval is the period of gossip rounds (state changes and
	// application broadcasts).
	GossipInterval time.Duration
	// RetransmitMult: each broadcast is gossiped RetransmitMult × log(n+1)
	// times.
	RetransmitMult int
	// PushPullInterval is the period of full-state exchanges with a random
	// member (the application's LocalState included); 0 disables them.
	PushPullInterval time.Duration
	// LeaveTimeout bounds how long a graceful leave waits for its
	// announcement to be gossiped.
	LeaveTimeout time.Duration
	// BroadcastMaxBytes is the largest application broadcast; it must fit
	// one gossip packet along with memberlist's own messages.
	BroadcastMaxBytes int
	// BroadcastQueueLen bounds the application broadcasts waiting to be
	// gossiped; beyond it the oldest are dropped (full-state exchanges
	// repair what they carried).
	BroadcastQueueLen int
}

// UDPPacketBytes is memberlist's gossip packet budget (its UDPBufferSize):
// safe for a 1500-byte MTU.
const UDPPacketBytes = 1400

// DefaultConfig returns memberlist's LAN settings with faster failure
// detection, and roomring's own.
func DefaultConfig() Config {
	lan := memberlist.DefaultLANConfig()
	return Config{
		JoinRetryInterval: 2 * time.Second,
		ReconnectTimeout:  10 * time.Minute,
		// Faster than memberlist's LAN profile (1s, 500ms, ×4), so that a
		// crashed owner's rooms move within ~2 s (docs/cluster.md).
		ProbeInterval:           500 * time.Millisecond,
		ProbeTimeout:            200 * time.Millisecond,
		SuspicionMult:           2,
		SuspicionMaxTimeoutMult: lan.SuspicionMaxTimeoutMult, // 6
		GossipInterval:          lan.GossipInterval,          // 200ms
		RetransmitMult:          lan.RetransmitMult,          // 4
		PushPullInterval:        15 * time.Second,
		LeaveTimeout:            5 * time.Second,
		BroadcastMaxBytes:       1024,
		BroadcastQueueLen:       256,
	}
}

// RegisterFlags registers the gossip settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	*c = d
	fs.StringVar(&c.BindAddr, "gossip-addr", "", "gossip listener HOST:PORT (UDP and TCP); setting it (or --join) makes the node a cluster member")
	fs.StringVar(&c.AdvertiseAddr, "gossip-advertise-addr", "", "gossip address other nodes use, HOST:PORT (default: --gossip-addr)")
	fs.Var(&c.Join, "join", "seed members' gossip addresses HOST:PORT[,HOST:PORT...]; without it the node is a cluster of one that others may join")
	fs.DurationVar(&c.JoinRetryInterval, "gossip-join-retry", d.JoinRetryInterval, "pause between attempts to reach seeds (and members declared dead)")
	fs.DurationVar(&c.ReconnectTimeout, "gossip-reconnect-timeout", d.ReconnectTimeout, "how long members declared dead are retried before they are forgotten")
	fs.DurationVar(&c.ProbeInterval, "gossip-probe-interval", d.ProbeInterval, "failure-detection probe period")
	fs.DurationVar(&c.ProbeTimeout, "gossip-probe-timeout", d.ProbeTimeout, "time a probe waits for an ack before indirect probes")
	fs.IntVar(&c.SuspicionMult, "gossip-suspicion-mult", d.SuspicionMult, "suspicion timeout multiplier: a suspect member is declared dead after mult × log10(max(10,n)) × probe interval")
	fs.IntVar(&c.SuspicionMaxTimeoutMult, "gossip-suspicion-max-mult", d.SuspicionMaxTimeoutMult, "cap of the suspicion timeout as a multiple of its minimum")
	fs.DurationVar(&c.GossipInterval, "gossip-interval", d.GossipInterval, "gossip round period")
	fs.IntVar(&c.RetransmitMult, "gossip-retransmit-mult", d.RetransmitMult, "each broadcast is gossiped mult × log(n+1) times")
	fs.DurationVar(&c.PushPullInterval, "gossip-push-pull-interval", d.PushPullInterval, "period of full-state exchanges (catalog anti-entropy); 0 disables")
	fs.DurationVar(&c.LeaveTimeout, "gossip-leave-timeout", d.LeaveTimeout, "how long a graceful leave waits for its announcement to spread")
	fs.IntVar(&c.BroadcastQueueLen, "gossip-broadcast-queue", d.BroadcastQueueLen, "catalog broadcasts waiting to be gossiped; beyond it the oldest are dropped")
}

// Validate reports settings memberlist cannot work with.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := splitHostPort(c.BindAddr); err != nil {
		errs = append(errs, fmt.Errorf("gossip-addr: %w", err))
	}
	if c.AdvertiseAddr != "" {
		if _, _, err := splitHostPort(c.AdvertiseAddr); err != nil {
			errs = append(errs, fmt.Errorf("gossip-advertise-addr: %w", err))
		}
	}
	for _, j := range c.Join {
		if _, _, err := net.SplitHostPort(j); err != nil {
			errs = append(errs, fmt.Errorf("join %q: %w", j, err))
		}
	}
	if c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.GossipInterval <= 0 || c.JoinRetryInterval <= 0 || c.LeaveTimeout <= 0 {
		errs = append(errs, errors.New("gossip intervals and timeouts must be positive"))
	}
	if c.ProbeTimeout >= c.ProbeInterval {
		errs = append(errs, errors.New("gossip-probe-timeout must be shorter than gossip-probe-interval"))
	}
	if c.SuspicionMult < 1 || c.SuspicionMaxTimeoutMult < 1 || c.RetransmitMult < 1 {
		errs = append(errs, errors.New("gossip multipliers must be at least 1"))
	}
	if c.PushPullInterval < 0 || c.ReconnectTimeout < 0 {
		errs = append(errs, errors.New("gossip-push-pull-interval and gossip-reconnect-timeout must not be negative"))
	}
	if c.BroadcastQueueLen < 1 {
		errs = append(errs, errors.New("gossip-broadcast-queue must be at least 1"))
	}
	if c.BroadcastMaxBytes < 64 || c.BroadcastMaxBytes > UDPPacketBytes-256 {
		errs = append(errs, fmt.Errorf("broadcast limit must be between 64 and %d bytes", UDPPacketBytes-256))
	}
	return errors.Join(errs...)
}

func splitHostPort(addr string) (string, int, error) {
	host, ps, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(ps)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("invalid port %q", ps)
	}
	return host, port, nil
}

// StringList is a comma-separated flag value.
type StringList []string

func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value; it appends, so the flag may also be repeated.
func (l *StringList) Set(s string) error {
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

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
	mc.Logger = log.New(logWriter{logger}, "", 0)
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

	ml, err := memberlist.Create(mc)
	if err != nil {
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
