package peer

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
)

// inboundReadBuffer is the read buffer of an inbound peer connection.
const inboundReadBuffer = 64 << 10

// inConn is a connection a peer dialled to this node: read-only after the
// handshake, its frames dispatched to lane workers.
type inConn struct {
	conn net.Conn
	peer string
}

func (m *Mesh) serveInbound(c net.Conn) {
	defer m.wg.Done()
	h, err := acceptHandshake(c, m.key, m.self, m.cfg.HandshakeTimeout)
	<-m.handshakes
	if err != nil {
		_ = c.Close()
		if errors.Is(err, ErrAuth) {
			m.met.rejected.Inc()
			m.logLimited("peer connection rejected", "remote", c.RemoteAddr().String(), "err", err)
		} else {
			m.met.handshakeFailed.Inc()
			m.log.Debug("peer handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		}
		return
	}
	ic := &inConn{conn: c, peer: h.name}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		_ = c.Close()
		return
	}
	m.inbound[ic] = struct{}{}
	m.talking[h.name]++
	m.mu.Unlock()
	if h.addr != "" {
		m.ensureLink(h.name, h.addr)
	}
	m.serveFrames(ic)
	m.mu.Lock()
	delete(m.inbound, ic)
	if m.talking[h.name]--; m.talking[h.name] <= 0 {
		delete(m.talking, h.name)
		// A peer that left the member set keeps its link only while it
		// talks to this node.
		if _, ok := m.desired[h.name]; !ok {
			if l := m.links[h.name]; l != nil {
				delete(m.links, h.name)
				l.close()
			}
		}
	}
	m.mu.Unlock()
	_ = c.Close()
}

// serveFrames reads frames until the connection ends, dispatching each to
// the worker of its lane without ever blocking the reader: when a lane's
// queue is full, a request is answered "overloaded" and a message dropped.
func (m *Mesh) serveFrames(ic *inConn) {
	lanes := make([]chan frame, m.cfg.Lanes)
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan frame, m.cfg.LaneQueueLen)
		wg.Add(1)
		go func(q chan frame) {
			defer wg.Done()
			for f := range q {
				m.handle(ic.peer, f)
			}
		}(lanes[i])
	}
	defer func() {
		for _, q := range lanes {
			close(q)
		}
		wg.Wait()
	}()
	// A peer writes frames in batches; reading them through a buffer takes
	// a batch in one system call instead of two per frame.
	br := bufio.NewReaderSize(ic.conn, inboundReadBuffer)
	for {
		f, err := readFrame(br, m.cfg.MaxFrameBytes)
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				m.log.Debug("peer connection ended", "peer", ic.peer, "err", err)
			}
			return
		}
		m.met.received.WithLabelValues(typeName(f.typ)).Inc()
		select {
		case lanes[f.lane%uint32(len(lanes))] <- f:
			continue
		default:
		}
		switch f.typ {
		case frameRequest:
			m.met.dropped.WithLabelValues("lane_full").Inc()
			m.reply(ic.peer, f.lane, f.id, statusOverloaded, nil)
		case frameReply:
			// Our own request's answer: settle it now rather than let the
			// caller time out, at the cost of its ordering.
			m.resolve(ic.peer, f)
		default:
			m.met.dropped.WithLabelValues("lane_full").Inc()
		}
	}
}

func (m *Mesh) handle(from string, f frame) {
	switch f.typ {
	case frameRequest:
		m.reply(from, f.lane, f.id, statusOK, m.h.HandleRequest(from, f.payload))
	case frameMessage:
		m.h.HandleMessage(from, f.payload)
	case frameReply:
		m.resolve(from, f)
	}
}
