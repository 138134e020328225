// Package ringsim simulates a pool's placement at scale in one process:
// 50–100 members of the real gossip (node/cluster/membership over
// memberlist, on loopback, encrypted as the nodes' is) and the real ring
// (node/cluster/ring over buraksezer/consistent). It measures how long the
// members take to agree on the membership after a start, a join, a
// graceful leave and a crash, the share of rooms whose owner changes with
// each, and how long a gossiped message (as a catalog record) takes to
// reach every member. `roomring loadgen ringsim`; figures in
// docs/capacity.md.
package ringsim

import (
	"errors"
	"flag"
	"time"

	"github.com/roomring/roomring/node/cluster/membership"
	"github.com/roomring/roomring/node/cluster/ring"
)

// Config is a simulation.
type Config struct {
	// Members is the pool's size before the join.
	Members int
	// Rooms is the number of room ids placed on the ring.
	Rooms int
	// Host is the loopback address every member binds (port 0).
	Host string
	// Messages is the number of catalog records whose spread is timed.
	Messages int
	// CatalogTimeout bounds the wait for a record to reach every member.
	CatalogTimeout time.Duration
	// StartRate bounds how many members start per second.
	StartRate float64
	// StartTimeout bounds the wait for the started pool to agree; Timeout
	// each later wait for agreement.
	StartTimeout time.Duration
	Timeout      time.Duration

	Gossip membership.Config
	Ring   ring.Config
}

// RegisterFlags registers the simulation's flags, the gossip's and the
// ring's with the nodes' names and defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.IntVar(&c.Members, "members", 60, "members of the simulated pool (a join makes one more)")
	fs.IntVar(&c.Rooms, "rooms", 100_000, "room ids placed on the ring")
	fs.StringVar(&c.Host, "host", "127.0.0.1", "loopback address the members bind")
	fs.IntVar(&c.Messages, "records", 3, "catalog records made on one member whose spread (gossip, push/pull) is timed")
	fs.DurationVar(&c.CatalogTimeout, "catalog-timeout", 20*time.Second, "longest wait for a record to reach every member (push/pull repairs what gossip misses)")
	fs.Float64Var(&c.StartRate, "start-rate", 20, "members started per second")
	fs.DurationVar(&c.StartTimeout, "start-timeout", 3*time.Minute, "longest wait for the started pool to agree")
	fs.DurationVar(&c.Timeout, "timeout", 60*time.Second, "longest wait for the members to agree after a join, a leave or a crash")
	c.Gossip.RegisterFlags(fs)
	c.Ring = ring.DefaultConfig()
	c.Ring.RegisterFlags(fs)
}

// Validate reports a simulation that cannot run.
func (c *Config) Validate() error {
	var errs []error
	if c.Members < 3 || c.Members > 200 {
		errs = append(errs, errors.New("--members must be within 3..200 (each holds a UDP and a TCP socket)"))
	}
	if c.Members+1 > c.Ring.MaxMembers() {
		errs = append(errs, errors.New("--members + 1 exceeds what --ring-partitions can place (partitions / 2)"))
	}
	if c.Rooms < 1 || c.Rooms > 10_000_000 {
		errs = append(errs, errors.New("--rooms must be within 1..10,000,000"))
	}
	if c.Messages < 0 || c.StartRate <= 0 || c.Timeout <= 0 || c.StartTimeout <= 0 || c.CatalogTimeout <= 0 {
		errs = append(errs, errors.New("--records must not be negative; --start-rate and the timeouts must be positive"))
	}
	if err := c.Ring.Validate(); err != nil {
		errs = append(errs, err)
	}
	g := c.Gossip
	g.BindAddr = c.Host + ":0"
	if err := g.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
