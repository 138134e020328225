package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"
)

// Tombstones. A deleted room leaves a tombstone so that an older copy of
// the room, on a node that missed the deletion, cannot bring it back
// (replica.go). Tombstones are kept TombstoneTTL after the deletion and then
// collected — removed from memory and the store — by each node on its own,
// every GCInterval. A tombstone's age counts from the deletion (Record.At,
// replicated with it), so every node collects it at about the same time, and
// a node that learns of the deletion late does not keep it longer.
//
// After the TTL, a node that was away all that time may still hold a live
// copy of the room. Each catalog remembers the time of the newest deletion
// it collected (the collection mark, persisted); a live record of a room it
// does not know that was written no later than that is such a copy, and the
// catalog deletes the room again instead of resurrecting it (Apply). Two
// kinds of tombstones are not collected: those of rooms declared, with the
// manifest they were deleted with, in this node's --rooms file (they are
// what keeps such a room deleted when the node restarts with the file; see
// ApplyManifests), and — once only — those stored before tombstones had a
// time, which are given the collection's time.

// Config tunes the collection of tombstones. Every field is a documented
// node flag (docs/cluster.md).
type Config struct {
	// TombstoneTTL is how long a deleted room's tombstone is kept, counted
	// from the deletion; 0 keeps tombstones forever. It must exceed the
	// longest time a node may be away and come back with its old catalog.
	TombstoneTTL time.Duration
	// GCInterval is how often each node collects the tombstones older than
	// TombstoneTTL, the first time one interval after the node started.
	GCInterval time.Duration
	// InviteCodeLength is the length of new anonymous invite codes (57
	// symbols each, about 5.8 bits): 6 as venueless, longer for rooms whose
	// codes must resist guessing beyond the per-address limit on failed
	// redemptions. Codes already issued keep their length. 0 means 6.
	InviteCodeLength int
}

// DefaultConfig returns the default tombstone settings: a week, so a node
// switched off over a long weekend comes back safely; tombstones are small.
func DefaultConfig() Config {
	return Config{TombstoneTTL: 7 * 24 * time.Hour, GCInterval: time.Hour, InviteCodeLength: inviteCodeLen}
}

// RegisterFlags registers the settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.DurationVar(&c.TombstoneTTL, "catalog-tombstone-ttl", d.TombstoneTTL, "how long a deleted room's tombstone is kept, from the deletion; longer than any node may be away (0: forever)")
	fs.DurationVar(&c.GCInterval, "catalog-gc-interval", d.GCInterval, "how often expired tombstones are collected")
	fs.IntVar(&c.InviteCodeLength, "invite-code-length", d.InviteCodeLength, fmt.Sprintf("length of new anonymous invite codes (%d to %d characters)", inviteCodeLen, maxInviteCodeLen))
}

// Validate reports settings that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.TombstoneTTL < 0:
		return errors.New("catalog-tombstone-ttl must be >= 0")
	case c.GCInterval <= 0:
		return errors.New("catalog-gc-interval must be positive")
	case c.InviteCodeLength != 0 && (c.InviteCodeLength < inviteCodeLen || c.InviteCodeLength > maxInviteCodeLen):
		return fmt.Errorf("--invite-code-length must be from %d to %d", inviteCodeLen, maxInviteCodeLen)
	}
	return nil
}

// gcKey is the store key of the catalog's own state (the collection mark),
// kept with the room records. Room ids cannot take it (reservedID).
const gcKey = reservedPrefix + "gc"

// reservedPrefix starts the store keys that are not rooms: no manifest
// (Kubernetes names) or websocket-created room (UUIDs) has a colon.
const reservedPrefix = "roomring:"

func reservedID(id string) bool { return strings.HasPrefix(id, reservedPrefix) }

// gcState is the value stored under gcKey.
type gcState struct {
	// Collected is the time of the newest deletion whose tombstone was
	// collected (the collection mark).
	Collected time.Time `json:"collected,omitzero"`
}

// wallClock is the time of a write, as records carry it.
func (c *Catalog) wallClock() time.Time { return c.now().UTC().Round(0) }

// expired reports whether a tombstone deleted at is past the TTL; with the
// lock held.
func (c *Catalog) expired(at, now time.Time) bool {
	return c.ttl > 0 && !at.IsZero() && now.Sub(at) >= c.ttl
}

// collectedBefore reports whether a write made at is no later than the
// newest deletion whose tombstone was collected; with the lock held.
func (c *Catalog) collectedBefore(at time.Time) bool {
	return !c.collected.IsZero() && !at.IsZero() && !at.After(c.collected)
}

// loadGC reads the catalog's own stored state; Open calls it.
func (c *Catalog) loadGC(b []byte) error {
	var s gcState
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode stored catalog state: %w", err)
	}
	c.collected = s.Collected
	return nil
}

// CollectTombstones removes the tombstones older than the TTL (set by
// StartGC) from the catalog and the store, except those of rooms this
// node's --rooms file declares with the manifest they were deleted with,
// and returns how many it removed. Tombstones without a time (stored
// before tombstones had one) get the current time instead.
func (c *Catalog) CollectTombstones(ctx context.Context) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ttl <= 0 {
		return 0, nil
	}
	now := c.wallClock()
	var (
		due     []string
		undated []Record
		mark    = c.collected
	)
	for id, m := range c.meta {
		switch {
		case c.liveLocked(id):
		case m.at.IsZero():
			m.at = now
			undated = append(undated, m.record(id, nil))
		case !c.expired(m.at, now):
		case m.manifest != "" && c.declared[id] == m.manifest:
		default:
			due = append(due, id)
			if m.at.After(mark) {
				mark = m.at
			}
		}
	}
	if err := c.storeRecords(ctx, undated); err != nil {
		return 0, err
	}
	if len(due) == 0 {
		return 0, nil
	}
	// The mark is stored first: a tombstone is never gone while the mark
	// that stands for it is not.
	if mark != c.collected {
		b, err := json.Marshal(gcState{Collected: mark})
		if err != nil {
			return 0, fmt.Errorf("encode catalog state: %w", err)
		}
		if err := c.store.PutRooms(ctx, map[string][]byte{gcKey: b}); err != nil {
			return 0, fmt.Errorf("store catalog state: %w", err)
		}
		c.collected = mark
	}
	sort.Strings(due)
	for i, id := range due {
		if err := c.store.DeleteRoom(ctx, id); err != nil {
			return i, fmt.Errorf("collect tombstone of room %s: %w", id, err)
		}
		delete(c.meta, id)
	}
	return len(due), nil
}

// StartGC sets the tombstone TTL and, unless it is 0, collects tombstones
// every cfg.GCInterval until the returned stop function is called. The
// first collection is one interval after the start, not at once: a node
// back from a long absence first catches up with the cluster's catalog
// (full state exchange on join), so that a room created just before it
// went away, which it never heard of, cannot look to it like a copy of a
// room whose tombstone it collects (Apply). stop waits for a collection
// under way; it is idempotent.
func (c *Catalog) StartGC(cfg Config, log *slog.Logger) (stop func()) {
	c.mu.Lock()
	c.ttl = cfg.TombstoneTTL
	c.mu.Unlock()
	if cfg.TombstoneTTL <= 0 {
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(cfg.GCInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := c.CollectTombstones(ctx)
			switch {
			case err != nil && ctx.Err() == nil:
				log.Warn("tombstones not collected; retrying at the next interval", "collected", n, "err", err)
			case n > 0:
				log.Info("tombstones collected", "collected", n, "ttl", cfg.TombstoneTTL)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
}
