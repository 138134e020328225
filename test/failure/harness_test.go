// Package failure holds the failure tests of issue 7: three processes of the
// real roomring binary sharing one real PostgreSQL server, real websocket
// clients writing resource reactions through every node at a steady rate,
// and a real failure in the middle — the room owner SIGKILLed, or the
// database stopped and started again. Afterwards every client's record of
// what was acknowledged is checked against what the nodes serve
// (docs/storage.md, "What a failure costs").
//
// They need PostgreSQL (hack/setup-test-deps.sh); ROOMRING_SKIP_PG=1 skips
// them.
package failure

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/nodetest"
)

// Test nodes' shared secrets.
const (
	clusterKey = "failure-test-cluster-passphrase"
	adminToken = "failure-test-admin-token"
)

// room is the room every writer writes in: a sample room with a fixed id
// that every node loads (config/samples/rooms.yaml).
const room = "room_1"

var bin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bin.dir != "" {
		_ = os.RemoveAll(bin.dir)
	}
	os.Exit(code)
}

// roomringBinary builds the roomring binary of this checkout once per test
// binary and returns its path.
func roomringBinary(t *testing.T) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "roomring-failure-test-")
		if bin.err != nil {
			return
		}
		bin.path = filepath.Join(bin.dir, "roomring")
		cmd := exec.Command("go", "build", "-o", bin.path, ".")
		cmd.Dir = nodetest.RepoRoot()
		if out, err := cmd.CombinedOutput(); err != nil {
			bin.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// fastFlags shorten failure detection and retries as the cluster tests do
// (node/cluster): the same mechanisms on a shorter clock. The store flags
// make an operation on an unreachable database fail within the forward
// timeout, so the client hears the store's verdict rather than the edge's
// own timeout.
var fastFlags = []string{
	"--gossip-probe-interval=300ms", "--gossip-probe-timeout=200ms", "--gossip-suspicion-mult=2",
	"--gossip-interval=50ms", "--gossip-join-retry=200ms", "--gossip-push-pull-interval=2s",
	"--gossip-leave-timeout=2s", "--peer-reconnect-min=20ms", "--peer-reconnect-max=200ms",
	"--resync-retry=100ms", "--forward-timeout=3s",
	"--store-op-timeout=2s", "--store-connect-timeout=1s", "--store-health-interval=100ms",
}

// proc is a node running as a child process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	http   string // HTTP listener HOST:PORT
	gossip string // gossip address
	exited chan struct{}
	admin  *admin.Client

	mu  sync.Mutex
	log []string
}

// startNode starts a node named name on host (ports chosen by the kernel)
// whose store is PostgreSQL at dsn (given in ROOMRING_STORE, as
// docs/storage.md recommends), joining join; it waits until the node
// listens.
func startNode(t *testing.T, host, name, dsn string, join ...string) *proc {
	t.Helper()
	args := append([]string{"node", "--dev", "--log-format=json", "--log-level=info",
		"--listen=" + host + ":0", "--gossip-addr=" + host + ":0", "--peer-addr=" + host + ":0",
		"--name=" + name, "--cluster-key=" + clusterKey, "--data-dir=" + t.TempDir(),
		"--jwt-secret=" + nodetest.Secret, "--admin-token=" + adminToken,
		"--rooms=" + filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml")}, fastFlags...)
	if len(join) > 0 {
		args = append(args, "--join="+strings.Join(join, ","))
	}
	p := &proc{name: name, cmd: exec.Command(roomringBinary(t), args...), exited: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "ROOMRING_STORE="+dsn)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go p.readLog(stderr, ready)
	go func() { _ = p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("log of %s:\n%s", name, p.logText())
		}
	})
	select {
	case <-ready:
	case <-p.exited:
		t.Fatalf("%s exited at start:\n%s", name, p.logText())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start:\n%s", name, p.logText())
	}
	cfg := admin.DefaultClientConfig()
	cfg.Pool, cfg.Token, cfg.Timeout = []string{p.http}, adminToken, 2*time.Second
	if p.admin, err = admin.NewClient(cfg); err != nil {
		t.Fatal(err)
	}
	return p
}

// readLog keeps the node's log and learns its addresses from it.
func (p *proc) readLog(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.log = append(p.log, line)
		var rec struct {
			Msg    string `json:"msg"`
			Addr   string `json:"addr"`
			Gossip string `json:"gossip"`
		}
		if json.Unmarshal([]byte(line), &rec) == nil {
			switch rec.Msg {
			case "cluster member":
				p.gossip = rec.Gossip
			case "node listening":
				p.http = rec.Addr
			}
		}
		done := !signalled && p.http != "" && p.gossip != ""
		p.mu.Unlock()
		if done {
			signalled = true
			close(ready)
		}
	}
}

func (p *proc) logText() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, "\n")
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) url() string { return "ws://" + p.http + "/ws/world/default/" }

// metric returns the value of the sample key of the node's /metrics (as
// exposed, labels included), or -1 when it is missing or unreachable.
func (p *proc) metric(key string) float64 {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				return f
			}
		}
	}
	return -1
}

// owner returns the owner of room as p reports it (admin API), "" when p
// cannot say.
func (p *proc) owner(room string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := p.admin.Room(ctx, room)
	if err != nil {
		return ""
	}
	return st.Owner
}

// startCluster starts three nodes named node-0..2 on 127.0.0.2..4 sharing
// the database at dsn and waits until each sees all three.
func startCluster(t *testing.T, dsn string) []*proc {
	t.Helper()
	p0 := startNode(t, "127.0.0.2", "node-0", dsn)
	p1 := startNode(t, "127.0.0.3", "node-1", dsn, p0.gossip)
	p2 := startNode(t, "127.0.0.4", "node-2", dsn, p0.gossip)
	nodes := []*proc{p0, p1, p2}
	waitMembers(t, 3, nodes...)
	return nodes
}

func waitMembers(t *testing.T, n int, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		waitFor(t, 20*time.Second, fmt.Sprintf("%s sees %d members", p.name, n), func() bool {
			return p.metric("roomring_cluster_members") == float64(n)
		})
	}
}

// agreedOwner waits until every node of ps names the same owner of room,
// one of ps, and returns it.
func agreedOwner(t *testing.T, ps ...*proc) *proc {
	t.Helper()
	var owner *proc
	waitFor(t, 20*time.Second, "the nodes agree on the owner of "+room, func() bool {
		owner = nil
		name := ps[0].owner(room)
		for _, p := range ps {
			if p.owner(room) != name {
				return false
			}
			if p.name == name {
				owner = p
			}
		}
		return owner != nil
	})
	return owner
}

// waitFor polls cond until it holds, failing the test at the deadline.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", timeout, what)
		}
		<-tick.C
	}
}
