package peer

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Link states.
const (
	stateConnecting int32 = iota // first attempt: frames wait in the queue
	stateUp
	stateDown // frames are refused until the link reconnects
	stateClosed
)

// link is this node's outbound connection to one peer: a bounded queue of
// encoded frames and the goroutine that connects, authenticates and writes
// them in batches.
type link struct {
	m     *Mesh
	peer  string
	addr  string
	queue chan []byte
	state atomic.Int32

	stop     chan struct{}
	stopOnce sync.Once
}

func newLink(m *Mesh, peer, addr string) *link {
	return &link{m: m, peer: peer, addr: addr, queue: make(chan []byte, m.cfg.QueueLen), stop: make(chan struct{})}
}

// enqueue queues an encoded frame without blocking.
func (l *link) enqueue(f []byte, typ byte) error {
	switch l.state.Load() {
	case stateDown, stateClosed:
		l.m.met.dropped.WithLabelValues("link_down").Inc()
		return fmt.Errorf("%w: link to %s is down", ErrUnavailable, l.peer)
	}
	select {
	case l.queue <- f:
		l.m.met.queued.WithLabelValues(typeName(typ)).Inc()
		return nil
	default:
		l.m.met.dropped.WithLabelValues("queue_full").Inc()
		return fmt.Errorf("%w: %s", ErrQueueFull, l.peer)
	}
}

func (l *link) close() { l.stopOnce.Do(func() { close(l.stop) }) }

func (l *link) stopped() bool {
	select {
	case <-l.stop:
		return true
	default:
		return false
	}
}

func (l *link) run() {
	defer l.m.wg.Done()
	backoff := l.m.cfg.ReconnectMin
	wasUp := false
	for !l.stopped() {
		conn, err := l.connect()
		if err == nil {
			backoff = l.m.cfg.ReconnectMin
			l.state.Store(stateUp)
			l.m.log.Debug("peer link up", "peer", l.peer, "addr", l.addr)
			l.m.h.LinkUp(l.peer)
			err = l.write(conn)
			_ = conn.Close()
			wasUp = true
			if l.stopped() {
				break
			}
		}
		if wasUp {
			l.m.log.Warn("peer link down", "peer", l.peer, "addr", l.addr, "err", err)
			wasUp = false
		} else {
			l.m.log.Debug("peer link attempt failed", "peer", l.peer, "addr", l.addr, "err", err)
		}
		if errors.Is(err, syscall.ECONNREFUSED) {
			l.m.h.LinkRefused(l.peer)
		}
		l.fail(stateDown, err)
		// Full jitter in [backoff/2, backoff) keeps peers from reconnecting
		// in lockstep.
		wait := backoff/2 + rand.N(backoff/2+1)
		t := time.NewTimer(wait)
		select {
		case <-l.stop:
			t.Stop()
		case <-t.C:
		}
		backoff = min(2*backoff, l.m.cfg.ReconnectMax)
	}
	l.fail(stateClosed, ErrClosed)
}

// fail moves the link to state, fails the requests waiting on this peer
// and drops what is queued (it would be stale by the time the link is
// back; the caller's resync repairs what matters).
func (l *link) fail(state int32, cause error) {
	l.state.Store(state)
	l.m.failPending(l.peer, fmt.Errorf("%w: link to %s: %v", ErrUnavailable, l.peer, cause))
	for {
		select {
		case <-l.queue:
			l.m.met.dropped.WithLabelValues("link_down").Inc()
		default:
			return
		}
	}
}

func (l *link) connect() (net.Conn, error) {
	d := net.Dialer{Timeout: l.m.cfg.DialTimeout}
	conn, err := d.Dial("tcp", l.addr)
	if err != nil {
		l.m.met.connects.WithLabelValues("dial_error").Inc()
		return nil, fmt.Errorf("dial %s: %w", l.addr, err)
	}
	if err := dialHandshake(conn, l.m.key, l.m.self, l.m.addr, l.peer, l.m.cfg.HandshakeTimeout); err != nil {
		_ = conn.Close()
		if errors.Is(err, ErrAuth) {
			l.m.met.connects.WithLabelValues("auth_error").Inc()
		} else {
			l.m.met.connects.WithLabelValues("handshake_error").Inc()
		}
		return nil, fmt.Errorf("handshake with %s: %w", l.addr, err)
	}
	l.m.met.connects.WithLabelValues("ok").Inc()
	return conn, nil
}

// errPeerClosed is the peer closing its end of a link.
var errPeerClosed = errors.New("peer closed the connection")

// write sends queued frames until the connection fails or the link stops,
// batching every frame that is already queued (up to BatchBytes) into one
// write.
func (l *link) write(conn net.Conn) error {
	// The peer never writes on this connection after the handshake; a read
	// returning means it went away, which an idle writer would not notice.
	gone := make(chan struct{})
	go func() {
		var b [1]byte
		_, _ = conn.Read(b[:])
		close(gone)
	}()
	defer func() { _ = conn.Close(); <-gone }()
	cfg := &l.m.cfg
	buf := make([]byte, 0, cfg.BatchBytes)
	for {
		var f []byte
		select {
		case f = <-l.queue:
		case <-l.stop:
			return ErrClosed
		case <-gone:
			return errPeerClosed
		}
		if cap(buf) > 4*cfg.BatchBytes {
			buf = make([]byte, 0, cfg.BatchBytes) // do not keep a huge frame's buffer
		}
		buf = append(buf[:0], f...)
		n := 1
	fill:
		for len(buf) < cfg.BatchBytes {
			select {
			case f = <-l.queue:
				buf = append(buf, f...)
				n++
			default:
				break fill
			}
		}
		_ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteTimeout))
		if _, err := conn.Write(buf); err != nil {
			l.m.met.dropped.WithLabelValues("write_failed").Add(float64(n))
			return fmt.Errorf("write to %s: %w", l.peer, err)
		}
		l.m.met.writes.Inc()
		l.m.met.written.Add(float64(n))
		l.m.met.bytes.Add(float64(len(buf)))
	}
}

func typeName(t byte) string {
	switch t {
	case frameRequest:
		return "request"
	case frameReply:
		return "reply"
	default:
		return "message"
	}
}
