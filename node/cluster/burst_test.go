package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
)

// TestCatalogBurstReachesEveryNode: 200 rooms created back to back on one
// node of three reach every other node's clients as room.create pushes —
// over the peer links, not two per gossip round with the rest left to
// the next full-state exchange (whose interval this test makes too long
// to help).
func TestCatalogBurstReachesEveryNode(t *testing.T) {
	const rooms = 200
	var nodes []*nodetest.Node
	for i := range 3 {
		var join []string
		if i > 0 {
			join = []string{nodes[0].Cluster().GossipAddr()}
		}
		cfg := memberConfig(t, fmt.Sprintf("127.0.0.%d", i+2), fmt.Sprintf("node-%d", i), testKey, join...)
		cfg.Cluster.Membership.PushPullInterval = time.Hour
		nodes = append(nodes, nodetest.Start(t, cfg))
	}
	waitMembers(t, nodes...)
	var clients []*nodetest.Client
	for i, n := range nodes[1:] {
		clients = append(clients, nodetest.Login(t, n.URL(), fmt.Sprintf("watcher-%d", i), "admin"))
	}
	start := time.Now()
	for i := range rooms {
		if _, err := nodes[0].Catalog().Create(context.Background(), catalog.CreateRequest{Name: fmt.Sprintf("Burst %03d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Since(start)
	for i, c := range clients {
		seen := map[string]bool{}
		testkit.Eventually(t, 10*time.Second, fmt.Sprintf("%d room.create pushes on node-%d", rooms, i+1), func() bool {
			for c.Has(func(f nodetest.Frame) bool {
				if f.Kind() != "room.create" || len(f) != 2 {
					return false
				}
				var d struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal(f[1], &d)
				seen[d.ID] = true
				return true
			}) {
			}
			return len(seen) == rooms
		})
		t.Logf("node-%d: all %d room.create pushes %v after the first create (creating took %v)", i+1, rooms, time.Since(start), created)
	}
}
