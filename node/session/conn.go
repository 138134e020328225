package session

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"
)

// Close codes used by the node.
const (
	CloseNormal         = websocket.CloseNormalClosure
	CloseGoingAway      = websocket.CloseGoingAway       // node shutting down
	ClosePolicy         = websocket.ClosePolicyViolation // slow consumer, auth timeout
	CloseTooBig         = websocket.CloseMessageTooBig
	CloseServiceRestart = websocket.CloseServiceRestart // node leaving a cluster
)

// Handler handles a connection's inbound frames. HandleFrame is called from
// the connection's read goroutine, one frame at a time; Closed once, after
// the last HandleFrame.
type Handler interface {
	HandleFrame(c *Conn, frame []byte)
	Closed(c *Conn)
}

// Hooks are optional observers of connection events (metrics).
type Hooks struct {
	SlowConsumer func()
	FrameOut     func()
}

// Conn is a websocket connection. Send and Close are safe for concurrent use.
//
// An idle connection costs one goroutine (the reader; none when read from
// a Poller) and no buffers: the write queue grows only as frames are
// queued, and a writer goroutine runs only while there is something to
// write that could not be written at once — frames, a keep-alive ping, a
// pong or the close frame.
//
// Send writes a frame to the socket itself, without blocking, when nothing
// is queued or being written (Linux): a broadcast to many idle connections
// then costs one system call per connection and no goroutine. What the
// socket does not take is left to the writer goroutine, which writes it
// first. Every other write to the socket goes through the writer, so the
// frames never interleave. While an activation (poll_linux.go) handles the
// frames of one read, what is sent to its connection is held and written
// together when it ends: a pipelining client's replies cost one system
// call per read, not one each (a frame sent meanwhile by another goroutine
// waits for it too, unless it is a Push).
type Conn struct {
	ws    *websocket.Conn
	raw   net.Conn        // the TCP connection under ws, for dropping a slow consumer
	rc    syscall.RawConn // raw's descriptor, for direct writes; nil: none
	cfg   *Config
	hooks *Hooks

	closing   chan struct{}
	shut      atomic.Bool // set just before closing is closed: isClosing without a channel operation (per delivery)
	closeOnce sync.Once
	slowOnce  sync.Once
	closeCode atomic.Int32
	closeMsg  []byte // written before closing is closed

	authed atomic.Bool

	// rate limiting, read goroutine only
	tokens float64
	last   time.Time

	// pending counts the frames queued and not yet written, those the
	// writer has taken from queue included: at most cfg.WriteQueueLen.
	pending atomic.Int32

	// Read by activations when the connection is polled (Start with a
	// Poller; poll_linux.go).
	polled       atomic.Bool
	h            Handler
	onDone       func()
	idle, auth   *time.Timer
	loop         *pollLoop
	pollID       uint64
	fd           int
	rmu          sync.Mutex
	reading      bool // an activation runs
	ended        bool // the connection is being torn down
	teardownOnce sync.Once
	// Activations only (one at a time).
	partial    []byte // a frame cut by the end of a read
	msg        []byte // the fragments of a message so far
	fragmented bool

	mu       sync.Mutex
	corked   bool     // an activation is handling frames: their replies are written together after it
	rest     []byte   // framed bytes of a direct write the socket did not take; written first
	queue    [][]byte // frames to write
	pingDue  bool     // a keep-alive ping is to be written
	pong     []byte   // the payload of a pong to write; nil: none
	writing  bool     // a writer goroutine is running
	finished bool     // the writer has ended for good; done is closed
	done     chan struct{}
	pinger   *time.Timer
}

// New wraps an upgraded websocket.
func New(ws *websocket.Conn, cfg *Config, hooks *Hooks) *Conn {
	ws.SetReadLimit(int64(cfg.MaxFrameBytes))
	raw := ws.UnderlyingConn()
	// fasthttp hands out a hijacked connection whose Close does nothing (and
	// which it recycles once the handler returns); keep the real one.
	if u, ok := raw.(interface{ UnsafeConn() net.Conn }); ok {
		raw = u.UnsafeConn()
	}
	c := &Conn{ws: ws, raw: raw, cfg: cfg, hooks: hooks,
		closing: make(chan struct{}), done: make(chan struct{}),
		tokens: float64(cfg.RateBurst), last: time.Now()}
	if sc, ok := raw.(syscall.Conn); ok && directWrites {
		c.rc, _ = sc.SyscallConn()
	}
	return c
}

// Send queues a text frame. It never blocks: when the queue is full the
// connection is closed as a slow consumer. The frame may be shared with
// other connections and must not be modified afterwards.
func (c *Conn) Send(frame []byte) {
	one := [1][]byte{frame}
	c.sendFrames(one[:], false)
}

// SendFrames queues text frames, in order, like Send; when nothing is
// queued they go out with one system call.
func (c *Conn) SendFrames(frames [][]byte) { c.sendFrames(frames, false) }

// Push is Send for a frame that does not answer the connection's own
// frames — a room's fan-out, a world event: a running activation's cork
// does not hold it back (the writer takes what is queued at once).
func (c *Conn) Push(frame []byte) {
	one := [1][]byte{frame}
	c.sendFrames(one[:], true)
}

// PushFrames is SendFrames as Push.
func (c *Conn) PushFrames(frames [][]byte) { c.sendFrames(frames, true) }

func (c *Conn) sendFrames(frames [][]byte, push bool) {
	c.mu.Lock()
	if c.isClosing() {
		c.mu.Unlock()
		return
	}
	written := 0
	if !c.corked && len(c.queue) == 0 {
		// Nothing is queued: write them now, as far as the socket takes them.
		var cut bool
		written, cut = c.writeNowLocked(frames)
		frames = frames[written:]
		if cut {
			frames = frames[1:]
			c.pending.Add(1) // c.rest, until the writer writes it
		}
	}
	if len(frames) > 0 {
		if int(c.pending.Load())+len(frames) > c.cfg.WriteQueueLen {
			c.mu.Unlock()
			c.framesOut(written)
			c.slowConsumer()
			return
		}
		c.pending.Add(int32(len(frames)))
		c.queue = append(c.queue, frames...)
	}
	if (len(c.queue) > 0 && (!c.corked || push)) || c.rest != nil {
		c.kickLocked()
	}
	c.mu.Unlock()
	c.framesOut(written)
}

// writeNowLocked writes frames to the socket without blocking, unless a
// writer runs (or has ended) or direct writes are not possible. It returns
// how many went out whole; cut says the next one went out in part, and
// c.rest holds the rest of it for the writer. c.mu is held.
func (c *Conn) writeNowLocked(frames [][]byte) (written int, cut bool) {
	for c.rc != nil && !c.writing && !c.finished && c.rest == nil && written < len(frames) {
		whole, rest := c.tryWrite(frames[written:])
		written += whole
		if rest != nil {
			c.rest = rest
			return written, true
		}
		if whole == 0 {
			break // the socket is full
		}
	}
	return written, false
}

// cork holds what is sent until uncork: an activation handling the frames
// of one read answers them with one write.
func (c *Conn) cork() {
	c.mu.Lock()
	c.corked = true
	c.mu.Unlock()
}

// uncork writes what was sent since cork: directly when the socket takes
// it, else through the writer.
func (c *Conn) uncork() {
	c.mu.Lock()
	c.corked = false
	written, cut := c.writeNowLocked(c.queue)
	c.pending.Add(-int32(written)) // a cut frame stays counted until the writer writes c.rest
	n := written
	if cut {
		n++
	}
	clear(c.queue[:n])
	c.queue = c.queue[n:]
	if len(c.queue) == 0 {
		c.queue = nil
	}
	if len(c.queue) > 0 || c.rest != nil {
		c.kickLocked()
	}
	c.mu.Unlock()
	c.framesOut(written)
}

// framesOut reports n frames written.
func (c *Conn) framesOut(n int) {
	if c.hooks != nil && c.hooks.FrameOut != nil {
		for range n {
			c.hooks.FrameOut()
		}
	}
}

// maxPong is the largest payload of a control frame (RFC 6455 §5.5).
const maxPong = 125

// sendPong has the writer answer a ping with payload.
func (c *Conn) sendPong(payload []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || c.isClosing() {
		return
	}
	c.pong = append(make([]byte, 0, min(len(payload), maxPong)), payload[:min(len(payload), maxPong)]...)
	c.kickLocked()
}

func (c *Conn) isClosing() bool { return c.shut.Load() }

// kickLocked starts the writer unless it runs or has ended. c.mu is held.
func (c *Conn) kickLocked() {
	if !c.writing && !c.finished {
		c.writing = true
		go c.writeLoop()
	}
}

// slowCloseGrace is how long a slow consumer's close frame may take before
// its TCP connection is dropped.
const slowCloseGrace = 100 * time.Millisecond

// slowConsumer closes a connection whose write queue is full. Its peer is
// not reading, so the writer is likely blocked on full socket buffers until
// WriteTimeout: the close frame gets a short grace, then the TCP connection
// is dropped, which unblocks the writer and the reader at once. It never
// blocks the caller (Send runs under the edge's fan-out).
func (c *Conn) slowConsumer() {
	c.slowOnce.Do(func() {
		if c.hooks != nil && c.hooks.SlowConsumer != nil {
			c.hooks.SlowConsumer()
		}
		c.Close(ClosePolicy, "slow consumer")
		go func() {
			_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(ClosePolicy, "slow consumer"),
				time.Now().Add(slowCloseGrace))
			_ = c.raw.Close()
		}()
	})
}

// Close starts closing the connection with code and reason: a close frame is
// sent after the queued frames and the socket is closed. It is idempotent.
func (c *Conn) Close(code int, reason string) {
	c.closeOnce.Do(func() {
		c.closeCode.Store(int32(code))
		c.closeMsg = websocket.FormatCloseMessage(code, reason)
		c.shut.Store(true)
		close(c.closing)
		// Unblock the reader promptly; the peer's close reply may never come.
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
		c.mu.Lock()
		c.kickLocked() // the writer sends the close frame
		c.mu.Unlock()
		c.closed()
	})
}

// Closing is closed once Close was called.
func (c *Conn) Closing() <-chan struct{} { return c.closing }

// MarkAuthenticated lifts the authentication deadline.
func (c *Conn) MarkAuthenticated() { c.authed.Store(true) }

// Allow takes one token of the rate limit; false means the frame is over
// the limit. Read goroutine only.
func (c *Conn) Allow() bool {
	now := time.Now()
	c.tokens += now.Sub(c.last).Seconds() * c.cfg.RateLimit
	c.last = now
	if max := float64(c.cfg.RateBurst); c.tokens > max {
		c.tokens = max
	}
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// Serve runs the connection until it closes: it reads in the calling
// goroutine; writes happen in a writer goroutine started on demand. It
// returns after h.Closed.
func (c *Conn) Serve(h Handler) {
	idle := 2 * c.cfg.PingInterval
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	// Pongs and the close reply go through the writer (see Conn), not
	// straight to the socket as the library's default handlers would.
	c.ws.SetPingHandler(func(data string) error {
		c.sendPong([]byte(data))
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	c.ws.SetCloseHandler(func(int, string) error { return nil })
	authTimer := time.AfterFunc(c.cfg.AuthTimeout, func() {
		if !c.authed.Load() {
			c.Close(ClosePolicy, "authentication timeout")
		}
	})
	defer authTimer.Stop()
	c.mu.Lock()
	c.pinger = time.AfterFunc(c.cfg.PingInterval, c.ping)
	c.mu.Unlock()
	for {
		mt, frame, err := c.ws.ReadMessage()
		if err != nil {
			if err == websocket.ErrReadLimit {
				c.Close(CloseTooBig, "frame too big")
			}
			break
		}
		select {
		case <-c.closing:
			continue // draining until the deadline; ignore frames after Close
		default:
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		if mt != websocket.TextMessage && mt != websocket.BinaryMessage {
			continue
		}
		h.HandleFrame(c, frame)
	}
	c.Close(CloseNormal, "")
	<-c.done
	h.Closed(c)
	_ = c.ws.Close()
}

// ping asks the writer for a keep-alive ping and schedules the next one.
func (c *Conn) ping() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.finished || c.isClosing() {
		return
	}
	c.pingDue = true
	c.kickLocked()
	c.pinger.Reset(c.cfg.PingInterval)
}

// writeLoop writes what is queued, then exits; once the connection is
// closing it finishes it.
func (c *Conn) writeLoop() {
	var batch [][]byte
	for {
		c.mu.Lock()
		closing := c.isClosing()
		if c.rest == nil && len(c.queue) == 0 && !c.pingDue && c.pong == nil && !closing {
			c.writing = false
			if cap(c.queue) > 16 {
				c.queue = nil // give back the room a burst took
			}
			c.mu.Unlock()
			return
		}
		rest := c.rest
		batch, c.queue, c.rest = c.queue, batch[:0], nil
		ping, pong := c.pingDue, c.pong
		c.pingDue, c.pong = false, nil
		c.mu.Unlock()
		if closing {
			c.finish(rest, batch, pong)
			return
		}
		ok := c.writeRest(rest) && c.writeFrames(batch)
		clear(batch)
		if ok && pong != nil {
			ok = c.ws.WriteControl(websocket.PongMessage, pong, time.Now().Add(c.cfg.WriteTimeout)) == nil
		}
		if ok && ping {
			ok = c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteTimeout)) == nil
		}
		if !ok {
			c.end()
			return
		}
	}
}

// finish flushes what is queued (unless the peer is a slow consumer) and
// sends the close frame. Frames sent after Close are dropped, so rest,
// batch and pong hold everything left.
func (c *Conn) finish(rest []byte, batch [][]byte, pong []byte) {
	defer c.end()
	if c.closeCode.Load() != ClosePolicy && !(c.writeRest(rest) && c.writeFrames(batch)) {
		return
	}
	if pong != nil && c.closeCode.Load() != ClosePolicy {
		_ = c.ws.WriteControl(websocket.PongMessage, pong, time.Now().Add(c.cfg.WriteTimeout))
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, c.closeMsg, time.Now().Add(time.Second))
}

// writeRest writes what a direct write left: the end of one frame.
func (c *Conn) writeRest(rest []byte) bool {
	if rest == nil {
		return true
	}
	_ = c.raw.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if _, err := c.raw.Write(rest); err != nil {
		return false
	}
	c.pending.Add(-1)
	c.framesOut(1)
	return true
}

// end stops writing for good: the connection is closing (or its socket
// failed) and Serve may return.
func (c *Conn) end() {
	c.Close(CloseNormal, "")
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writing, c.finished, c.queue, c.rest, c.pong = false, true, nil, nil, nil
	if c.pinger != nil {
		c.pinger.Stop()
	}
	close(c.done)
}

// maxWriteBatch bounds the frames of one write system call.
const maxWriteBatch = 64

// writeScratch is a writer's reusable vectored-write state.
type writeScratch struct {
	hdr  []byte
	bufs net.Buffers
	iov  net.Buffers
}

var scratchPool = sync.Pool{New: func() any {
	return &writeScratch{hdr: make([]byte, 0, maxWriteBatch*10), iov: make(net.Buffers, 0, 2*maxWriteBatch)}
}}

// writeFrames writes text frames to the socket, up to maxWriteBatch of
// them with one vectored write. The frames are framed here rather than by
// the websocket library: a server's frames are not masked, so the shared
// frame of a broadcast goes out as it is, behind a header of 2 to 10
// bytes, without being copied.
func (c *Conn) writeFrames(frames [][]byte) bool {
	if len(frames) == 0 {
		return true
	}
	ws := scratchPool.Get().(*writeScratch)
	defer scratchPool.Put(ws)
	for len(frames) > 0 {
		n := min(len(frames), maxWriteBatch)
		ws.hdr, ws.iov = ws.hdr[:0], ws.iov[:0]
		for _, f := range frames[:n] {
			start := len(ws.hdr)
			ws.hdr = appendTextHeader(ws.hdr, len(f))
			ws.iov = append(ws.iov, ws.hdr[start:], f)
		}
		ws.bufs = ws.iov // WriteTo consumes its receiver
		_ = c.raw.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
		_, err := ws.bufs.WriteTo(c.raw)
		clear(ws.iov[:cap(ws.iov)])
		if err != nil {
			return false
		}
		c.pending.Add(-int32(n))
		c.framesOut(n)
		frames = frames[n:]
	}
	return true
}

// appendTextHeader appends the header of a final, unmasked text frame
// (RFC 6455 §5.2) of n payload bytes.
func appendTextHeader(dst []byte, n int) []byte {
	const finText = 0x81
	switch {
	case n < 126:
		return append(dst, finText, byte(n))
	case n <= 0xFFFF:
		return append(dst, finText, 126, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, finText, 127), uint64(n))
}
