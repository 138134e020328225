package cluster_test

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The fast failover (goneDetector): a member whose peer and gossip ports
// all refuse (TCP, and UDP port-unreachable) is left out of the ring
// before gossip declares it dead; a member whose links merely reset, or
// whose peer port refuses while its gossip answers, is not.

// slowGossip makes gossip take the better part of a minute to declare a
// crashed member dead (a 5 s probe, then a 50 s suspicion), so that what
// moves a room sooner is the fast failover.
var slowGossip = []string{"--gossip-probe-interval=5s", "--gossip-probe-timeout=1s", "--gossip-suspicion-mult=10"}

// startProcWith starts a member as startProc does, with extra flags.
func startProcWith(t *testing.T, host, name string, extra []string, join ...string) *nodeproc.Member {
	t.Helper()
	args := append(nodeArgs(t, name, host+":0", host+":0", host+":0", join...), extra...)
	return nodeproc.StartMember(t, name, exec.Command(nodeproc.Binary(t), args...))
}

// goneMetric is the sample of probes that found a member gone.
const goneMetric = `roomring_cluster_gone_probes_total{result="gone"}`

// TestOwnerKilledMovesBeforeGossip: SIGKILL the owner of a room while
// gossip is slow. The survivors find it gone (its ports refuse), re-own its
// room and deliver its reactions while gossip still lists it as a member.
func TestOwnerKilledMovesBeforeGossip(t *testing.T) {
	p0 := startProcWith(t, "127.0.0.2", "node-0", slowGossip)
	p1 := startProcWith(t, "127.0.0.3", "node-1", slowGossip, p0.Gossip)
	p2 := startProcWith(t, "127.0.0.4", "node-2", slowGossip, p0.Gossip)
	nodeproc.WaitMembers(t, 3, p0, p1, p2)

	admin := nodetest.Login(t, p0.URL(), "admin-1", "admin")
	all := []string{"node-0", "node-1", "node-2"}
	doomed := ownedBy(t, admin, all, "node-2")
	alice := nodetest.Login(t, p0.URL(), "alice", "moderator")
	bob := nodetest.Login(t, p1.URL(), "bob", "moderator")
	for _, c := range []*nodetest.Client{alice, bob} {
		enter(t, c, doomed)
	}

	p2.Kill()
	testkit.Eventually(t, 10*time.Second, doomed+" re-owned by a survivor on both", func() bool {
		o0, _, err0 := roomStatus(t, p0, doomed)
		o1, _, err1 := roomStatus(t, p1, doomed)
		return err0 == nil && err1 == nil && o0 == o1 && o0 != "node-2" && o0 != ""
	})
	alice.Call("room.react", map[string]any{"room": doomed, "reaction": "👍"})
	bob.Call("room.react", map[string]any{"room": doomed, "reaction": "👍"})
	reactionCounts(t, alice, doomed, "👍", 2)
	reactionCounts(t, bob, doomed, "👍", 2)

	for _, p := range []*nodeproc.Member{p0, p1} {
		if n := p.Metric("roomring_cluster_members"); n != 3 {
			t.Fatalf("%s's gossip counts %v members: it declared node-2 dead, so this test did not isolate the fast failover", p.Name, n)
		}
		if n := p.Metric(goneMetric); n < 1 {
			t.Fatalf("%s found no member gone (%s = %v)", p.Name, goneMetric, n)
		}
	}
}

// TestPeerLinksResetMemberStays: every peer connection of a live member is
// reset (as a restarted connection or a middlebox would). The links come
// back; the member is never found gone and no room moves.
func TestPeerLinksResetMemberStays(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("resetting connections (ss -K) needs root")
	}
	hosts := []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}
	p0 := startProc(t, hosts[0], "node-0")
	p1 := startProc(t, hosts[1], "node-1", p0.Gossip)
	p2 := startProc(t, hosts[2], "node-2", p0.Gossip)
	ps := []*nodeproc.Member{p0, p1, p2}
	nodeproc.WaitMembers(t, 3, ps...)

	admin := nodetest.Login(t, p0.URL(), "admin-1", "admin")
	room := ownedBy(t, admin, []string{"node-0", "node-1", "node-2"}, "node-2")
	alice := nodetest.Login(t, p0.URL(), "alice", "moderator")
	carol := nodetest.Login(t, p2.URL(), "carol", "moderator")
	enter(t, alice, room)
	enter(t, carol, room)
	alice.Call("room.react", map[string]any{"room": room, "reaction": "👏"})
	reactionCounts(t, alice, room, "👏", 1)

	changes := make([]float64, len(ps))
	for i, p := range ps {
		changes[i] = p.Metric("roomring_cluster_ring_changes_total")
	}
	const connected = `roomring_peer_connects_total{result="ok"}`
	before := p0.Metric(connected)
	resetPeerLinks(t, ps, 2)
	testkit.Eventually(t, 10*time.Second, "the links of node-2 reconnected", func() bool {
		return p0.Metric(connected) > before && p0.Metric(`roomring_peer_link_up{peer="node-2"}`) == 1 &&
			p2.Metric(`roomring_peer_link_up{peer="node-0"}`) == 1 && p2.Metric(`roomring_peer_link_up{peer="node-1"}`) == 1
	})
	alice.Call("room.react", map[string]any{"room": room, "reaction": "😮"})
	reactionCounts(t, carol, room, "😮", 1)
	reactionCounts(t, alice, room, "😮", 1)
	for i, p := range ps {
		if got := p.Metric("roomring_cluster_ring_changes_total"); got != changes[i] {
			t.Fatalf("%s's ring changed %v times after the reset", p.Name, got-changes[i])
		}
		if n := p.Metric(goneMetric); n > 0 {
			t.Fatalf("%s found a member gone after a reset", p.Name)
		}
		if o, _, err := roomStatus(t, p, room); err != nil || o != "node-2" {
			t.Fatalf("%s places %s on %q (%v), want node-2", p.Name, room, o, err)
		}
	}
}

// resetPeerLinks resets every established peer connection of ps[victim],
// both directions, with ss -K: the process's sockets on its own peer
// address (links others dialled) and to the others' peer addresses (its
// own links); the other ends get a reset.
func resetPeerLinks(t *testing.T, ps []*nodeproc.Member, victim int) {
	t.Helper()
	peerAddr := func(p *nodeproc.Member) string {
		a, _ := p.Record("cluster member", time.Second)["peer"].(string)
		return a
	}
	v := ps[victim]
	vAddr := peerAddr(v)
	var others []string
	for i, p := range ps {
		if i != victim {
			others = append(others, peerAddr(p))
		}
	}
	out, err := exec.Command("ss", "-tnpH", "state", "established").Output()
	if err != nil {
		t.Fatalf("ss: %v", err)
	}
	pid := fmt.Sprintf("pid=%d,", v.Cmd.Process.Pid)
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || !strings.Contains(line, pid) {
			continue
		}
		local, remote := f[2], f[3]
		if local != vAddr && !slices.Contains(others, remote) {
			continue
		}
		if out, err := exec.Command("ss", "-K", "-tn", "src", local, "dst", remote).CombinedOutput(); err != nil {
			t.Fatalf("ss -K: %v: %s", err, out)
		}
		n++
	}
	if want := 2 * len(others); n < want {
		t.Fatalf("reset %d peer connections of %s, want its %d links both ways", n, v.Name, want)
	}
}

// TestRefusingPeerPortLiveGossip: a member advertises a peer address where
// nothing listens, so every link to it is refused, but its gossip answers.
// It is probed, found alive, and stays in everyone's ring.
func TestRefusingPeerPortLiveGossip(t *testing.T) {
	n0 := nodetest.Start(t, memberConfig(t, "127.0.0.2", "node-0", testKey))
	n1 := nodetest.Start(t, memberConfig(t, "127.0.0.3", "node-1", testKey, n0.Cluster().GossipAddr()))
	cfg := memberConfig(t, "127.0.0.4", "node-2", testKey, n0.Cluster().GossipAddr())
	cfg.Cluster.Peer.AdvertiseAddr = nodeproc.FreeAddr(t, "127.0.0.4") // nothing listens there
	n2 := nodetest.Start(t, cfg)
	waitMembers(t, n0, n1, n2)

	for _, n := range []*nodetest.Node{n0, n1} {
		n.WaitMetric(t, `roomring_cluster_gone_probes_total{result="alive"}`, func(v float64) bool { return v >= 1 })
	}
	for _, n := range []*nodetest.Node{n0, n1, n2} {
		if got := n.Cluster().Placement().Members(); !slices.Equal(got, []string{"node-0", "node-1", "node-2"}) {
			t.Fatalf("%s places rooms on %v after probing a live member", n.Cluster().Name(), got)
		}
		if v := n.Metrics(t)[goneMetric]; v > 0 {
			t.Fatalf("%s found a live member gone", n.Cluster().Name())
		}
	}
}
