package cluster

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// goneDetector tells a member whose process is gone — it crashed: its peer
// links reset and its ports refuse connections — sooner than gossip's
// probes agree that it is dead, so that its rooms move at once.
//
// It takes the refusals of all three of the process's sockets: this node's
// connection to the member's peer address was refused
// (peer.Handler.LinkRefused); a connection to its gossip address (TCP),
// dialled at once, is refused too; and a datagram to its gossip address
// (UDP) comes back port-unreachable. Every socket of the process is closed
// while its host answers: the process is gone. (A firewall that rejects
// TCP only — gossip's UDP probes still pass, so gossip keeps the member
// — does not make it gone.) A member cut off by the network, stopped or
// overloaded refuses nothing (its packets go unanswered), so it is left to
// gossip's timing, and a member whose links merely reset (a restarted
// connection) accepts the redial and is never probed. A member whose peer
// port refuses while its gossip port accepts is alive: it is left to
// gossip too.
//
// A gone member is left out of the ring (placement only: gossip still
// lists it and its link keeps redialling) until gossip drops it or its
// link comes back up.
//
// Concurrency: refused and up are called from the peer links' goroutines
// and never block: a probe runs on a goroutine of its own, at most one per
// member at a time. mu guards the maps; changes is signalled (coalesced)
// when the gone set changed, and the lifecycle then recomputes the ring.
type goneDetector struct {
	enabled bool
	timeout time.Duration
	log     *slog.Logger
	probes  *prometheus.CounterVec // by result
	// gossipAddr returns member's gossip address while gossip lists it.
	gossipAddr func(member string) (string, bool)
	changes    chan struct{}

	mu      sync.Mutex
	gone    map[string]bool
	probing map[string]bool
	epoch   map[string]uint64 // per member, bumped when its link comes up
	closed  bool
	wg      sync.WaitGroup
}

func newGoneDetector(enabled bool, timeout time.Duration, log *slog.Logger, probes *prometheus.CounterVec) *goneDetector {
	return &goneDetector{enabled: enabled, timeout: timeout, log: log, probes: probes, changes: make(chan struct{}, 1),
		gone: map[string]bool{}, probing: map[string]bool{}, epoch: map[string]uint64{}}
}

// refused records that a connection to member's peer address was refused,
// and probes its gossip address unless it is gone or being probed already.
func (g *goneDetector) refused(member string) {
	if !g.enabled {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed || g.gone[member] || g.probing[member] {
		return
	}
	g.probing[member] = true
	g.wg.Add(1)
	go g.probe(member, g.epoch[member])
}

// probe dials member's gossip address: refused, the member is gone — unless
// its link came up meanwhile (epoch moved on).
func (g *goneDetector) probe(member string, epoch uint64) {
	defer g.wg.Done()
	result := "unknown" // gossip no longer lists it: nothing to place
	if addr, ok := g.gossipAddr(member); ok {
		result = g.dial(addr)
	}
	g.probes.WithLabelValues(result).Inc()
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.probing, member)
	if result != "gone" || g.closed || g.epoch[member] != epoch || g.gone[member] {
		return
	}
	g.gone[member] = true
	g.log.Warn("member gone", "member", member,
		"detail", "its peer and gossip ports refuse (TCP and UDP): its rooms are placed on the others before gossip agrees")
	g.signal()
}

// dial reports "gone" when a connection to the gossip address is refused
// and a datagram to it comes back port-unreachable, "alive" when the
// connection is accepted, "inconclusive" otherwise (no answer within the
// timeout).
func (g *goneDetector) dial(addr string) string {
	d := net.Dialer{Timeout: g.timeout}
	c, err := d.Dial("tcp", addr)
	switch {
	case err == nil:
		_ = c.Close()
		return "alive"
	case !errors.Is(err, syscall.ECONNREFUSED):
		return "inconclusive"
	}
	if !g.unreachable(addr) {
		return "inconclusive"
	}
	return "gone"
}

// unreachable sends one byte to the UDP port addr from a connected
// socket, which the host's ICMP port-unreachable answer turns into a
// refused read; a live gossip listener answers nothing (it drops the
// byte as an undecryptable packet, and logs it).
func (g *goneDetector) unreachable(addr string) bool {
	c, err := net.Dial("udp", addr)
	if err != nil {
		return false
	}
	defer func() { _ = c.Close() }()
	_ = c.SetDeadline(time.Now().Add(g.timeout))
	if _, err := c.Write([]byte{0}); err != nil {
		return errors.Is(err, syscall.ECONNREFUSED)
	}
	var b [1]byte
	_, err = c.Read(b[:])
	return errors.Is(err, syscall.ECONNREFUSED)
}

// up records that this node's link to member is up again: whatever it
// was, it is not gone.
func (g *goneDetector) up(member string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.epoch[member]++
	if g.gone[member] {
		delete(g.gone, member)
		g.log.Info("member back: its peer link is up", "member", member)
		g.signal()
	}
}

// isGone reports whether member is to be left out of the ring.
func (g *goneDetector) isGone(member string) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.gone[member]
}

// prune forgets the members gossip no longer lists (live reports whether
// it does): gossip's own verdict places them from now on.
func (g *goneDetector) prune(live func(member string) bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for m := range g.gone {
		if !live(m) {
			delete(g.gone, m)
		}
	}
	for m := range g.epoch {
		if !live(m) && !g.probing[m] {
			delete(g.epoch, m)
		}
	}
}

func (g *goneDetector) signal() {
	select {
	case g.changes <- struct{}{}:
	default:
	}
}

// close waits for the probes in flight; no member is found gone after it.
func (g *goneDetector) close() {
	g.mu.Lock()
	g.closed = true
	g.mu.Unlock()
	g.wg.Wait()
}
