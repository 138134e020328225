package controllers_test

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// A pool of three nodes running as processes (the real binary, gossip on
// 127.0.0.2-4): when the node that owns a room is killed, the ring places
// the room on a survivor and the Room's status follows.

// clusterFlags tune failure detection for tests: the same mechanisms as in
// production, on a shorter clock.
var clusterFlags = append([]string{"--cluster-key", "operator-test-cluster-key", "--rebuild-window", "500ms"}, nodeproc.ClockFlags...)

// startProc starts `roomring node` named name on host, joining join, and
// waits until it listens.
func startProc(t *testing.T, bin, host, name string, join ...string) *nodeproc.Member {
	t.Helper()
	args := append([]string{"node", "--listen", host + ":0", "--gossip-addr", host + ":0", "--log-format", "json",
		"--node-name", name, "--data-dir", t.TempDir(), "--allow-node-local-store", "--jwt-secret", nodetest.Secret, "--allow-guests"}, clusterFlags...)
	for _, j := range join {
		args = append(args, "--join", j)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), adminapi.TokenEnv+"="+token)
	return nodeproc.StartMember(t, name, cmd)
}

// Long: one outage in order: owner placed, owner killed, status follows.
func TestOwnerChangeWhenANodeDies(t *testing.T) {
	bin := nodeproc.Binary(t)
	ns := env.Namespace(t)
	p0 := startProc(t, bin, "127.0.0.2", "node-0")
	p1 := startProc(t, bin, "127.0.0.3", "node-1", p0.Gossip)
	p2 := startProc(t, bin, "127.0.0.4", "node-2", p0.Gossip)
	procs := []*nodeproc.Member{p0, p1, p2}
	pool := nodetest.AdminClient(t, token, p0.HTTP, p1.HTTP, p2.HTTP)
	for _, p := range procs {
		waitMembers(t, pool, p.HTTP, 3)
	}
	startOperator(t, ns, []string{p0.HTTP, p1.HTTP, p2.HTTP})

	// Enough Rooms that every node owns some.
	const rooms = 9
	for i := range rooms {
		create(t, newRoom(ns, fmt.Sprintf("room-%d", i), "", fmt.Sprintf("Room %d", i)))
	}
	owners := map[string]string{}
	for i := range rooms {
		name := fmt.Sprintf("room-%d", i)
		r := waitStatus(t, ns, name, "ready", func(r *v1alpha1.Room) error {
			if r.Status.OwnerNode == "" {
				return fmt.Errorf("no owner yet: %+v", r.Status)
			}
			return ready(r.Status.OwnerNode)(r)
		})
		owners[name] = r.Status.OwnerNode
	}
	var doomed *nodeproc.Member
	var victims []string
	for _, p := range procs[1:] { // keep node-0, the seed
		victims = victims[:0]
		for name, o := range owners {
			if o == p.Name {
				victims = append(victims, name)
			}
		}
		if len(victims) > 0 {
			doomed = p
			break
		}
	}
	if doomed == nil {
		t.Fatalf("node-1 and node-2 own no room: %v", owners)
	}
	slices.Sort(victims)
	t.Logf("killing %s, owner of %v", doomed.Name, victims)

	// A viewer on a surviving node, in a room of the doomed node.
	g := nodetest.Dial(t, "ws://"+p0.HTTP+"/ws/world/default/")
	g.Auth(map[string]any{"client_id": "watcher"})
	g.Call("room.enter", map[string]any{"room": victims[0]})
	waitStatus(t, ns, victims[0], "1 viewer", func(r *v1alpha1.Room) error {
		if r.Status.Viewers != 1 {
			return fmt.Errorf("viewers %d", r.Status.Viewers)
		}
		return nil
	})

	if err := doomed.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, name := range victims {
		waitStatus(t, ns, name, "owned by a survivor", func(r *v1alpha1.Room) error {
			if o := r.Status.OwnerNode; o == "" || o == doomed.Name {
				return fmt.Errorf("owner %q", o)
			}
			return ready(r.Status.OwnerNode)(r)
		})
		waitEvent(t, ns, name, "Normal/OwnerChanged")
	}
	// The new owner rebuilt the viewer set from the surviving edge.
	waitStatus(t, ns, victims[0], "1 viewer on the new owner", func(r *v1alpha1.Room) error {
		if r.Status.Viewers != 1 {
			return fmt.Errorf("viewers %d", r.Status.Viewers)
		}
		return nil
	})
	for i := range rooms {
		waitStatus(t, ns, fmt.Sprintf("room-%d", i), "ready on a survivor", func(r *v1alpha1.Room) error {
			if r.Status.OwnerNode == doomed.Name {
				return fmt.Errorf("owner %q", r.Status.OwnerNode)
			}
			return ready(r.Status.OwnerNode)(r)
		})
	}
}

// waitMembers waits until the node at addr sees n members.
func waitMembers(t *testing.T, pool *poolclient.Client, addr string, n int) {
	t.Helper()
	testkit.EventuallyNil(t, wait, addr+" sees "+fmt.Sprint(n)+" members", func() error {
		ps, err := pool.PoolAt(t.Context(), addr)
		if err != nil {
			return err
		}
		if len(ps.Members) != n {
			return fmt.Errorf("members %v", ps.Members)
		}
		return nil
	})
}
