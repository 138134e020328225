package controllers_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
)

// A pool of three nodes running as processes (the real binary, gossip on
// 127.0.0.2-4): when the node that owns a room is killed, the ring places
// the room on a survivor and the Room's status follows.

// clusterFlags tune failure detection for tests: the same mechanisms as in
// production, on a shorter clock.
var clusterFlags = []string{
	"--cluster-key", "operator-test-cluster-key",
	"--gossip-probe-interval", "300ms", "--gossip-probe-timeout", "200ms", "--gossip-suspicion-mult", "2",
	"--gossip-interval", "50ms", "--gossip-join-retry", "200ms", "--gossip-push-pull-interval", "2s",
	"--peer-reconnect-min", "20ms", "--peer-reconnect-max", "200ms",
	"--resync-retry", "100ms", "--rebuild-window", "500ms",
}

var (
	listeningRE = regexp.MustCompile(`msg="node listening" addr=(\S+)`)
	gossipRE    = regexp.MustCompile(`msg="cluster member" .*gossip=(\S+)`)
)

// nodeProc is a node running as a child process.
type nodeProc struct {
	name, http, gossip string
	cmd                *exec.Cmd
	out                syncBuffer
}

// startProc starts `roomring node` named name on host, joining join.
func startProc(t *testing.T, bin, host, name string, join ...string) *nodeProc {
	t.Helper()
	args := append([]string{"node", "--listen", host + ":0", "--gossip-addr", host + ":0",
		"--node-name", name, "--data-dir", t.TempDir(), "--jwt-secret", nodetest.Secret, "--allow-guests"}, clusterFlags...)
	for _, j := range join {
		args = append(args, "--join", j)
	}
	p := &nodeProc{name: name, cmd: exec.Command(bin, args...)}
	p.cmd.Env = append(os.Environ(), admin.TokenEnv+"="+token)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		if t.Failed() {
			t.Logf("%s output:\n%s", name, p.out.String())
		}
	})
	ready := make(chan struct{})
	go func() {
		var once sync.Once
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			_, _ = p.out.Write([]byte(line + "\n"))
			if m := listeningRE.FindStringSubmatch(line); m != nil {
				p.http = m[1]
			}
			if m := gossipRE.FindStringSubmatch(line); m != nil {
				p.gossip = m[1]
			}
			if p.http != "" && p.gossip != "" {
				once.Do(func() { close(ready) })
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(wait):
		t.Fatalf("%s did not report its addresses:\n%s", name, p.out.String())
	}
	return p
}

func TestOwnerChangeWhenANodeDies(t *testing.T) {
	bin := roomringBinary(t)
	ns := env.Namespace(t)
	p0 := startProc(t, bin, "127.0.0.2", "node-0")
	p1 := startProc(t, bin, "127.0.0.3", "node-1", p0.gossip)
	p2 := startProc(t, bin, "127.0.0.4", "node-2", p0.gossip)
	procs := []*nodeProc{p0, p1, p2}
	pool := poolClient(t, p0.http, p1.http, p2.http)
	for _, p := range procs {
		waitMembers(t, pool, p.http, 3)
	}
	startOperator(t, ns, []string{p0.http, p1.http, p2.http})

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
	var doomed *nodeProc
	var victims []string
	for _, p := range procs[1:] { // keep node-0, the seed
		victims = victims[:0]
		for name, o := range owners {
			if o == p.name {
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
	t.Logf("killing %s, owner of %v", doomed.name, victims)

	// A viewer on a surviving node, in a room of the doomed node.
	g := nodetest.Dial(t, "ws://"+p0.http+"/ws/world/default/")
	g.Auth(map[string]any{"client_id": "watcher"})
	g.Call("room.enter", map[string]any{"room": victims[0]})
	waitStatus(t, ns, victims[0], "1 viewer", func(r *v1alpha1.Room) error {
		if r.Status.Viewers != 1 {
			return fmt.Errorf("viewers %d", r.Status.Viewers)
		}
		return nil
	})

	if err := doomed.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, name := range victims {
		waitStatus(t, ns, name, "owned by a survivor", func(r *v1alpha1.Room) error {
			if o := r.Status.OwnerNode; o == "" || o == doomed.name {
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
			if r.Status.OwnerNode == doomed.name {
				return fmt.Errorf("owner %q", r.Status.OwnerNode)
			}
			return ready(r.Status.OwnerNode)(r)
		})
	}
}

// waitMembers waits until the node at addr sees n members.
func waitMembers(t *testing.T, pool *admin.Client, addr string, n int) {
	t.Helper()
	kubetest.Eventually(t, wait, addr+" sees "+fmt.Sprint(n)+" members", func() error {
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
