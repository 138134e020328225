// Package reaction is the owner side of Valu's resource reactions: one
// reaction per user per (resource, comment), where an empty comment means the
// resource itself. The room's owner validates a write, serialises it with
// the room's other writes, writes it through to the store and only then
// announces it to the room's members and acknowledges it. Reads (the
// reactions of a resource, a user's own reaction) come from the store.
//
// Users in privacy mode 1 (incognito) are counted in totals but never listed
// and never identified in events.
package reaction

import (
	"errors"
	"flag"
	"time"
)

// Config bounds what a client may store. Every field is a node flag
// (docs/socketio.md lists them).
type Config struct {
	// MaxReactionBytes is the longest reaction string. Any non-empty UTF-8
	// string without control characters up to this length is a reaction
	// (Valu's reaction set is the client's business: emoji, "like", …).
	MaxReactionBytes int
	// MaxIDBytes is the longest resource or comment id. An id is also
	// limited in charset: UTF-8 of graphic characters (letters, marks,
	// digits, punctuation, symbols), no spaces, controls or invisible
	// formatting characters.
	MaxIDBytes int
	// MaxListed bounds the [userId, reaction] pairs getReactions returns
	// (the newest first); total always counts every reaction.
	MaxListed int

	// MaxPerUser bounds the reactions one user has made in one room (one
	// per resource or comment reacted to). A replacement does not count.
	MaxPerUser int
	// MaxTargets bounds the distinct (resource, comment) pairs reacted
	// to in one room, all users together.
	MaxTargets int
	// WriteRate and WriteBurst are the token bucket of one user's writes
	// (sets and deletes) on the node that owns the room: WriteRate a
	// second on average, up to WriteBurst at once.
	WriteRate  float64
	WriteBurst int
}

// DefaultConfig returns the defaults: 64-byte reactions, 256-byte ids, 1000
// listed reactions, 1000 reactions per user and 10,000 targets per room,
// 5 writes a second per user with bursts of 20.
func DefaultConfig() Config {
	return Config{MaxReactionBytes: 64, MaxIDBytes: 256, MaxListed: 1000,
		MaxPerUser: 1000, MaxTargets: 10000, WriteRate: 5, WriteBurst: 20}
}

// refill is how long an empty write bucket takes to fill.
func (c *Config) refill() time.Duration {
	return time.Duration(float64(c.WriteBurst) / c.WriteRate * float64(time.Second))
}

// RegisterFlags registers the limits on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.MaxReactionBytes, "resource-reaction-max-bytes", d.MaxReactionBytes, "longest resource reaction string, in bytes")
	fs.IntVar(&c.MaxIDBytes, "resource-id-max-bytes", d.MaxIDBytes, "longest resource or comment id, in bytes")
	fs.IntVar(&c.MaxPerUser, "resource-reactions-per-user", d.MaxPerUser, "most resource reactions one user may have in one room")
	fs.IntVar(&c.MaxTargets, "resource-targets-per-room", d.MaxTargets, "most distinct (resource, comment) pairs reacted to in one room")
	fs.Float64Var(&c.WriteRate, "resource-write-rate", d.WriteRate, "resource reaction writes (sets and deletes) per second per user, on average")
	fs.IntVar(&c.WriteBurst, "resource-write-burst", d.WriteBurst, "resource reaction writes one user may make at once")
	fs.IntVar(&c.MaxListed, "resource-reactions-listed", d.MaxListed, "most [userId, reaction] pairs one getReactions reply lists (newest first; total counts all)")
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.MaxReactionBytes < 4 || c.MaxReactionBytes > 1024 {
		errs = append(errs, errors.New("resource-reaction-max-bytes must be 4 to 1024"))
	}
	if c.MaxIDBytes < 16 || c.MaxIDBytes > 4096 {
		errs = append(errs, errors.New("resource-id-max-bytes must be 16 to 4096"))
	}
	if c.MaxListed < 1 {
		errs = append(errs, errors.New("resource-reactions-listed must be at least 1"))
	}
	if c.MaxPerUser < 1 {
		errs = append(errs, errors.New("resource-reactions-per-user must be at least 1"))
	}
	if c.MaxTargets < 1 {
		errs = append(errs, errors.New("resource-targets-per-room must be at least 1"))
	}
	if !(c.WriteRate > 0) {
		errs = append(errs, errors.New("resource-write-rate must be above 0"))
	}
	if c.WriteBurst < 1 {
		errs = append(errs, errors.New("resource-write-burst must be at least 1"))
	}
	return errors.Join(errs...)
}
