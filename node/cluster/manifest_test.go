package cluster_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
)

// TestRestartWithSameRoomsFileKeepsPeersPatch: node B restarting with the
// --rooms file it started with does not undo a patch made on node A (the
// patch's record carries the manifest's hash to B, so B's manifest is not
// new to it); B restarting with a changed manifest for a room replaces that
// room on every node.
func TestRestartWithSameRoomsFileKeepsPeersPatch(t *testing.T) {
	samples, err := os.ReadFile(filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	roomsB := filepath.Join(t.TempDir(), "rooms.yaml")
	if err := os.WriteFile(roomsB, samples, 0o600); err != nil {
		t.Fatal(err)
	}
	a := nodetest.Start(t, memberConfig(t, "127.0.0.2", "node-a", testKey))
	cfgB := memberConfig(t, "127.0.0.3", "node-b", testKey, a.Cluster().GossipAddr())
	cfgB.RoomsFile = roomsB
	b := nodetest.Start(t, cfgB)
	waitMembers(t, a, b)

	admin := nodetest.Login(t, a.URL(), "admin", "admin")
	admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": "Patched on A"})
	testkit.Eventually(t, 10*time.Second, "the patch on node-b", func() bool { return b.Catalog().Get("room_1").Name == "Patched on A" })

	// restartB stops node-b and starts it again on its data directory as a
	// new member, and waits until both nodes hold the same version of
	// room_1: the one that won.
	restartB := func(name string) {
		b.Stop(t)
		waitMembers(t, a)
		cfg := memberConfig(t, "127.0.0.3", name, testKey, a.Cluster().GossipAddr())
		cfg.DataDir, cfg.RoomsFile = cfgB.DataDir, roomsB
		b = nodetest.Start(t, cfg)
		waitMembers(t, a, b)
		testkit.Eventually(t, 10*time.Second, "room_1 converged", func() bool {
			ra, rb := a.Catalog().Records("room_1"), b.Catalog().Records("room_1")
			return len(ra) == 1 && len(rb) == 1 && ra[0].Version == rb[0].Version
		})
	}
	name := func(n *nodetest.Node) string {
		c := nodetest.Login(t, n.URL(), "reader", "admin")
		var rooms []struct{ ID, Name string }
		if err := json.Unmarshal(c.Call("room.config.list", nil), &rooms); err != nil {
			t.Fatal(err)
		}
		for _, r := range rooms {
			if r.ID == "room_1" {
				return r.Name
			}
		}
		t.Fatalf("room_1 missing on %s", n.Cluster().Name())
		return ""
	}

	restartB("node-b2")
	for _, n := range []*nodetest.Node{a, b} {
		if got := name(n); got != "Patched on A" {
			t.Fatalf("room_1 on %s after node-b restarted with the same file = %q, want node-a's patch", n.Cluster().Name(), got)
		}
	}

	changed := strings.Replace(string(samples), "displayName: Main Stage", "displayName: Main Stage v2", 1)
	if changed == string(samples) {
		t.Fatal("the sample rooms no longer name Main Stage")
	}
	if err := os.WriteFile(roomsB, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	restartB("node-b3")
	for _, n := range []*nodetest.Node{a, b} {
		if got := name(n); got != "Main Stage v2" {
			t.Fatalf("room_1 on %s after node-b restarted with a changed manifest = %q, want the new manifest", n.Cluster().Name(), got)
		}
	}
	// The new manifest's hash reached node-a with the room.
	h, err := catalog.ManifestHash(b.Catalog().Get("room_1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := a.Catalog().Records("room_1")[0].Manifest; got != h {
		t.Fatalf("node-a's room_1 manifest hash = %q, want %q", got, h)
	}
}
