package membership

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/cluster/key"
)

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}

// TestGossipStreamsAreCapped: streams that send nothing hold at most
// MaxStreams slots (until memberlist's TCP timeout); beyond them new ones
// are closed at once, and members still join once the slots are free.
func TestGossipStreamsAreCapped(t *testing.T) {
	cfg := testConfig("127.0.0.2")
	cfg.MaxStreams = 2
	a := start(t, "node-a", "passphrase-long-enough", cfg)
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	testkit.Eventually(t, 5*time.Second, "a third stream closed at once", func() bool {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return testkit.ClosedByPeer(c, 2*time.Second) && counter(t, a.reg, "roomring_gossip_streams_refused_total") > 0
	})
	for _, c := range idle {
		_ = c.Close()
	}
	b := start(t, "node-b", "passphrase-long-enough", testConfig("127.0.0.3", a.Addr()))
	testkit.Eventually(t, 10*time.Second, "b joins a", func() bool { return len(a.Members()) == 2 && len(b.Members()) == 2 })
}

func TestGossipStreamBytesAreBounded(t *testing.T) {
	server, client := net.Pipe()
	defer client.Close()
	tr := &guardedTransport{slots: make(chan struct{}, 1), tooLong: prometheus.NewCounter(prometheus.CounterOpts{Name: "x"})}
	tr.slots <- struct{}{}
	c := &boundedConn{Conn: server, left: 10, t: tr}
	go func() { _, _ = client.Write(bytes.Repeat([]byte("x"), 20)) }()
	var got []byte
	buf := make([]byte, 64)
	var err error
	for err == nil {
		var n int
		n, err = c.Read(buf)
		got = append(got, buf[:n]...)
	}
	if !errors.Is(err, errStreamTooLong) || len(got) != 10 {
		t.Fatalf("read %d bytes, then %v; want 10 and the bound", len(got), err)
	}
	_ = c.Close()
	_ = c.Close()
	if len(tr.slots) != 0 {
		t.Fatal("the stream's slot was not freed exactly once")
	}
}

// TestUndecryptablePacketsLogOnce: a flood of packets without the key is
// counted in full and logged once per kind per interval.
func TestUndecryptablePacketsLogOnce(t *testing.T) {
	keys, err := key.Derive("passphrase-long-enough")
	if err != nil {
		t.Fatal(err)
	}
	var logs testkit.Buffer
	reg := prometheus.NewRegistry()
	m, err := New(testConfig("127.0.0.2"), "node-a", keys.Gossip, nil, &app{}, slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Shutdown()
	c, err := net.Dial("udp", m.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 500
	for i := range n {
		_, _ = c.Write(bytes.Repeat([]byte{byte(i)}, 100))
	}
	testkit.Eventually(t, 5*time.Second, "the packets counted", func() bool {
		return counter(t, reg, "roomring_gossip_problems_total") >= n*9/10 // UDP may drop a few
	})
	if got := strings.Count(logs.String(), "component=gossip"); got > 3 {
		t.Fatalf("%d gossip log lines for %d bad packets", got, n)
	}
}
