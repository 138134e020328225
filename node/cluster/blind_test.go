package cluster_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/nodetest"
)

// TestBlindEdgeGetsNoSnapshots: an edge whose sessions of a room may not
// see its viewers gets no viewer snapshot from the owner when it resyncs
// (for a big room that is the whole viewer list, for nobody); once a
// session there may see them, every resync brings one again.
func TestBlindEdgeGetsNoSnapshots(t *testing.T) {
	var nodes []*nodetest.Node
	for i := range 2 {
		var join []string
		if i > 0 {
			join = []string{nodes[0].Cluster().GossipAddr()}
		}
		cfg := memberConfig(t, fmt.Sprintf("127.0.0.%d", i+2), fmt.Sprintf("node-%d", i), testKey, join...)
		cfg.Cluster.ResyncInterval = 200 * time.Millisecond
		nodes = append(nodes, nodetest.Start(t, cfg))
	}
	waitMembers(t, nodes...)
	// Viewers are shown, to those whose role allows it (not a plain viewer).
	room := &catalog.Room{ID: "blind-room", Name: "Blind", ShowViewers: true}
	if err := nodes[0].Catalog().Upsert(context.Background(), room); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "room replicated", func() bool { return nodes[1].Catalog().Exists(room.ID) })
	owner, edge := nodes[0], nodes[1]
	if nodes[0].Cluster().Placement().Owner(room.ID) == "node-1" {
		owner, edge = nodes[1], nodes[0]
	}
	viewer := nodetest.Login(t, owner.URL(), "v1")
	enter(t, viewer, room.ID)
	guest := nodetest.Login(t, edge.URL(), "g1") // a viewer: may not see the room's viewers
	if got := enter(t, guest, room.ID); len(got) != 0 {
		t.Fatalf("a plain viewer was told the viewers %v", got)
	}

	const resyncs = `roomring_cluster_resyncs_total{result="ok"}`
	const delivers = `roomring_cluster_messages_received_total{op="deliver"}`
	waitResyncs := func(n float64) {
		t.Helper()
		start := edge.Metrics(t)[resyncs]
		testkit.Eventually(t, 10*time.Second, "resyncs", func() bool { return edge.Metrics(t)[resyncs] >= start+n })
	}
	waitResyncs(1)
	before := edge.Metrics(t)[delivers]
	waitResyncs(4)
	if got := edge.Metrics(t)[delivers]; got != before {
		t.Errorf("a blind edge got %v deliveries over 4 resyncs, want none (snapshots skipped)", got-before)
	}

	mod := nodetest.Login(t, edge.URL(), "m1", "moderator") // may see the viewers (dev grants)
	if got := enter(t, mod, room.ID); len(got) != 3 {
		t.Fatalf("a moderator was told the viewers %v, want all three", got)
	}
	waitResyncs(1)
	before = edge.Metrics(t)[delivers]
	waitResyncs(3)
	if got := edge.Metrics(t)[delivers]; got < before+2 {
		t.Errorf("an edge with a session that sees viewers got %v deliveries over 3 resyncs, want a snapshot each", got-before)
	}
}
