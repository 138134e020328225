// Package ring maps room ids to their owner node: a consistent-hash ring
// (github.com/buraksezer/consistent, with bounded loads) over the names of
// the live members.
//
// A Ring is an immutable snapshot of one member set, so callers can compare
// the owners of two snapshots when membership changes. Every node that
// sees the same member set computes the same owners: the placement depends
// only on the members' names and the Config, never on the order in which
// members were added.
package ring

import (
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/buraksezer/consistent"
	"github.com/cespare/xxhash/v2"
)

// Config shapes the ring. Every node of a cluster must use the same values,
// or nodes disagree about owners.
type Config struct {
	// Partitions is the number of slots keys hash into; slots, not keys,
	// are assigned to members. It must be well above the number of members
	// (a prime spreads keys best).
	Partitions int
	// ReplicationFactor is the number of points each member has on the
	// ring; more points spread slots more evenly.
	ReplicationFactor int
	// Load bounds a member's share of slots at Load × the average share.
	Load float64
}

// DefaultConfig returns the defaults: 271 partitions, 20 points per member,
// loads bounded at 1.25 × the average.
func DefaultConfig() Config {
	return Config{Partitions: 271, ReplicationFactor: 20, Load: 1.25}
}

// RegisterFlags registers the ring's settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.Partitions, "ring-partitions", d.Partitions, "consistent-hash slots room ids hash into (same on every node)")
	fs.IntVar(&c.ReplicationFactor, "ring-replication", d.ReplicationFactor, "points per member on the consistent-hash ring (same on every node)")
	fs.Float64Var(&c.Load, "ring-load", d.Load, "bound of a member's share of slots, as a multiple of the average (same on every node)")
}

// Validate reports settings the ring cannot work with.
func (c *Config) Validate() error {
	switch {
	case c.Partitions < 1:
		return errors.New("ring-partitions must be at least 1")
	case c.ReplicationFactor < 1:
		return errors.New("ring-replication must be at least 1")
	case c.Load <= 1:
		return errors.New("ring-load must be greater than 1")
	}
	return nil
}

// MaxMembers is the largest member set a ring of cfg can place: bounded
// loads need at least two slots per member.
func (c *Config) MaxMembers() int { return c.Partitions / 2 }

// ValidName reports whether name can be a member name: 1 to 128 letters,
// digits, '.', '_' or '-'. Names of that alphabet cannot make two members'
// ring points collide (the points of member m are hashes of m + "/" + i).
func ValidName(name string) bool {
	if name == "" || len(name) > 128 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-", r)) {
			return false
		}
	}
	return true
}

// Ring is the placement of keys over one set of members. It is immutable
// and safe for concurrent use.
type Ring struct {
	members []string // sorted
	c       *consistent.Consistent
}

// member is a consistent.Member. Its ring identity ends in "/", which no
// valid name contains, so "a-1"+"/12" and "a-11"+"/2" cannot collide.
type member string

func (m member) String() string { return string(m) + "/" }

type hasher struct{}

func (hasher) Sum64(b []byte) uint64 { return xxhash.Sum64(b) }

// New places keys over members (duplicates are ignored). A ring without
// members has no owners.
func New(cfg Config, members []string) (*Ring, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set := slices.Clone(members)
	slices.Sort(set)
	set = slices.Compact(set)
	if len(set) > cfg.MaxMembers() {
		return nil, fmt.Errorf("ring of %d partitions cannot place %d members (at most %d)", cfg.Partitions, len(set), cfg.MaxMembers())
	}
	ms := make([]consistent.Member, 0, len(set))
	for _, name := range set {
		if !ValidName(name) {
			return nil, fmt.Errorf("invalid member name %q", name)
		}
		ms = append(ms, member(name))
	}
	r := &Ring{members: set}
	if len(ms) > 0 {
		r.c = consistent.New(ms, consistent.Config{Hasher: hasher{},
			PartitionCount: cfg.Partitions, ReplicationFactor: cfg.ReplicationFactor, Load: cfg.Load})
	}
	return r, nil
}

// Owner returns the member that owns key, or "" when the ring is empty.
func (r *Ring) Owner(key string) string {
	if r.c == nil {
		return ""
	}
	return strings.TrimSuffix(r.c.LocateKey([]byte(key)).String(), "/")
}

// Members returns the ring's members, sorted.
func (r *Ring) Members() []string { return slices.Clone(r.members) }

// Has reports whether name is a member.
func (r *Ring) Has(name string) bool {
	_, ok := slices.BinarySearch(r.members, name)
	return ok
}

// Equal reports whether both rings place over the same members.
func (r *Ring) Equal(o *Ring) bool { return slices.Equal(r.members, o.members) }
