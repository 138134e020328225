package membership

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
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
	// MaxStreams bounds the inbound gossip streams (push/pull exchanges,
	// TCP probes) served at once: anyone who reaches the port can open
	// one, and memberlist buffers its whole message before it can check
	// the key. Beyond it new streams are closed at once.
	MaxStreams int
	// StreamMaxBytes bounds what one inbound stream may send; it must hold
	// the largest push/pull state (the whole catalog).
	StreamMaxBytes int64
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
		MaxStreams:              8,
		StreamMaxBytes:          8 << 20,
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
	fs.IntVar(&c.MaxStreams, "gossip-max-streams", d.MaxStreams, "inbound gossip streams (push/pull, TCP probes) served at once; beyond it new ones are closed")
	fs.Int64Var(&c.StreamMaxBytes, "gossip-stream-max-bytes", d.StreamMaxBytes, "bytes one inbound gossip stream may send (must hold the whole catalog)")
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
	if c.BroadcastQueueLen < 1 || c.MaxStreams < 1 {
		errs = append(errs, errors.New("gossip-broadcast-queue and gossip-max-streams must be at least 1"))
	}
	if c.StreamMaxBytes < 64<<10 {
		errs = append(errs, errors.New("gossip-stream-max-bytes must be at least 64 KiB"))
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
