package membership

import (
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus"
)

// errStreamTooLong ends a gossip stream that sent more than its bound.
var errStreamTooLong = errors.New("gossip stream exceeds gossip-stream-max-bytes")

// guardedTransport is memberlist's TCP/UDP transport with a bound on the
// inbound streams (push/pull exchanges, TCP probes) it hands to
// memberlist at once and on the bytes each may send. Anyone who reaches
// the gossip port can open a stream, and memberlist reads a stream's
// whole (encrypted) message into memory before it can authenticate it.
//
// Concurrency: one goroutine (forward) moves accepted connections from
// the inner transport to memberlist; a stream's slot is freed when
// memberlist closes it.
type guardedTransport struct {
	*memberlist.NetTransport
	streams  chan net.Conn
	slots    chan struct{}
	maxBytes int64
	refused  prometheus.Counter
	tooLong  prometheus.Counter
	stop     chan struct{} // closed by Shutdown
	// innerDone is closed once the inner transport has shut down, done
	// once forward has returned.
	innerDone chan struct{}
	done      chan struct{}
}

// newGuardedTransport binds the gossip listeners of mc (setting its
// ports when mc asks for a free one) and starts handing streams on.
func newGuardedTransport(mc *memberlist.Config, cfg Config, logger *log.Logger) (*guardedTransport, error) {
	nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{
		BindAddrs: []string{mc.BindAddr}, BindPort: mc.BindPort, Logger: logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", cfg.BindAddr, err)
	}
	if mc.BindPort == 0 {
		mc.BindPort = nt.GetAutoBindPort()
		if mc.AdvertisePort == 0 {
			mc.AdvertisePort = mc.BindPort
		}
	}
	t := &guardedTransport{NetTransport: nt, streams: make(chan net.Conn), slots: make(chan struct{}, cfg.MaxStreams),
		maxBytes: cfg.StreamMaxBytes, stop: make(chan struct{}), innerDone: make(chan struct{}), done: make(chan struct{}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_gossip_streams_refused_total", Help: "Inbound gossip streams closed at once because gossip-max-streams were open.",
		}),
		tooLong: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "roomring_gossip_streams_too_long_total", Help: "Inbound gossip streams cut off at gossip-stream-max-bytes.",
		}),
	}
	go t.forward()
	return t, nil
}

// forward hands accepted streams on until the inner transport has shut
// down (it must be drained until then: its listener blocks on handing a
// stream over); after stop, streams are closed instead.
func (t *guardedTransport) forward() {
	defer close(t.done)
	for {
		var c net.Conn
		select {
		case <-t.innerDone:
			return
		case c = <-t.NetTransport.StreamCh():
		}
		select {
		case <-t.stop:
			_ = c.Close()
			continue
		case t.slots <- struct{}{}:
		default:
			t.refused.Inc()
			_ = c.Close()
			continue
		}
		bc := &boundedConn{Conn: c, left: t.maxBytes, t: t}
		select {
		case t.streams <- bc:
		case <-t.stop:
			_ = bc.Close()
		}
	}
}

// StreamCh implements memberlist.Transport.
func (t *guardedTransport) StreamCh() <-chan net.Conn { return t.streams }

// Shutdown implements memberlist.Transport.
func (t *guardedTransport) Shutdown() error {
	close(t.stop)
	err := t.NetTransport.Shutdown()
	close(t.innerDone)
	<-t.done
	return err
}

// boundedConn is an inbound gossip stream holding a slot until closed,
// and failing reads past its byte budget.
type boundedConn struct {
	net.Conn
	t      *guardedTransport
	mu     sync.Mutex // guards left
	left   int64
	closed atomic.Bool
}

func (c *boundedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left <= 0 {
		c.t.tooLong.Inc()
		return 0, errStreamTooLong
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.Conn.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *boundedConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		<-c.t.slots
	}
	return c.Conn.Close()
}
