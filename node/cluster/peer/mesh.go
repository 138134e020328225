package peer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/cluster/lograte"
)

// Mesh is one node's set of peer links and its peer listener. It is safe
// for concurrent use.
type Mesh struct {
	cfg  Config
	self string
	addr string // advertised
	key  []byte
	h    Handler
	log  *slog.Logger
	met  *metrics
	ln   net.Listener
	// handshakes holds a slot per inbound connection not yet
	// authenticated (Config.MaxHandshakes).
	handshakes chan struct{}
	// logs limits the lines strangers' connections provoke.
	logs *lograte.Limiter

	mu      sync.Mutex
	links   map[string]*link
	inbound map[*inConn]struct{}
	desired map[string]string // the last SetPeers
	// talking counts each peer's inbound connections: a peer that still
	// sends to this node keeps its link (for the replies) even after it
	// left the desired set, until its connection closes.
	talking map[string]int
	closed  bool

	nextID  atomic.Uint64
	pendMu  sync.Mutex
	pending map[uint64]*call

	wg sync.WaitGroup
}

type call struct {
	peer string
	ch   chan result // buffered 1; written once
}

type result struct {
	payload []byte
	err     error
}

// New binds the peer listener of node self and starts accepting. key is
// the cluster's peer key. Metrics are registered on reg.
func New(cfg Config, self string, key []byte, h Handler, log *slog.Logger, reg prometheus.Registerer) (*Mesh, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if self == "" || len(self) > maxName {
		return nil, fmt.Errorf("peer: invalid node name %q", self)
	}
	if len(key) == 0 {
		return nil, errors.New("peer: no key")
	}
	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return nil, fmt.Errorf("peer listener: %w", err)
	}
	m := &Mesh{cfg: cfg, self: self, key: key, h: h, log: log, ln: ln,
		links: map[string]*link{}, inbound: map[*inConn]struct{}{}, desired: map[string]string{}, talking: map[string]int{},
		pending: map[uint64]*call{}, handshakes: make(chan struct{}, cfg.MaxHandshakes), logs: lograte.New(logEvery)}
	m.addr = cfg.AdvertiseAddr
	if m.addr == "" {
		m.addr = ln.Addr().String()
	}
	m.met = newMetrics(m)
	if reg != nil {
		if err := m.met.register(reg); err != nil {
			_ = ln.Close()
			return nil, err
		}
	}
	m.wg.Add(1)
	go m.accept()
	return m, nil
}

// Addr is the address other nodes dial to reach this node.
func (m *Mesh) Addr() string { return m.addr }

// SetPeers makes the links match peers (node name → advertised address):
// links to new peers are dialled, links to peers no longer listed are
// closed (their pending requests fail) once those peers stop sending to
// this node, and a peer whose address changed is redialled. This node's
// own name is ignored.
func (m *Mesh) SetPeers(peers map[string]string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return
	}
	m.desired = make(map[string]string, len(peers))
	for name, addr := range peers {
		m.desired[name] = addr
	}
	for name, l := range m.links {
		addr, ok := peers[name]
		if ok && addr != l.addr || !ok && m.talking[name] == 0 {
			delete(m.links, name)
			l.close()
		}
	}
	for name, addr := range peers {
		if name != m.self && m.links[name] == nil {
			m.startLinkLocked(name, addr)
		}
	}
}

// ensureLink dials a peer that dialled this node before SetPeers named it,
// so that replies to it have a way back.
func (m *Mesh) ensureLink(name, addr string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed && name != m.self && m.links[name] == nil {
		m.startLinkLocked(name, addr)
	}
}

func (m *Mesh) startLinkLocked(name, addr string) {
	l := newLink(m, name, addr)
	m.links[name] = l
	m.wg.Add(1)
	go l.run()
}

// Peers returns the names of the peers this node has links to.
func (m *Mesh) Peers() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.links))
	for name := range m.links {
		out = append(out, name)
	}
	return out
}

func (m *Mesh) link(name string) *link {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.links[name]
}

// Request sends payload to peer on lane and waits for the reply, or for
// ctx. It fails at once with ErrUnavailable or ErrQueueFull when the
// request cannot be queued, and with ErrOverloaded when the peer refused
// it; after a timeout the request may or may not have been executed.
func (m *Mesh) Request(ctx context.Context, to string, lane uint32, payload []byte) ([]byte, error) {
	c, err := m.Start(to, lane, payload)
	if err != nil {
		return nil, err
	}
	return c.Wait(ctx)
}

// Call is a request in flight (see Start).
type Call struct {
	m  *Mesh
	id uint64
	c  *call
}

// Start queues a request and returns at once; Wait collects the reply.
// Requests to one peer are sent in the order they were started, so a
// caller that starts requests under its own lock orders them without
// holding the lock while they travel.
func (m *Mesh) Start(to string, lane uint32, payload []byte) (*Call, error) {
	l := m.link(to)
	if l == nil {
		return nil, fmt.Errorf("%w: %s is not a known peer", ErrUnavailable, to)
	}
	id := m.nextID.Add(1)
	c := &call{peer: to, ch: make(chan result, 1)}
	m.pendMu.Lock()
	m.pending[id] = c
	m.pendMu.Unlock()
	if err := l.enqueue(encodeFrame(frameRequest, statusOK, lane, id, payload), frameRequest); err != nil {
		m.forget(id)
		return nil, err
	}
	return &Call{m: m, id: id, c: c}, nil
}

// Wait waits for the reply to the request, or for ctx (see Request).
func (c *Call) Wait(ctx context.Context) ([]byte, error) {
	select {
	case r := <-c.c.ch:
		return r.payload, r.err
	case <-ctx.Done():
		c.m.forget(c.id)
		c.m.met.timeouts.Inc()
		return nil, fmt.Errorf("request to %s: %w", c.c.peer, ctx.Err())
	}
}

// Send queues a one-way message to peer on lane. It never blocks: it fails
// with ErrUnavailable or ErrQueueFull when the message cannot be queued.
// A queued message is delivered unless the link breaks first.
func (m *Mesh) Send(to string, lane uint32, payload []byte) error {
	l := m.link(to)
	if l == nil {
		m.met.dropped.WithLabelValues("unknown_peer").Inc()
		return fmt.Errorf("%w: %s is not a known peer", ErrUnavailable, to)
	}
	return l.enqueue(encodeFrame(frameMessage, statusOK, lane, 0, payload), frameMessage)
}

// reply sends a reply frame back to the requester over this node's link
// to it; a reply that cannot be queued is dropped (the requester times
// out).
func (m *Mesh) reply(to string, lane uint32, id uint64, status byte, payload []byte) {
	l := m.link(to)
	if l == nil {
		m.met.dropped.WithLabelValues("unknown_peer").Inc()
		return
	}
	_ = l.enqueue(encodeFrame(frameReply, status, lane, id, payload), frameReply)
}

// resolve completes the pending request id with a reply from peer.
func (m *Mesh) resolve(from string, f frame) {
	m.pendMu.Lock()
	c := m.pending[f.id]
	if c != nil && c.peer == from {
		delete(m.pending, f.id)
	} else {
		c = nil
	}
	m.pendMu.Unlock()
	if c == nil {
		m.met.dropped.WithLabelValues("late_reply").Inc()
		return
	}
	if f.status == statusOverloaded {
		c.ch <- result{err: fmt.Errorf("request to %s: %w", from, ErrOverloaded)}
		return
	}
	c.ch <- result{payload: f.payload}
}

func (m *Mesh) forget(id uint64) {
	m.pendMu.Lock()
	delete(m.pending, id)
	m.pendMu.Unlock()
}

// failPending fails every request waiting for peer.
func (m *Mesh) failPending(peer string, err error) {
	m.pendMu.Lock()
	var failed []*call
	for id, c := range m.pending {
		if c.peer == peer {
			delete(m.pending, id)
			failed = append(failed, c)
		}
	}
	m.pendMu.Unlock()
	for _, c := range failed {
		c.ch <- result{err: err}
	}
}

func (m *Mesh) accept() {
	defer m.wg.Done()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				m.log.Error("peer listener failed", "err", err)
			}
			return
		}
		select {
		case m.handshakes <- struct{}{}:
		default:
			_ = c.Close()
			m.met.refused.Inc()
			m.logLimited("peer connection refused: too many unauthenticated connections", "remote", c.RemoteAddr().String(), "max", m.cfg.MaxHandshakes)
			continue
		}
		m.wg.Add(1)
		go m.serveInbound(c)
	}
}

// logEvery is how often a kind of line strangers can provoke is logged.
const logEvery = 10 * time.Second

// logLimited writes a warning at most once per logEvery per message,
// with the count of those held back, and counts the held back ones.
func (m *Mesh) logLimited(msg string, args ...any) {
	ok, held := m.logs.Allow(msg)
	if !ok {
		m.met.suppressed.Inc()
		return
	}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	m.log.Warn(msg, args...)
}

// Close closes every link and the listener, fails pending requests and
// waits for the goroutines. It is idempotent.
func (m *Mesh) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	links := m.links
	m.links = map[string]*link{}
	in := make([]*inConn, 0, len(m.inbound))
	for c := range m.inbound {
		in = append(in, c)
	}
	m.mu.Unlock()
	err := m.ln.Close()
	for _, l := range links {
		l.close()
	}
	for _, c := range in {
		_ = c.conn.Close()
	}
	m.pendMu.Lock()
	pending := m.pending
	m.pending = map[uint64]*call{}
	m.pendMu.Unlock()
	for _, c := range pending {
		c.ch <- result{err: ErrClosed}
	}
	m.wg.Wait()
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close peer listener: %w", err)
	}
	return nil
}
