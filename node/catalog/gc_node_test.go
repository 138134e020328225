package catalog_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/store/bolt"
)

// TestNodeCollectsTombstones runs a real node with a short tombstone TTL:
// the tombstone of a room deleted over the websocket is collected from the
// catalog and from the store (bbolt), which keeps the collection mark;
// the tombstone of a sample room — declared by the node's --rooms file with
// the manifest it was deleted with — is kept, and keeps the room deleted
// when the node restarts with the file.
func TestNodeCollectsTombstones(t *testing.T) {
	dir := t.TempDir()
	cfg := nodetest.Config(t, dir)
	cfg.Catalog = catalog.Config{TombstoneTTL: 300 * time.Millisecond, GCInterval: 50 * time.Millisecond}
	n := nodetest.Start(t, cfg)
	admin := nodetest.Dial(t, n.URL())
	admin.Auth(map[string]any{"token": nodetest.Token(t, "admin", []string{"admin"}, nil)})
	var created struct{ Room string }
	if err := json.Unmarshal(admin.Call("room.create", map[string]any{"name": "Temporary"}), &created); err != nil {
		t.Fatal(err)
	}
	admin.Call("room.delete", map[string]any{"room": "lounge"})
	admin.Call("room.delete", map[string]any{"room": created.Room})
	if len(n.Catalog().Records(created.Room)) != 1 {
		t.Fatal("no tombstone after the delete")
	}
	testkit.Eventually(t, 10*time.Second, "the tombstone collected", func() bool { return len(n.Catalog().Records(created.Room)) == 0 })
	// lounge's tombstone outlives the TTL: it is older than the one that
	// was collected.
	if recs := n.Catalog().Records("lounge"); len(recs) != 1 || recs[0].Room != nil {
		t.Fatalf("lounge's record = %+v, want its tombstone kept", recs)
	}
	n.Stop(t)

	st, err := bolt.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Rooms(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range stored {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if slices.Contains(keys, created.Room) || !slices.Contains(keys, "lounge") {
		t.Fatalf("stored keys = %v, want no %s and lounge's tombstone", keys, created.Room)
	}
	if !slices.ContainsFunc(keys, func(k string) bool { return strings.HasPrefix(k, "roomring:") }) {
		t.Fatalf("stored keys = %v, want the collection mark", keys)
	}

	n = nodetest.Start(t, nodetest.Config(t, dir))
	if n.Catalog().Exists("lounge") || len(n.Catalog().Records(created.Room)) != 0 {
		t.Fatalf("after a restart with the file: lounge exists %v, records of the collected room %v",
			n.Catalog().Exists("lounge"), n.Catalog().Records(created.Room))
	}
	c := nodetest.Dial(t, n.URL())
	c.Auth(map[string]any{"token": nodetest.Token(t, "admin", []string{"admin"}, nil)})
	if code := c.CallErr("room.enter", map[string]any{"room": "lounge"}); code != "room.unknown" {
		t.Fatalf("entering lounge after the restart: %s, want room.unknown", code)
	}
}
