package cluster

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/peer"
	"github.com/roomring/roomring/node/cluster/ring"
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
	// ResyncRetry is the longest pause before retrying resyncs that
	// failed; the first retry follows after RetryInterval, and the pause
	// doubles while retries keep failing.
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
	// FastFailover moves the rooms of a member whose process is gone as
	// soon as this node sees it — a connection to its peer address refused,
	// and its gossip address refusing too, TCP and UDP (goneDetector) —
	// instead of waiting for gossip to declare it dead. Off: gossip's
	// timing only.
	FastFailover bool
	// FastFailoverProbeTimeout bounds each step of the probe of a member's
	// gossip address after its peer address refused a connection (a TCP
	// dial, then a UDP datagram); a step that gets no answer within it
	// proves nothing, and gossip decides.
	FastFailoverProbeTimeout time.Duration
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

		FastFailover:             true,
		FastFailoverProbeTimeout: 250 * time.Millisecond,
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
	fs.DurationVar(&c.ResyncRetry, "resync-retry", d.ResyncRetry, "longest pause before retrying failed member announcements (the first retry follows after --forward-retry-interval, then the pause doubles)")
	fs.DurationVar(&c.RebuildWindow, "rebuild-window", d.RebuildWindow, "after a ring change, the longest owners wait for every member's announcements before answering enters and sending viewer snapshots")
	fs.BoolVar(&c.FastFailover, "fast-failover", d.FastFailover, "move the rooms of a member whose peer and gossip ports all refuse (its process is gone) at once, before gossip declares it dead")
	fs.DurationVar(&c.FastFailoverProbeTimeout, "fast-failover-probe-timeout", d.FastFailoverProbeTimeout, "how long each step of the probe of a member's gossip port (TCP dial, UDP datagram) waits after its peer port refused a connection; no answer proves nothing")
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
	if c.FastFailoverProbeTimeout <= 0 || c.FastFailoverProbeTimeout > c.ForwardTimeout {
		errs = append(errs, errors.New("fast-failover-probe-timeout must be positive and at most forward-timeout"))
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
