package venueless_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/nodetest"
)

// TestWorldUpdatedCoalesced: a burst of 100 renames from an admin costs
// each client a few world.updated (one per --world-update-window, the
// default here), not 100, and the last shows the final names; a room
// created during a window is in the coalesced push.
func TestWorldUpdatedCoalesced(t *testing.T) {
	t.Parallel()
	window := announce.DefaultConfig().WorldUpdateWindow
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.RateLimit, c.Session.RateBurst = 1000, 1000 })
	if n.Cfg.Announce.WorldUpdateWindow != window {
		t.Fatalf("--world-update-window default %s, want %s", n.Cfg.Announce.WorldUpdateWindow, window)
	}
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	g, _ := loginGuest(t, n, "guest")

	start := time.Now()
	const renames = 100
	for i := range renames {
		admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": fmt.Sprintf("Stage %d", i)})
	}
	created := nodetest.Decode[struct{ Room string }](t, admin.Call("room.create", map[string]any{"name": "Hall Z"}))
	admin.Call("room.config.patch", map[string]any{"room": "lounge", "name": "Lounge 2"})
	elapsed := time.Since(start)

	final := fmt.Sprintf("Stage %d", renames-1)
	pushes := 0
	for {
		w := nodetest.Decode[worldConfig](t, g.Event("world.updated"))
		pushes++
		r1, _ := w.room("room_1")
		lounge, _ := w.room("lounge")
		if r1.Name == final && lounge.Name == "Lounge 2" {
			if _, ok := w.room(created.Room); !ok {
				t.Fatalf("the last world.updated misses the room created before it: %v", w.ids())
			}
			break
		}
	}
	if !g.Has(nodetest.IsEvent("room.create", "")) {
		t.Fatal("no room.create (it is never coalesced)")
	}
	// One at once, then at most one per window while the burst lasts, and
	// one at the end of the last window.
	if most := 2 + int(elapsed/window); pushes > most || pushes >= renames {
		t.Fatalf("%d world.updated for %d renames in %s, want at most %d (one per %s window)", pushes, renames, elapsed, most, window)
	}
	t.Logf("%d world.updated for %d renames in %s", pushes, renames, elapsed)
}

// TestWorldUpdatedWindowFlag: --world-update-window is validated.
func TestWorldUpdatedWindowFlag(t *testing.T) {
	t.Parallel()
	cfg := nodetest.Config(t, "")
	cfg.Announce.WorldUpdateWindow = -time.Second
	if err := cfg.Validate(); err == nil {
		t.Fatal("a negative --world-update-window accepted")
	}
}
