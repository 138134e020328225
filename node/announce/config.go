package announce

import (
	"flag"
	"fmt"
	"time"
)

// MaxWorldUpdateWindow bounds --world-update-window: a longer window
// leaves clients with a stale room list for too long.
const MaxWorldUpdateWindow = 10 * time.Second

// Config sets how a node announces catalog changes to its sessions.
type Config struct {
	// WorldUpdateWindow is the shortest time between two world.updated
	// pushes of a node (0: one per batch of changes, as they come).
	WorldUpdateWindow time.Duration
}

// DefaultConfig is the configuration of a node without flags.
func DefaultConfig() Config { return Config{WorldUpdateWindow: 250 * time.Millisecond} }

// RegisterFlags registers the announcer's flags on fs.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.DurationVar(&c.WorldUpdateWindow, "world-update-window", d.WorldUpdateWindow,
		"shortest time between two world.updated pushes: the catalog changes of a window (renames, reorders, Room spec changes) become one push at its end, the first change of a quiet period goes at once (0: one push per change)")
}

// Validate reports an invalid configuration.
func (c Config) Validate() error {
	if c.WorldUpdateWindow < 0 || c.WorldUpdateWindow > MaxWorldUpdateWindow {
		return fmt.Errorf("--world-update-window must be between 0 and %s, got %s", MaxWorldUpdateWindow, c.WorldUpdateWindow)
	}
	return nil
}
