package peer

import (
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/internal/testkit"
)

// TestUnauthenticatedConnectionsAreCapped: connections that never
// authenticate hold at most MaxHandshakes slots; beyond them new ones are
// closed at once, and once the slots are free a real peer gets in.
func TestUnauthenticatedConnectionsAreCapped(t *testing.T) {
	cfg := testConfig("127.0.0.2:0")
	cfg.MaxHandshakes = 2
	cfg.HandshakeTimeout = 30 * time.Second
	a := startMesh(t, "a", cfg, testKey)
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
	}
	testkit.Eventually(t, 5*time.Second, "a third connection closed at once", func() bool {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return testkit.ClosedByPeer(c, 2*time.Second) && counter(t, a.reg, "roomring_peer_inbound_refused_total") > 0
	})
	for _, c := range idle {
		_ = c.Close()
	}
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	connect(a, b)
	testkit.Eventually(t, 5*time.Second, "a real peer gets in", func() bool {
		_, err := b.Request(ctxTimeout(t, time.Second), "a", 0, []byte("hi"))
		return err == nil
	})
}

// TestGarbageConnectionsLogOnce: a flood of connections that are not
// roomring peers is counted in full but logged once per interval.
func TestGarbageConnectionsLogOnce(t *testing.T) {
	var logs testkit.Buffer
	reg := prometheus.NewRegistry()
	a, err := New(testConfig("127.0.0.2:0"), "a", testKey, newRecorder(), slog.New(slog.NewTextHandler(&logs, nil)), reg)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	const n = 200
	for range n {
		c, err := net.Dial("tcp", a.Addr())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		if !testkit.ClosedByPeer(c, 5*time.Second) {
			t.Fatal("a garbage connection was kept open")
		}
		_ = c.Close()
	}
	testkit.Eventually(t, 5*time.Second, "every garbage connection counted", func() bool {
		return counter(t, reg, "roomring_peer_auth_rejected_total") == n
	})
	if got := strings.Count(logs.String(), "peer connection rejected"); got != 1 {
		t.Fatalf("%d log lines for %d garbage connections, want 1", got, n)
	}
	if got := counter(t, reg, "roomring_peer_log_suppressed_total"); got != n-1 {
		t.Fatalf("%v suppressed lines counted, want %d", got, n-1)
	}
}
