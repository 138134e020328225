package cluster_test

import (
	"bufio"
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

	"github.com/roomring/roomring/node/nodetest"
)

// The crash tests run the real binary as child processes, built once per
// test binary, so that a node can be killed for real (SIGKILL).

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

// roomringBinary builds the roomring binary (once) and returns its path.
func roomringBinary(t *testing.T) string {
	t.Helper()
	bin.once.Do(func() {
		bin.dir, bin.err = os.MkdirTemp("", "roomring-cluster-test-")
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

// proc is a node running as a child process.
type proc struct {
	name   string
	cmd    *exec.Cmd
	http   string // HTTP listener
	gossip string // gossip address
	client *http.Client
	exited chan struct{}

	mu  sync.Mutex
	log []string
}

// fastFlags are fast() as command-line flags.
var fastFlags = []string{
	"--gossip-probe-interval=300ms", "--gossip-probe-timeout=200ms", "--gossip-suspicion-mult=2",
	"--gossip-interval=50ms", "--gossip-join-retry=200ms", "--gossip-push-pull-interval=2s",
	"--gossip-leave-timeout=2s", "--peer-reconnect-min=20ms", "--peer-reconnect-max=200ms",
	"--resync-retry=100ms", "--forward-timeout=3s",
}

// startProc starts a dev node named name on host (every port chosen by the
// kernel) that joins join, and waits until it listens.
func startProc(t *testing.T, host, name string, join ...string) *proc {
	t.Helper()
	return spawn(t, name, nil, http.DefaultClient, nodeArgs(t, name, host+":0", host+":0", host+":0", join...))
}

// nodeArgs are the arguments of a test node.
func nodeArgs(t *testing.T, name, listen, gossip, peerAddr string, join ...string) []string {
	args := append([]string{"node", "--dev", "--log-format=json", "--log-level=info",
		"--listen=" + listen, "--gossip-addr=" + gossip, "--peer-addr=" + peerAddr,
		"--name=" + name, "--cluster-key=" + testKey, "--data-dir=" + t.TempDir(),
		"--jwt-secret=" + nodetest.Secret, "--admin-token=" + adminToken,
		"--rooms=" + filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml")}, fastFlags...)
	if len(join) > 0 {
		args = append(args, "--join="+strings.Join(join, ","))
	}
	return args
}

// adminToken is the admin API token of test processes.
const adminToken = "cluster-test-admin-token"

// spawn runs the binary with args (prefixed by wrap, e.g. ip netns exec),
// reaching its HTTP listener with client, and waits until it listens.
func spawn(t *testing.T, name string, wrap []string, client *http.Client, args []string) *proc {
	t.Helper()
	argv := append(append(append([]string(nil), wrap...), roomringBinary(t)), args...)
	p := &proc{name: name, cmd: exec.Command(argv[0], argv[1:]...), client: client, exited: make(chan struct{})}
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

// kill sends SIGKILL and waits for the process to be gone.
func (p *proc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

func (p *proc) url() string { return "ws://" + p.http + "/ws/world/default/" }

// metric returns the value of an unlabelled metric of the node, or -1.
func (p *proc) metric(name string) float64 {
	resp, err := p.client.Get("http://" + p.http + "/metrics")
	if err != nil {
		return -1
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func waitProcMembers(t *testing.T, n int, ps ...*proc) {
	t.Helper()
	for _, p := range ps {
		eventually(t, 20*time.Second, fmt.Sprintf("%s sees %d members", p.name, n), func() bool {
			return p.metric("roomring_cluster_members") == float64(n)
		})
	}
}
