package membership

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/cluster/key"
)

// app is a Delegate that records what gossip hands it.
type app struct {
	mu     sync.Mutex
	state  string
	msgs   []string
	merged []string
}

func (a *app) NotifyMsg(msg []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.msgs = append(a.msgs, string(msg))
}

func (a *app) LocalState() []byte {
	a.mu.Lock()
	defer a.mu.Unlock()
	return []byte(a.state)
}

func (a *app) MergeRemoteState(s []byte) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.merged = append(a.merged, string(s))
}

func (a *app) has(list func(*app) []string, want string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Contains(list(a), want)
}

func testConfig(host string, join ...string) Config {
	cfg := DefaultConfig()
	cfg.BindAddr = host + ":0"
	cfg.Join = join
	cfg.ProbeInterval = 200 * time.Millisecond
	cfg.ProbeTimeout = 100 * time.Millisecond
	cfg.SuspicionMult = 2
	cfg.GossipInterval = 50 * time.Millisecond
	cfg.JoinRetryInterval = 200 * time.Millisecond
	cfg.LeaveTimeout = time.Second
	return cfg
}

type testNode struct {
	*Membership
	app *app
	reg *prometheus.Registry
}

func start(t *testing.T, name, passphrase string, cfg Config) *testNode {
	t.Helper()
	keys, err := key.Derive(passphrase)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{state: "state of " + name}
	reg := prometheus.NewRegistry()
	m, err := New(cfg, name, keys.Gossip, []byte("meta of "+name), a, testkit.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Start()
	t.Cleanup(func() { _ = m.Shutdown() })
	return &testNode{Membership: m, app: a, reg: reg}
}

func names(m *Membership) []string {
	var out []string
	for _, mb := range m.Members() {
		out = append(out, mb.Name)
	}
	return out
}

func TestJoinBroadcastStateAndLeave(t *testing.T) {
	a := start(t, "node-a", "cluster-secret-0123", testConfig("127.0.0.2"))
	b := start(t, "node-b", "cluster-secret-0123", testConfig("127.0.0.3", a.Addr()))
	c := start(t, "node-c", "cluster-secret-0123", testConfig("127.0.0.4", b.Addr()))
	all := []string{"node-a", "node-b", "node-c"}
	for _, n := range []*testNode{a, b, c} {
		testkit.Eventually(t, 10*time.Second, n.Name()+" sees three members", func() bool { return slices.Equal(names(n.Membership), all) })
	}
	for _, mb := range a.Members() {
		if string(mb.Meta) != "meta of "+mb.Name {
			t.Fatalf("member %s has meta %q", mb.Name, mb.Meta)
		}
	}
	// Joining exchanged full state.
	testkit.Eventually(t, 5*time.Second, "b merged a's state", func() bool { return b.app.has(func(a *app) []string { return a.merged }, "state of node-a") })

	if err := a.Broadcast([]byte("hello from a")); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{b, c} {
		testkit.Eventually(t, 5*time.Second, n.Name()+" got the broadcast", func() bool {
			return n.app.has(func(a *app) []string { return a.msgs }, "hello from a")
		})
	}
	if err := a.Broadcast(make([]byte, a.BroadcastMaxBytes()+1)); err == nil {
		t.Fatal("oversized broadcast accepted")
	}

	if err := c.Leave(); err != nil {
		t.Fatal(err)
	}
	_ = c.Shutdown()
	for _, n := range []*testNode{a, b} {
		testkit.Eventually(t, 5*time.Second, n.Name()+" sees c leave", func() bool { return slices.Equal(names(n.Membership), all[:2]) })
	}
	if got := gauge(t, a.reg, "roomring_cluster_members"); got != 2 {
		t.Fatalf("members gauge = %v, want 2", got)
	}
	// Retrying the departed member does not bring it back.
	testkit.Consistently(t, time.Second, "departed member is back", func() error {
		if len(a.Members()) != 2 {
			return fmt.Errorf("%v", names(a.Membership))
		}
		return nil
	})
}

func TestDeadMemberIsDetectedAndRetried(t *testing.T) {
	a := start(t, "node-a", "cluster-secret-0123", testConfig("127.0.0.2"))
	b := start(t, "node-b", "cluster-secret-0123", testConfig("127.0.0.3", a.Addr()))
	testkit.Eventually(t, 10*time.Second, "a sees b", func() bool { return len(a.Members()) == 2 })
	bAddr := b.Addr()
	_ = b.Shutdown() // no leave: a crash as gossip sees it
	testkit.Eventually(t, 15*time.Second, "a declares b dead", func() bool { return len(a.Members()) == 1 })
	if addrs := a.deadAddrs(); !slices.Equal(addrs, []string{bAddr}) {
		t.Fatalf("dead members retried: %v, want [%s]", addrs, bAddr)
	}
}

func TestWrongKeyCannotJoin(t *testing.T) {
	a := start(t, "node-a", "cluster-secret-0123", testConfig("127.0.0.2"))
	b := start(t, "node-b", "cluster-secret-0123", testConfig("127.0.0.3", a.Addr()))
	testkit.Eventually(t, 10*time.Second, "a and b joined", func() bool { return len(a.Members()) == 2 && len(b.Members()) == 2 })

	evil := start(t, "node-x", "not the cluster secret!", testConfig("127.0.0.5", a.Addr(), b.Addr()))
	// The intruder keeps retrying its seeds; give it several attempts.
	testkit.Consistently(t, 2*time.Second, "wrong key joined", func() error {
		if len(a.Members()) != 2 || len(b.Members()) != 2 || len(evil.Members()) != 1 {
			return fmt.Errorf("a=%v b=%v x=%v", names(a.Membership), names(b.Membership), names(evil.Membership))
		}
		return nil
	})
	if n, err := evil.ml.Join([]string{a.Addr()}); err == nil || n != 0 {
		t.Fatalf("join with the wrong key: contacted %d, err %v", n, err)
	}
}

func TestConfigValidate(t *testing.T) {
	for i, mutate := range []func(*Config){
		func(c *Config) { c.BindAddr = "nohostport" },
		func(c *Config) { c.ProbeTimeout = c.ProbeInterval },
		func(c *Config) { c.SuspicionMult = 0 },
		func(c *Config) { c.Join = StringList{"no-port"} },
		func(c *Config) { c.BroadcastMaxBytes = UDPPacketBytes },
	} {
		cfg := testConfig("127.0.0.2")
		mutate(&cfg)
		if err := cfg.Validate(); err == nil {
			t.Errorf("case %d: invalid config accepted", i)
		}
	}
	var l StringList
	_ = l.Set("a:1, b:2,,c:3")
	if fmt.Sprint([]string(l)) != "[a:1 b:2 c:3]" {
		t.Fatalf("StringList = %v", l)
	}
}

func gauge(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s not found", name)
	return 0
}
