package cluster

import (
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/roomring/roomring/internal/testkit"
)

// goneAddrs are gossip addresses on loopback in the three states a probe
// tells apart, with real sockets (on an address of their own, where no
// other test's sockets are likely to take the closed port meanwhile).
type goneAddrs struct {
	closed  string // nothing listens, TCP or UDP: the process is gone
	alive   string // a TCP listener
	udpOnly string // TCP refused, but a UDP socket is bound (a firewall rejecting TCP only)
}

func newGoneAddrs(t *testing.T) goneAddrs {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.77:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	alive, err := net.Listen("tcp", "127.0.0.77:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = alive.Close() })
	udp, err := net.ListenPacket("udp", "127.0.0.77:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = udp.Close() })
	return goneAddrs{closed: closed, alive: alive.Addr().String(), udpOnly: udp.LocalAddr().String()}
}

func newTestDetector(t *testing.T, addrs map[string]string) (*goneDetector, *prometheus.CounterVec) {
	probes := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "probes"}, []string{"result"})
	g := newGoneDetector(true, 250*time.Millisecond, slog.New(slog.DiscardHandler), probes)
	g.gossipAddr = func(m string) (string, bool) { a, ok := addrs[m]; return a, ok }
	t.Cleanup(g.close)
	return g, probes
}

func TestGoneDetectorProbes(t *testing.T) {
	a := newGoneAddrs(t)
	g, probes := newTestDetector(t, map[string]string{"dead": a.closed, "live": a.alive, "tcp-rejected": a.udpOnly})
	for _, m := range []string{"dead", "live", "tcp-rejected", "unlisted"} {
		g.refused(m)
	}
	testkit.Eventually(t, 5*time.Second, "four probes", func() bool {
		n := 0.0
		for _, r := range []string{"gone", "alive", "inconclusive", "unknown"} {
			n += testutil.ToFloat64(probes.WithLabelValues(r))
		}
		return n == 4
	})
	for r, want := range map[string]float64{"gone": 1, "alive": 1, "inconclusive": 1, "unknown": 1} {
		if got := testutil.ToFloat64(probes.WithLabelValues(r)); got != want {
			t.Errorf("%s probes: %v, want %v", r, got, want)
		}
	}
	for m, want := range map[string]bool{"dead": true, "live": false, "tcp-rejected": false, "unlisted": false} {
		if g.isGone(m) != want {
			t.Errorf("%s gone: %v, want %v", m, !want, want)
		}
	}
	select {
	case <-g.changes:
	default:
		t.Fatal("no change signalled for the gone member")
	}

	// Its link back up, it is placed again; found gone again, then dropped
	// by gossip, it is forgotten.
	g.up("dead")
	if g.isGone("dead") {
		t.Fatal("a member whose link is up is still gone")
	}
	g.refused("dead")
	testkit.Eventually(t, 5*time.Second, "dead gone again", func() bool { return g.isGone("dead") })
	g.prune(func(string) bool { return false })
	if g.isGone("dead") {
		t.Fatal("a member gossip dropped is still gone")
	}
}

func TestGoneDetectorOff(t *testing.T) {
	a := newGoneAddrs(t)
	g, probes := newTestDetector(t, map[string]string{"dead": a.closed})
	g.enabled = false
	g.refused("dead")
	g.close() // waits for probes in flight: there must be none
	if n := testutil.CollectAndCount(probes); n != 0 || g.isGone("dead") {
		t.Fatalf("fast failover off: %d probe results, gone %v", n, g.isGone("dead"))
	}
}
