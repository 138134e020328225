package controllers

import (
	"errors"
	"flag"
	"strings"
	"time"
)

// Config tunes the Room controller and the pool watcher.
type Config struct {
	// StatusInterval is how often each Room is reconciled when nothing
	// changes: its status (owner node, viewer count) is at most this old,
	// and a pool that lost the room (a node restarted empty) gets it back
	// within it.
	StatusInterval time.Duration
	// PoolPollInterval is how often the pool watcher asks every node of the
	// pool who it is and which members it sees; a change (a node joined,
	// left, died or restarted) requeues every Room.
	PoolPollInterval time.Duration
	// PoolReadyWindow is how recently a node of the pool must have answered
	// the pool watcher for the operator's /readyz to pass; at least
	// PoolPollInterval.
	PoolReadyWindow time.Duration
	// PruneInterval is how often rooms the pool serves without a Room
	// claiming them are closed (also done after every pool change); 0
	// disables pruning.
	PruneInterval time.Duration
	// Namespaces restricts the Rooms the operator serves; empty means every
	// namespace.
	Namespaces []string
	// MaxConcurrentReconciles is how many Rooms are reconciled at once.
	MaxConcurrentReconciles int
	// ConflictRequeueDelay is how long a reconcile whose write lost to a
	// newer version of the Room waits before it runs again.
	ConflictRequeueDelay time.Duration
	// NamespaceClaimDuration is how long a claim on a watched namespace
	// (namespace_claim.go) lasts unrenewed; it is renewed every third of it.
	NamespaceClaimDuration time.Duration
	// NamespaceClaimHolder names this operator in its claims (the chart:
	// RELEASE-NAMESPACE/RELEASE); empty: the leader election Lease, or the
	// process.
	NamespaceClaimHolder string
	// ReportUnwatchedRooms records a Warning Event on the Rooms of every
	// namespace no operator claims (unwatched_rooms.go); it needs
	// Namespaces and cluster-wide read rights on Rooms and Leases.
	ReportUnwatchedRooms bool
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{StatusInterval: 5 * time.Second, PoolPollInterval: 2 * time.Second,
		PoolReadyWindow: 30 * time.Second,
		PruneInterval:   time.Minute, MaxConcurrentReconciles: 4, ConflictRequeueDelay: 200 * time.Millisecond,
		NamespaceClaimDuration: 15 * time.Second}
}

// RegisterFlags registers the settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	*c = d
	fs.DurationVar(&c.StatusInterval, "status-interval", d.StatusInterval, "how often each Room's status (owner, viewers) is refreshed from the pool")
	fs.DurationVar(&c.PoolPollInterval, "pool-poll-interval", d.PoolPollInterval, "how often the pool's membership is checked; a change requeues every Room")
	fs.DurationVar(&c.PoolReadyWindow, "pool-ready-window", d.PoolReadyWindow, "/readyz fails when no node of the pool answered a poll for this long")
	fs.DurationVar(&c.PruneInterval, "prune-interval", d.PruneInterval, "how often rooms no Room claims are closed on the pool (0: never)")
	fs.Func("watch-namespace", "serve the Rooms and Worlds of this namespace only (repeatable or comma-separated; default: all namespaces)", func(s string) error {
		for _, ns := range strings.Split(s, ",") {
			if ns = strings.TrimSpace(ns); ns != "" {
				c.Namespaces = append(c.Namespaces, ns)
			}
		}
		return nil
	})
	fs.IntVar(&c.MaxConcurrentReconciles, "max-concurrent-reconciles", d.MaxConcurrentReconciles, "Rooms reconciled at once")
	fs.DurationVar(&c.ConflictRequeueDelay, "conflict-requeue-delay", d.ConflictRequeueDelay, "wait before reconciling a Room again after a write conflict")
	fs.DurationVar(&c.NamespaceClaimDuration, "namespace-claim-duration", d.NamespaceClaimDuration, "how long this operator's claim on a watched namespace lasts unrenewed (renewed every third of it)")
	fs.BoolVar(&c.ReportUnwatchedRooms, "report-unwatched-rooms", false, "record a Warning Event on Rooms in namespaces no operator serves (needs --watch-namespace and cluster-wide rights)")
	fs.StringVar(&c.NamespaceClaimHolder, "namespace-claim-holder", "", "this operator's name in its namespace claims (default: the leader election Lease, else the process)")
}

// Validate reports configuration errors.
func (c *Config) Validate() error {
	var errs []error
	if c.StatusInterval <= 0 || c.PoolPollInterval <= 0 || c.ConflictRequeueDelay <= 0 {
		errs = append(errs, errors.New("--status-interval, --pool-poll-interval and --conflict-requeue-delay must be positive"))
	}
	if c.PoolReadyWindow < c.PoolPollInterval {
		errs = append(errs, errors.New("--pool-ready-window must be at least --pool-poll-interval"))
	}
	if c.PruneInterval < 0 {
		errs = append(errs, errors.New("--prune-interval must not be negative"))
	}
	if c.NamespaceClaimDuration < time.Second {
		errs = append(errs, errors.New("--namespace-claim-duration must be at least 1s"))
	}
	if c.ReportUnwatchedRooms && len(c.Namespaces) == 0 {
		errs = append(errs, errors.New("--report-unwatched-rooms needs --watch-namespace (an operator of every namespace leaves none unwatched)"))
	}
	if c.MaxConcurrentReconciles < 1 {
		errs = append(errs, errors.New("--max-concurrent-reconciles must be at least 1"))
	}
	return errors.Join(errs...)
}
