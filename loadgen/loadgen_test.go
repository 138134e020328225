package loadgen_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/loadgen"
	"github.com/roomring/roomring/loadgen/echo"
	"github.com/roomring/roomring/loadgen/floor"
	"github.com/roomring/roomring/node/nodetest"
)

// The load generator is checked against real nodes (nodetest: the sample
// rooms room_1, workshop-a, lounge, backstage) and against what the node
// itself counts (its connections gauge), the kernel (/proc/net/tcp) and what
// the workload makes certain (every member of a room receives each of its
// broadcasts).

// workerEnv makes the test binary act as a load generator worker process.
const workerEnv = "LOADGEN_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(workerMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// workerMain is `roomring loadgen --worker N ...` for the test binary.
func workerMain(args []string) int {
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	var cfg loadgen.Config
	cfg.RegisterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if err := loadgen.RunWorker(context.Background(), cfg, loadgen.Deps{Progress: os.Stderr}, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	return 0
}

// reexec runs workers as this test binary.
func reexec(args []string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), workerEnv+"=1")
	return cmd
}

func baseConfig(targets ...string) loadgen.Config {
	var cfg loadgen.Config
	cfg.RegisterFlags(flag.NewFlagSet("loadgen", flag.ContinueOnError))
	cfg.Targets = targets
	cfg.JWTSecret = nodetest.Secret
	cfg.Warmup = 300 * time.Millisecond
	cfg.Duration = 1500 * time.Millisecond
	cfg.Interval = 250 * time.Millisecond
	cfg.DrainQuiet = 500 * time.Millisecond
	return cfg
}

// scrape reads one sample of the node's metrics (0 when absent).
func scrape(n *nodetest.Node, key string) (float64, error) {
	resp, err := http.Get(n.HTTPURL() + "/metrics")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), key+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, sc.Err()
}

// watch polls cond until it holds or stop is closed; it reports whether it
// held.
func watch(stop <-chan struct{}, cond func() bool) <-chan bool {
	out := make(chan bool, 1)
	go func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if cond() {
				out <- true
				return
			}
			select {
			case <-stop:
				out <- cond()
				return
			case <-t.C:
			}
		}
	}()
	return out
}

func run(t *testing.T, cfg loadgen.Config, deps loadgen.Deps) *loadgen.Result {
	t.Helper()
	var progress strings.Builder
	var mu sync.Mutex
	deps.Progress = lockedWriter{&mu, &progress}
	res, err := loadgen.Run(context.Background(), cfg, deps)
	mu.Lock()
	defer mu.Unlock()
	if err != nil {
		t.Fatalf("run: %v\nprogress:\n%s", err, progress.String())
	}
	if res.Measured == 0 {
		t.Fatalf("nothing measured; progress:\n%s", progress.String())
	}
	var out strings.Builder
	res.Print(&out)
	t.Logf("progress:\n%s\nresult:%s", progress.String(), out.String())
	return res
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRoomsCountsWhatItClaims runs the event workload in-process against a
// node: the connections it says it held are the node's connections, every
// acknowledged broadcast reached every member of the big room exactly once,
// every request got its reply, and latency comes
// from the stamp in the payload — a stamping clock 80 ms behind shows as
// at least 80 ms.
func TestRoomsCountsWhatItClaims(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	const skew = 80 * time.Millisecond
	cfg := baseConfig(n.Addr())
	cfg.Conns = 40
	cfg.BigRoom, cfg.BigShare = "room_1", 0.5
	cfg.Rooms = loadgen.List{"lounge", "backstage"}
	cfg.BroadcastRate = 10
	cfg.ReactionRate = 20
	cfg.ServerPIDs = loadgen.IntList{os.Getpid()}

	stop := make(chan struct{})
	held := watch(stop, func() bool {
		v, err := scrape(n, `roomring_connections{dialect="venueless",world="default"}`)
		return err == nil && v == 41
	})
	res := run(t, cfg, loadgen.Deps{Now: func() time.Time { return time.Now().Add(-skew) }})
	close(stop)
	if !<-held {
		t.Error("the node never held the 41 connections")
	}

	tot := res.Total
	if res.Held != 41 || tot.Target != 41 || tot.DialErrors+tot.SetupErrors+tot.Drops != 0 {
		t.Errorf("held %d of %d; dial errors %d, setup errors %d, drops %d", res.Held, tot.Target,
			tot.DialErrors, tot.SetupErrors, tot.Drops)
	}
	if tot.BroadcastOK == 0 || tot.BroadcastOK != tot.BroadcastSent {
		t.Fatalf("broadcasts: %d sent, %d acknowledged", tot.BroadcastSent, tot.BroadcastOK)
	}
	// room_1: 20 participants and the moderator.
	if want := 21 * tot.BroadcastOK; tot.Deliveries != want {
		t.Errorf("deliveries %d, want 21 × %d broadcasts = %d", tot.Deliveries, tot.BroadcastOK, want)
	}
	if tot.Replies+tot.ErrReplies != tot.Requests || tot.Unmatched != 0 || tot.ErrReplies != 0 {
		t.Errorf("requests %d, replies %d, error replies %d, unmatched %d, errors %v",
			tot.Requests, tot.Replies, tot.ErrReplies, tot.Unmatched, tot.Errors)
	}
	if res.Delivery.Count == 0 || res.Delivery.P50 < skew-skew/64 || res.Delivery.Max > skew+5*time.Second {
		t.Errorf("delivery latency %+v; want every value at least the %v stamp skew", res.Delivery, skew)
	}
	// The measured window holds the deliveries counted in it, give or take
	// those between a round's counter snapshot and its histogram swap.
	if d := int64(res.Delivery.Count) - res.Counters.Deliveries; d < -21 || d > 21 {
		t.Errorf("measured %d latencies for %d deliveries", res.Delivery.Count, res.Counters.Deliveries)
	}
	if res.RTT.Count == 0 || res.Counters.ReactSent == 0 {
		t.Errorf("no room.react replies measured: %+v", res.RTT)
	}
	if tot.Reactions == 0 || res.ReactionSpread.Count == 0 {
		t.Errorf("room.reaction: %d received, spread %+v", tot.Reactions, res.ReactionSpread)
	}
	if len(res.Servers) != 1 || res.Servers[0].RSSEnd <= 0 || res.Servers[0].CPU <= 0 {
		t.Errorf("server figures %+v", res.Servers)
	}
}

// tcpSources counts established connections to port by local address in
// /proc/net/tcp (the load generator's ends of its sockets).
func tcpSources(port int) map[string]int {
	out := map[string]int{}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || fs[3] != "01" {
			continue
		}
		lip, _, _ := strings.Cut(fs[1], ":")
		_, rport, _ := strings.Cut(fs[2], ":")
		p, _ := strconv.ParseInt(rport, 16, 32)
		ip, _ := strconv.ParseUint(lip, 16, 32)
		if int(p) != port {
			continue
		}
		// /proc/net/tcp prints the address in host (little-endian) order.
		out[net.IPv4(byte(ip), byte(ip>>8), byte(ip>>16), byte(ip>>24)).String()]++
	}
	return out
}

// TestWorkerProcessesAndSourceAddresses runs two worker processes (this
// test binary, re-executed) connecting from two source addresses, and
// checks the parent's aggregate against the node and the kernel.
func TestWorkerProcessesAndSourceAddresses(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	_, portStr, _ := net.SplitHostPort(n.Addr())
	port, _ := strconv.Atoi(portStr)
	cfg := baseConfig(n.Addr())
	cfg.Procs = 2
	cfg.Conns = 30
	cfg.BigRoom, cfg.BigShare = "lounge", 1
	cfg.BroadcastRate = 5
	if err := cfg.Sources.Set("127.0.0.2-127.0.0.3"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var mu sync.Mutex
	var sources map[string]int
	spread := watch(stop, func() bool {
		s := tcpSources(port)
		mu.Lock()
		sources = s
		mu.Unlock()
		v, err := scrape(n, `roomring_connections{dialect="venueless",world="default"}`)
		return err == nil && v == 31 && s["127.0.0.2"] == 16 && s["127.0.0.3"] == 15
	})
	res := run(t, cfg, loadgen.Deps{WorkerCommand: reexec})
	close(stop)
	if !<-spread {
		mu.Lock()
		t.Errorf("never saw 31 node connections from 16 × 127.0.0.2 and 15 × 127.0.0.3; last seen %v", sources)
		mu.Unlock()
	}
	tot := res.Total
	if res.Held != 31 || tot.Target != 31 {
		t.Errorf("held %d of %d", res.Held, tot.Target)
	}
	if want := 31 * tot.BroadcastOK; tot.BroadcastOK == 0 || tot.Deliveries != want {
		t.Errorf("deliveries %d, want 31 × %d", tot.Deliveries, tot.BroadcastOK)
	}
}

// TestSocketIO runs the Engine.IO 4 client: broadcasts are resource
// reactions that every member joined to the room receives. Its connections
// are read by a goroutine each (--epoll=false), the others' by epoll loops.
func TestSocketIO(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	cfg := baseConfig(n.Addr())
	cfg.Epoll = false
	cfg.Dialect = loadgen.DialectSocketIO
	cfg.Conns = 12
	cfg.BigRoom, cfg.BigShare = "room_1", 1
	cfg.BroadcastRate = 5
	cfg.ChurnRate = 4
	stop := make(chan struct{})
	held := watch(stop, func() bool {
		v, err := scrape(n, `roomring_connections{dialect="socketio",world="default"}`)
		return err == nil && v == 13
	})
	res := run(t, cfg, loadgen.Deps{})
	close(stop)
	if !<-held {
		t.Error("the node never held the 13 Socket.IO connections")
	}
	tot := res.Total
	if res.Held != 13 || tot.BroadcastOK == 0 || tot.Deliveries == 0 || tot.Deliveries > 13*tot.BroadcastOK {
		t.Errorf("held %d; %d broadcasts acknowledged, %d delivered", res.Held, tot.BroadcastOK, tot.Deliveries)
	}
	if tot.ChurnDone == 0 || tot.ErrReplies != 0 || tot.Replies != tot.Requests {
		t.Errorf("churn %d; requests %d, replies %d, error replies %d (%v)", tot.ChurnDone, tot.Requests,
			tot.Replies, tot.ErrReplies, tot.Errors)
	}
}

// TestIngestAndEcho floods room.react at a node and the same frames at the
// echo fixture: every frame sent is answered once.
func TestIngestAndEcho(t *testing.T) {
	ncfg := nodetest.Config(t, "")
	ncfg.Session.RateLimit, ncfg.Session.RateBurst = 1e6, 1e6
	n := nodetest.Start(t, ncfg)

	es, err := echo.New(echo.Config{Listen: "127.0.0.1:0", BufferSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = es.Serve() }()
	t.Cleanup(func() { _ = es.Close() })

	for _, tc := range []struct {
		mode, target string
	}{{loadgen.ModeIngest, n.Addr()}, {loadgen.ModeEcho, es.Addr()}} {
		t.Run(tc.mode, func(t *testing.T) {
			cfg := baseConfig(tc.target)
			cfg.Mode = tc.mode
			cfg.Conns = 4
			cfg.Window = 4
			res := run(t, cfg, loadgen.Deps{})
			tot := res.Total
			if tot.FloodSent == 0 || tot.Replies != tot.FloodSent || tot.ErrReplies+tot.Unmatched != 0 {
				t.Errorf("sent %d, replies %d, error replies %d (%v), unmatched %d", tot.FloodSent, tot.Replies,
					tot.ErrReplies, tot.Errors, tot.Unmatched)
			}
			if res.RTT.Count == 0 || res.RepliesPerSec <= 0 {
				t.Errorf("rtt %+v, replies/s %v", res.RTT, res.RepliesPerSec)
			}
		})
	}
}

// TestFanoutAgainstTheFloor runs the fan-out workload against the floor
// fixture (loadgen/floor): every acknowledged broadcast reaches every
// member exactly once, as from a node, and the fixture's own counters
// agree with what the load generator received.
func TestFanoutAgainstTheFloor(t *testing.T) {
	fs, err := floor.New(floor.Config{Listen: "127.0.0.1:0", MaxConns: 100, MaxBacklog: 1 << 20,
		MaxFrame: 64 << 10, MaxQueued: 64})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = fs.Serve() }()
	t.Cleanup(func() { _ = fs.Close() })

	cfg := baseConfig(fs.Addr())
	cfg.Conns = 30
	cfg.BigRoom, cfg.BigShare = "lg-big", 1
	cfg.BroadcastRate = 20
	cfg.ReactionRate = 10
	res := run(t, cfg, loadgen.Deps{})
	tot := res.Total
	if res.Held != 32 || tot.DialErrors+tot.SetupErrors+tot.Drops != 0 {
		t.Errorf("held %d; dial errors %d, setup errors %d, drops %d", res.Held, tot.DialErrors, tot.SetupErrors, tot.Drops)
	}
	if tot.BroadcastOK == 0 || tot.BroadcastOK != tot.BroadcastSent {
		t.Fatalf("broadcasts: %d sent, %d acknowledged", tot.BroadcastSent, tot.BroadcastOK)
	}
	// 30 participants and two moderators, all in lg-big.
	if want := 32 * tot.BroadcastOK; tot.Deliveries != want {
		t.Errorf("deliveries %d, want 32 × %d broadcasts = %d", tot.Deliveries, tot.BroadcastOK, want)
	}
	if tot.Replies != tot.Requests || tot.ErrReplies+tot.Unmatched != 0 {
		t.Errorf("requests %d, replies %d, error replies %d (%v), unmatched %d", tot.Requests, tot.Replies,
			tot.ErrReplies, tot.Errors, tot.Unmatched)
	}
	st := fs.Stats()
	if st.Broadcasts != tot.BroadcastOK || st.Deliveries != tot.Deliveries || st.Writes > st.Deliveries || st.Dropped != 0 {
		t.Errorf("fixture %v; load generator: %d broadcasts, %d deliveries", st, tot.BroadcastOK, tot.Deliveries)
	}
	if res.Delivery.Count == 0 {
		t.Errorf("no delivery latency measured: %+v", res.Delivery)
	}
}
