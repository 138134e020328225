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
)

// Config bounds what a client may store. Every field is a node flag
// (docs/socketio.md lists them).
type Config struct {
	// MaxReactionBytes is the longest reaction string. Any non-empty UTF-8
	// string without control characters up to this length is a reaction
	// (Valu's reaction set is the client's business: emoji, "like", …).
	MaxReactionBytes int
	// MaxIDBytes is the longest resource or comment id.
	MaxIDBytes int
	// MaxListed bounds the [userId, reaction] pairs getReactions returns
	// (the newest first); total always counts every reaction.
	MaxListed int
}

// DefaultConfig returns the defaults: 64-byte reactions, 256-byte ids, 1000
// listed reactions.
func DefaultConfig() Config {
	return Config{MaxReactionBytes: 64, MaxIDBytes: 256, MaxListed: 1000}
}

// RegisterFlags registers the limits on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.MaxReactionBytes, "resource-reaction-max-bytes", d.MaxReactionBytes, "longest resource reaction string, in bytes")
	fs.IntVar(&c.MaxIDBytes, "resource-id-max-bytes", d.MaxIDBytes, "longest resource or comment id, in bytes")
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
	return errors.Join(errs...)
}
