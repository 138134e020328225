package peer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/internal/testkit"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// recorder is a Handler that echoes requests and records messages; a
// request "block" waits until release is closed.
type recorder struct {
	mu      sync.Mutex
	msgs    map[string][]string // by sender
	ups     map[string]int
	refused map[string]int
	release chan struct{}
	// holding counts "block" requests a worker is waiting in.
	holding atomic.Int32
}

func newRecorder() *recorder {
	return &recorder{msgs: map[string][]string{}, ups: map[string]int{}, refused: map[string]int{}, release: make(chan struct{})}
}

func (r *recorder) HandleRequest(from string, p []byte) []byte {
	if string(p) == "block" {
		r.holding.Add(1)
		<-r.release
	}
	return append([]byte(from+" asked "), p...)
}

func (r *recorder) HandleMessage(from string, p []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs[from] = append(r.msgs[from], string(p))
}

func (r *recorder) LinkUp(peer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ups[peer]++
}

func (r *recorder) LinkRefused(peer string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refused[peer]++
}

func (r *recorder) refusals(peer string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused[peer]
}

func (r *recorder) messages(from string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs[from]...)
}

func (r *recorder) linkUps(peer string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ups[peer]
}

func testConfig(addr string) Config {
	cfg := DefaultConfig()
	cfg.ListenAddr = addr
	cfg.ReconnectMin = 20 * time.Millisecond
	cfg.ReconnectMax = 100 * time.Millisecond
	return cfg
}

type testMesh struct {
	*Mesh
	rec *recorder
	reg *prometheus.Registry
}

func startMesh(t *testing.T, name string, cfg Config, key []byte) *testMesh {
	t.Helper()
	rec := newRecorder()
	reg := prometheus.NewRegistry()
	m, err := New(cfg, name, key, rec, testkit.Logger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		select {
		case <-rec.release:
		default:
			close(rec.release)
		}
		_ = m.Close()
	})
	return &testMesh{Mesh: m, rec: rec, reg: reg}
}

// connect makes every mesh a peer of every other.
func connect(ms ...*testMesh) {
	peers := map[string]string{}
	for _, m := range ms {
		peers[m.self] = m.Addr()
	}
	for _, m := range ms {
		m.SetPeers(peers)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if c := m.GetCounter(); c != nil {
				sum += c.GetValue()
			} else if g := m.GetGauge(); g != nil {
				sum += g.GetValue()
			}
		}
	}
	return sum
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestRequestReplyBothWays(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	connect(a, b)
	got, err := a.Request(ctxTimeout(t, 5*time.Second), "b", 1, []byte("ping"))
	if err != nil || string(got) != "a asked ping" {
		t.Fatalf("a→b = %q, %v", got, err)
	}
	got, err = b.Request(ctxTimeout(t, 5*time.Second), "a", 1, []byte("pong"))
	if err != nil || string(got) != "b asked pong" {
		t.Fatalf("b→a = %q, %v", got, err)
	}
	if _, err := a.Request(ctxTimeout(t, time.Second), "nobody", 1, nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("request to an unknown peer: %v", err)
	}
	testkit.Eventually(t, 5*time.Second, "LinkUp on both sides", func() bool { return a.rec.linkUps("b") == 1 && b.rec.linkUps("a") == 1 })
}

func TestMessagesOfALaneArriveInOrderAndAreBatched(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	// Queue everything before the link has even connected: the writer then
	// finds many frames waiting and must batch them.
	connect(a, b)
	const n = 500
	for i := range n {
		if err := a.Send("b", 7, []byte(strconv.Itoa(i))); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	testkit.Eventually(t, 10*time.Second, "all messages", func() bool { return len(b.rec.messages("a")) == n })
	for i, m := range b.rec.messages("a") {
		if m != strconv.Itoa(i) {
			t.Fatalf("message %d is %q: lane order broken", i, m)
		}
	}
	frames := counter(t, a.reg, "roomring_peer_frames_written_total")
	writes := counter(t, a.reg, "roomring_peer_writes_total")
	if frames < n || writes > frames/4 {
		t.Fatalf("%v frames in %v writes: not batched", frames, writes)
	}
}

func TestWrongKeyIsRejected(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	evil := startMesh(t, "evil", testConfig("127.0.0.5:0"), bytes.Repeat([]byte("x"), 32))
	connect(a, evil)
	// Neither side can get a frame through: each refuses the other's proof.
	testkit.Eventually(t, 5*time.Second, "auth failures", func() bool {
		return counter(t, evil.reg, "roomring_peer_connects_total", "result", "auth_error") > 0 &&
			counter(t, a.reg, "roomring_peer_auth_rejected_total") > 0
	})
	testkit.Eventually(t, 5*time.Second, "evil's link down", func() bool {
		return errors.Is(evil.Send("a", 1, []byte("let me in")), ErrUnavailable)
	})
	if _, err := evil.Request(ctxTimeout(t, time.Second), "a", 1, []byte("hello")); err == nil {
		t.Fatal("request with the wrong key succeeded")
	}
	if msgs := a.rec.messages("evil"); len(msgs) != 0 {
		t.Fatalf("a accepted %v from a node with the wrong key", msgs)
	}
	if a.rec.linkUps("evil") != 0 || evil.rec.linkUps("a") != 0 {
		t.Fatal("a link came up with the wrong key")
	}
}

func TestDialerChecksWhoAnswers(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	// a believes "c" lives at b's address (b took over a dead node's address).
	a.SetPeers(map[string]string{"c": b.Addr()})
	testkit.Eventually(t, 5*time.Second, "a refuses b posing as c", func() bool {
		return counter(t, a.reg, "roomring_peer_connects_total", "result", "auth_error") > 0
	})
	if _, err := a.Request(ctxTimeout(t, time.Second), "c", 1, []byte("x")); err == nil {
		t.Fatal("request reached the wrong node")
	}
}

// stuckPeer accepts one peer connection, authenticates it and never reads.
func stuckPeer(t *testing.T, addr, name string) (string, chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	done := make(chan struct{})
	t.Cleanup(func() { close(done); _ = ln.Close() })
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		if _, err := acceptHandshake(c, testKey, name, 5*time.Second); err != nil {
			return
		}
		close(accepted)
		<-done
	}()
	return ln.Addr().String(), accepted
}

func TestSlowPeerDoesNotBlockOthers(t *testing.T) {
	cfg := testConfig("127.0.0.2:0")
	cfg.QueueLen = 64
	cfg.WriteTimeout = 500 * time.Millisecond
	a := startMesh(t, "a", cfg, testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	stuckAddr, accepted := stuckPeer(t, "127.0.0.4:0", "stuck")
	a.SetPeers(map[string]string{"b": b.Addr(), "stuck": stuckAddr})
	b.SetPeers(map[string]string{"a": a.Addr()})
	<-accepted

	// Flood the stuck peer until its queue refuses; this must never block.
	big := make([]byte, 32<<10)
	refused := false
	start := time.Now()
	for i := 0; i < 100000 && !refused; i++ {
		err := a.Send("stuck", uint32(i), big)
		refused = errors.Is(err, ErrQueueFull) || errors.Is(err, ErrUnavailable)
	}
	if !refused {
		t.Fatal("the stuck peer's queue never filled")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("flooding took %v: sends blocked", d)
	}
	// Meanwhile b is served normally.
	for i := range 20 {
		got, err := a.Request(ctxTimeout(t, 2*time.Second), "b", uint32(i), []byte("still there?"))
		if err != nil || string(got) != "a asked still there?" {
			t.Fatalf("request to b while the stuck peer is full: %q, %v", got, err)
		}
	}
	if counter(t, a.reg, "roomring_peer_frames_dropped_total", "reason", "queue_full") == 0 {
		t.Fatal("queue_full drops not counted")
	}
	// Once its socket buffers are full too, the stuck peer is cut off after
	// the write timeout and refused at once.
	testkit.Eventually(t, 10*time.Second, "stuck link down", func() bool { return errors.Is(a.Send("stuck", 0, big), ErrUnavailable) })
}

func TestOverloadedLaneRefusesRequests(t *testing.T) {
	bcfg := testConfig("127.0.0.3:0")
	bcfg.Lanes = 1
	bcfg.LaneQueueLen = 2
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", bcfg, testKey)
	connect(a, b)
	// One request occupies b's only worker; two more fill its queue. The
	// worker must be holding the first before the others arrive (else the
	// queue of two is full at the third), and b must have queued all three
	// before the probe requests are sent.
	blocked := make(chan error, 3)
	block := func() {
		_, err := a.Request(ctxTimeout(t, 10*time.Second), "b", 0, []byte("block"))
		blocked <- err
	}
	go block()
	testkit.Eventually(t, 5*time.Second, "b's worker holds the first request", func() bool { return b.rec.holding.Load() == 1 })
	for range 2 {
		go block()
	}
	testkit.Eventually(t, 5*time.Second, "b's lane queue full", func() bool {
		return counter(t, b.reg, "roomring_peer_frames_received_total", "type", "request") == 3
	})
	var overloaded bool
	for i := 0; i < 10 && !overloaded; i++ {
		_, err := a.Request(ctxTimeout(t, 5*time.Second), "b", 0, []byte("one more"))
		overloaded = errors.Is(err, ErrOverloaded)
	}
	if !overloaded {
		t.Fatal("a full lane did not refuse requests")
	}
	close(b.rec.release)
	for range 3 {
		if err := <-blocked; err != nil {
			t.Fatalf("queued request failed: %v", err)
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	connect(a, b)
	_, err := a.Request(ctxTimeout(t, 200*time.Millisecond), "b", 0, []byte("block"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("blocked request: %v, want a deadline error", err)
	}
	if counter(t, a.reg, "roomring_peer_request_timeouts_total") != 1 {
		t.Fatal("timeout not counted")
	}
}

func TestReconnectAfterPeerRestart(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	connect(a, b)
	if _, err := a.Request(ctxTimeout(t, 5*time.Second), "b", 0, []byte("1")); err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// While b is gone, requests fail fast instead of waiting out a timeout.
	testkit.Eventually(t, 5*time.Second, "b seen down", func() bool {
		start := time.Now()
		_, err := a.Request(ctxTimeout(t, 5*time.Second), "b", 0, []byte("2"))
		return errors.Is(err, ErrUnavailable) && time.Since(start) < time.Second
	})
	// Nothing listens at b's address: a's attempts are refused, and said so
	// (the cluster's fast failure signal).
	testkit.Eventually(t, 5*time.Second, "a's attempts to reach b refused", func() bool { return a.rec.refusals("b") > 0 })
	// b comes back on the same address; a's link reconnects by itself.
	b2 := startMesh(t, "b", testConfig(addr), testKey)
	b2.SetPeers(map[string]string{"a": a.Addr()})
	testkit.Eventually(t, 5*time.Second, "request after restart", func() bool {
		got, err := a.Request(ctxTimeout(t, 2*time.Second), "b", 0, []byte("3"))
		return err == nil && string(got) == "a asked 3"
	})
	if ups := a.rec.linkUps("b"); ups < 2 {
		t.Fatalf("LinkUp(b) called %d times, want a second call after the restart", ups)
	}
}

func TestInboundDialerGetsAReplyPathBeforeSetPeers(t *testing.T) {
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", testConfig("127.0.0.3:0"), testKey)
	// Only a knows b; b learns a's address from a's handshake.
	a.SetPeers(map[string]string{"b": b.Addr()})
	got, err := a.Request(ctxTimeout(t, 5*time.Second), "b", 0, []byte("hi"))
	if err != nil || string(got) != "a asked hi" {
		t.Fatalf("request: %q, %v", got, err)
	}
}

func TestOversizedFrameDisconnects(t *testing.T) {
	cfg := testConfig("127.0.0.3:0")
	cfg.MaxFrameBytes = 64 << 10
	a := startMesh(t, "a", testConfig("127.0.0.2:0"), testKey)
	b := startMesh(t, "b", cfg, testKey)
	connect(a, b)
	if err := a.Send("b", 0, make([]byte, 128<<10)); err != nil {
		t.Fatal(err)
	}
	// b drops the connection; a reconnects and small frames flow again.
	testkit.Eventually(t, 5*time.Second, "small message after reconnect", func() bool {
		_ = a.Send("b", 0, []byte(fmt.Sprint("small")))
		return len(b.rec.messages("a")) > 0
	})
	for _, m := range b.rec.messages("a") {
		if len(m) > 1024 {
			t.Fatal("oversized frame delivered")
		}
	}
}
