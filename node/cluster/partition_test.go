package cluster_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"golang.org/x/sys/unix"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The partition test puts each node in a network namespace of its own,
// plugged into a bridge in a hub namespace (all created by the test; the
// host's network is not touched), and partitions a node by taking its
// cable out of the bridge. The test process reaches into a namespace by
// dialling from a thread switched into it.

// netns is a network namespace created by the test.
type netns struct {
	name string
	fd   *os.File
}

func ipCmd(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newNetns creates a namespace with its loopback up, deleted with the test.
func newNetns(t *testing.T, name string) *netns {
	t.Helper()
	if err := ipCmd("netns", "add", name); err != nil {
		t.Skipf("cannot create network namespaces here (%v); the partition test needs root and ip netns", err)
	}
	t.Cleanup(func() { _ = ipCmd("netns", "del", name) })
	if err := ipCmd("-n", name, "link", "set", "lo", "up"); err != nil {
		t.Fatal(err)
	}
	fd, err := os.Open("/run/netns/" + name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fd.Close() })
	return &netns{name: name, fd: fd}
}

// dial connects from inside the namespace: a thread switched into it
// creates the socket, which stays there. The thread is never switched back;
// it exits with its goroutine.
func (n *netns) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread dies with the goroutine
		if err := unix.Setns(int(n.fd.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns %s: %w", n.name, err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

func (n *netns) httpClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: n.dial, DisableKeepAlives: true}}
}

func (n *netns) wsDialer() *websocket.Dialer {
	return &websocket.Dialer{NetDialContext: n.dial, HandshakeTimeout: 5 * time.Second}
}

// roomStatus asks a node's admin API who owns room and how many viewers it
// has.
func roomStatus(t *testing.T, p *nodeproc.Member, room string) (owner string, viewers int, err error) {
	req, err := http.NewRequest(http.MethodGet, "http://"+p.HTTP+"/internal/v1/rooms/"+room, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := p.Client.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	var st struct {
		Owner   string `json:"owner"`
		Viewers int    `json:"viewers"`
	}
	if resp.StatusCode != http.StatusOK {
		return "", 0, fmt.Errorf("status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return "", 0, err
	}
	return st.Owner, st.Viewers, nil
}

// TestPartition partitions one node of three from the others and heals the
// partition.
//
// During the partition each side declares the other dead and carries on
// alone: the majority {node-0, node-1} re-owns the isolated node's rooms,
// the minority {node-2} owns every room; each side's clients see only their
// side's viewers (the others are removed by the viewer snapshots) and
// reactions; catalog writes stay on their side. Nothing refuses a
// connection, so the fast failover never moves a room. After healing the sides find
// each other again (members that died are retried), every room has one
// owner that all nodes agree on, viewer sets are the union of both sides
// and every client is told of the viewers it missed, and both sides'
// catalog writes are everywhere.
//
// Long: the partition is built, cut, observed and healed in order; split
// into steps, the order of the network events would no longer be visible.
func TestPartition(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the partition test needs root to create network namespaces")
	}
	id := fmt.Sprint(os.Getpid() % 100000)
	hub := newNetns(t, "rrhub"+id)
	if err := ipCmd("-n", hub.name, "link", "add", "br0", "type", "bridge"); err != nil {
		t.Fatal(err)
	}
	if err := ipCmd("-n", hub.name, "link", "set", "br0", "up"); err != nil {
		t.Fatal(err)
	}
	var spaces []*netns
	var addrs []string
	for i := range 3 {
		ns := newNetns(t, fmt.Sprintf("rr%sn%d", id, i))
		cable := fmt.Sprintf("c%d", i) // the node's cable, hub side
		addr := fmt.Sprintf("10.99.0.%d", i+1)
		for _, args := range [][]string{
			{"-n", hub.name, "link", "add", cable, "type", "veth", "peer", "name", "eth0", "netns", ns.name},
			{"-n", hub.name, "link", "set", cable, "master", "br0"},
			{"-n", hub.name, "link", "set", cable, "up"},
			{"-n", ns.name, "addr", "add", addr + "/24", "dev", "eth0"},
			{"-n", ns.name, "link", "set", "eth0", "up"},
		} {
			if err := ipCmd(args...); err != nil {
				t.Fatal(err)
			}
		}
		spaces, addrs = append(spaces, ns), append(addrs, addr)
	}
	var ps []*nodeproc.Member
	for i, ns := range spaces {
		var join []string
		if i > 0 {
			join = []string{addrs[0] + ":7946"}
		}
		name := fmt.Sprintf("node-%d", i)
		args := nodeArgs(t, name, addrs[i]+":8080", addrs[i]+":7946", addrs[i]+":7947", join...)
		m := nodeproc.StartMember(t, name, exec.Command("ip", append([]string{"netns", "exec", ns.name, nodeproc.Binary(t)}, args...)...))
		m.Client = ns.httpClient()
		ps = append(ps, m)
	}
	nodeproc.WaitMembers(t, 3, ps...)

	connect := func(i int, uid string, traits ...string) *nodetest.Client {
		c := nodetest.DialWith(t, ps[i].URL(), spaces[i].wsDialer())
		c.Auth(map[string]any{"token": nodetest.Token(t, uid, traits, map[string]any{"display_name": uid})})
		return c
	}
	admin := connect(0, "admin-0", "admin")
	all := []string{"node-0", "node-1", "node-2"}
	room := ownedBy(t, admin, all, "node-2")  // the isolated node's room
	other := ownedBy(t, admin, all, "node-0") // a majority room
	alice := connect(0, "alice", "moderator")
	bob := connect(1, "bob", "moderator")
	carol := connect(2, "carol", "moderator")
	for _, c := range []*nodetest.Client{alice, bob, carol} {
		enter(t, c, room)
	}
	// Consume the initial events so that the checks below see new ones.
	alice.Wait(5*time.Second, "bob added", viewerEvent("room.viewer.added", "bob"))
	alice.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))
	bob.Wait(5*time.Second, "carol added", viewerEvent("room.viewer.added", "carol"))

	// Partition node-2.
	if err := ipCmd("-n", hub.name, "link", "set", "c2", "down"); err != nil {
		t.Fatal(err)
	}
	nodeproc.WaitMembers(t, 2, ps[0], ps[1])
	nodeproc.WaitMembers(t, 1, ps[2])

	// Each side owns the room and sees only its own viewers.
	testkit.Eventually(t, 10*time.Second, "majority re-owns the room with alice and bob", func() bool {
		o0, v0, err0 := roomStatus(t, ps[0], room)
		o1, _, err1 := roomStatus(t, ps[1], room)
		return err0 == nil && err1 == nil && o0 == o1 && o0 != "node-2" && v0 == 2
	})
	testkit.Eventually(t, 10*time.Second, "minority owns the room with carol", func() bool {
		o, v, err := roomStatus(t, ps[2], room)
		return err == nil && o == "node-2" && v == 1
	})
	for _, c := range []*nodetest.Client{alice, bob} {
		c.Wait(10*time.Second, "carol gone on the majority side", viewerEvent("room.viewer.removed", "carol"))
	}
	carol.Wait(10*time.Second, "alice gone on the minority side", viewerEvent("room.viewer.removed", "alice"))
	carol.Wait(10*time.Second, "bob gone on the minority side", viewerEvent("room.viewer.removed", "bob"))
	// Both sides serve reactions, each its own.
	alice.Call("room.react", map[string]any{"room": room, "reaction": "👏"})
	carol.Call("room.react", map[string]any{"room": room, "reaction": "😮"})
	reactionCounts(t, bob, room, "👏", 1)
	reactionCounts(t, carol, room, "😮", 1)
	// Catalog writes on both sides, to different rooms.
	admin.Call("room.config.patch", map[string]any{"room": other, "description": "written by the majority"})
	admin2 := connect(2, "admin-2", "admin")
	admin2.Call("room.config.patch", map[string]any{"room": room, "description": "written by the minority"})

	// Heal.
	if err := ipCmd("-n", hub.name, "link", "set", "c2", "up"); err != nil {
		t.Fatal(err)
	}
	nodeproc.WaitMembers(t, 3, ps...)

	// One owner per room, the same in every node's view, with everyone.
	testkit.Eventually(t, 15*time.Second, "one owner of the room with all three viewers", func() bool {
		var owners []string
		for _, p := range ps {
			o, v, err := roomStatus(t, p, room)
			if err != nil || v != 3 {
				return false
			}
			owners = append(owners, o)
		}
		return owners[0] != "" && owners[0] == owners[1] && owners[1] == owners[2]
	})
	// Every client is told of the viewers it missed.
	alice.Wait(10*time.Second, "carol back", viewerEvent("room.viewer.added", "carol"))
	bob.Wait(10*time.Second, "carol back", viewerEvent("room.viewer.added", "carol"))
	carol.Wait(10*time.Second, "alice back", viewerEvent("room.viewer.added", "alice"))
	carol.Wait(10*time.Second, "bob back", viewerEvent("room.viewer.added", "bob"))
	dave := connect(1, "dave", "moderator")
	if got := enter(t, dave, room); !slices.Equal(got, []string{"alice", "bob", "carol", "dave"}) {
		t.Fatalf("after healing the room has %v", got)
	}
	// Both sides' catalog writes are everywhere.
	for i := range ps {
		c := connect(i, fmt.Sprint("check-", i), "admin")
		testkit.Eventually(t, 15*time.Second, "catalog converged on "+ps[i].Name, func() bool {
			var a, b struct{ Description string }
			if json.Unmarshal(c.Call("room.config.get", map[string]any{"room": other}), &a) != nil ||
				json.Unmarshal(c.Call("room.config.get", map[string]any{"room": room}), &b) != nil {
				return false
			}
			return a.Description == "written by the majority" && b.Description == "written by the minority"
		})
	}
	// The healed cluster counts reactions from both former sides together.
	alice.Call("room.react", map[string]any{"room": room, "reaction": "👍"})
	carol.Call("room.react", map[string]any{"room": room, "reaction": "👍"})
	reactionCounts(t, bob, room, "👍", 2)
	// A cut cable refuses nothing: the sides split by gossip's verdict
	// only, never by the fast failover's.
	for _, p := range ps {
		if n := p.Metric(goneMetric); n > 0 {
			t.Fatalf("%s found a member gone in a partition (%s = %v)", p.Name, goneMetric, n)
		}
	}
}
