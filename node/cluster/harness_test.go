package cluster_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// Multi-node tests run real nodes (in this process, or as processes of the
// real binary) on 127.0.0.x loopback addresses, and real websocket clients.

// testKey is the cluster passphrase of test nodes.
const testKey = "cluster-test-passphrase"

// fast tunes a node's failure detection and retries for tests: the same
// mechanisms as in production, on a shorter clock.
func fast(cfg *node.Config) {
	m := &cfg.Cluster.Membership
	m.ProbeInterval = 300 * time.Millisecond
	m.ProbeTimeout = 200 * time.Millisecond
	m.SuspicionMult = 2
	m.GossipInterval = 50 * time.Millisecond
	m.JoinRetryInterval = 200 * time.Millisecond
	m.PushPullInterval = 2 * time.Second
	m.LeaveTimeout = 2 * time.Second
	cfg.Cluster.Peer.ReconnectMin = 20 * time.Millisecond
	cfg.Cluster.Peer.ReconnectMax = 200 * time.Millisecond
	cfg.Cluster.ResyncRetry = 100 * time.Millisecond
	cfg.Cluster.ForwardTimeout = 3 * time.Second
}

// memberConfig is a dev node named name on host, joining join, on its own
// embedded store (--allow-node-local-store).
func memberConfig(t *testing.T, host, name, key string, join ...string) node.Config {
	cfg := nodetest.Config(t, "")
	cfg.Listen = host + ":0"
	cfg.NodeName = name
	cfg.Cluster.Key = key
	cfg.Cluster.Membership.BindAddr = host + ":0"
	cfg.Cluster.Membership.Join = join
	cfg.Cluster.Peer.ListenAddr = host + ":0"
	cfg.AllowNodeLocalStore = true // each test node on its own bbolt file
	fast(&cfg)
	return cfg
}

// startCluster starts n in-process nodes on 127.0.0.2, 127.0.0.3, … named
// node-0, node-1, … and waits until every one sees all of them.
func startCluster(t *testing.T, n int) []*nodetest.Node {
	t.Helper()
	var nodes []*nodetest.Node
	for i := range n {
		var join []string
		if i > 0 {
			join = []string{nodes[0].Cluster().GossipAddr()}
		}
		nodes = append(nodes, nodetest.Start(t, memberConfig(t, fmt.Sprintf("127.0.0.%d", i+2), fmt.Sprintf("node-%d", i), testKey, join...)))
	}
	waitMembers(t, nodes...)
	return nodes
}

// waitMembers waits until each node sees exactly the given nodes.
func waitMembers(t *testing.T, nodes ...*nodetest.Node) {
	t.Helper()
	var want []string
	for _, n := range nodes {
		want = append(want, n.Cluster().Name())
	}
	slices.Sort(want)
	for _, n := range nodes {
		testkit.Eventually(t, 20*time.Second, n.Cluster().Name()+" sees "+fmt.Sprint(want), func() bool {
			return slices.Equal(n.Cluster().Placement().Members(), want)
		})
	}
}

// viewers decodes room.enter's reply into the viewer ids, sorted.
func viewers(t *testing.T, reply json.RawMessage) []string {
	t.Helper()
	var r struct {
		Viewers []struct {
			ID string `json:"id"`
		} `json:"viewers"`
	}
	if err := json.Unmarshal(reply, &r); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range r.Viewers {
		out = append(out, v.ID)
	}
	slices.Sort(out)
	return out
}

func enter(t *testing.T, c *nodetest.Client, room string) []string {
	t.Helper()
	return viewers(t, c.Call("room.enter", map[string]any{"room": room}))
}

// kindRoom matches a push of kind about room.
func kindRoom(kind, room string) func(nodetest.Frame) bool {
	return func(f nodetest.Frame) bool {
		if f.Kind() != kind || len(f) != 2 {
			return false
		}
		var d struct {
			Room string `json:"room"`
			ID   string `json:"id"`
		}
		_ = json.Unmarshal(f[1], &d)
		return d.Room == room || d.ID == room
	}
}

// viewerEvent matches room.viewer.added/removed about uid.
func viewerEvent(kind, uid string) func(nodetest.Frame) bool {
	return func(f nodetest.Frame) bool {
		if f.Kind() != kind || len(f) != 2 {
			return false
		}
		var d struct {
			UserID string `json:"user_id"`
			User   struct {
				ID string `json:"id"`
			} `json:"user"`
		}
		_ = json.Unmarshal(f[1], &d)
		return d.UserID == uid || d.User.ID == uid
	}
}

// reactionCounts collects room.reaction events of room from c until the
// counts of emoji add up to want, returning each event's count of emoji.
func reactionCounts(t *testing.T, c *nodetest.Client, room, emoji string, want int) []int {
	t.Helper()
	var got []int
	sum := 0
	for sum < want {
		f := c.Wait(5*time.Second, "room.reaction in "+room, kindRoom("room.reaction", room))
		var d struct {
			Reactions map[string]int `json:"reactions"`
		}
		f.Decode(t, 1, &d)
		if n := d.Reactions[emoji]; n > 0 {
			got = append(got, n)
			sum += n
		}
	}
	if sum != want {
		t.Fatalf("room.reaction counted %d %s, want %d (events: %v)", sum, emoji, want, got)
	}
	return got
}
