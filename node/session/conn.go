package session

import (
	"net"
	"sync"
	"sync/atomic"
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
type Conn struct {
	ws    *websocket.Conn
	raw   net.Conn // the TCP connection under ws, for dropping a slow consumer
	cfg   *Config
	hooks *Hooks

	out       chan []byte
	closing   chan struct{}
	closeOnce sync.Once
	slowOnce  sync.Once
	closeCode atomic.Int32
	closeMsg  []byte // written before closing is closed

	authed atomic.Bool

	// rate limiting, read goroutine only
	tokens float64
	last   time.Time
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
	return &Conn{ws: ws, raw: raw, cfg: cfg, hooks: hooks,
		out: make(chan []byte, cfg.WriteQueueLen), closing: make(chan struct{}),
		tokens: float64(cfg.RateBurst), last: time.Now()}
}

// Send queues a text frame. It never blocks: when the queue is full the
// connection is closed as a slow consumer. The frame may be shared with
// other connections and must not be modified afterwards.
func (c *Conn) Send(frame []byte) {
	select {
	case <-c.closing:
		return
	default:
	}
	select {
	case c.out <- frame:
	default:
		c.slowConsumer()
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
		close(c.closing)
		// Unblock the reader promptly; the peer's close reply may never come.
		_ = c.ws.SetReadDeadline(time.Now().Add(2 * time.Second))
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

// Serve runs the connection until it closes: reads in the calling goroutine,
// writes in another. It returns after h.Closed.
func (c *Conn) Serve(h Handler) {
	writerDone := make(chan struct{})
	go c.writeLoop(writerDone)
	idle := 2 * c.cfg.PingInterval
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	authTimer := time.AfterFunc(c.cfg.AuthTimeout, func() {
		if !c.authed.Load() {
			c.Close(ClosePolicy, "authentication timeout")
		}
	})
	defer authTimer.Stop()
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
	<-writerDone
	h.Closed(c)
	_ = c.ws.Close()
}

func (c *Conn) writeLoop(done chan struct{}) {
	defer close(done)
	ping := time.NewTicker(c.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case frame := <-c.out:
			if !c.write(frame) {
				c.Close(CloseNormal, "")
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cfg.WriteTimeout)); err != nil {
				c.Close(CloseNormal, "")
				return
			}
		case <-c.closing:
			c.finish()
			return
		}
	}
}

// finish flushes what is queued (unless the peer is a slow consumer) and
// sends the close frame.
func (c *Conn) finish() {
	if c.closeCode.Load() != ClosePolicy {
	drain:
		for {
			select {
			case frame := <-c.out:
				if !c.write(frame) {
					return
				}
			default:
				break drain
			}
		}
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, c.closeMsg, time.Now().Add(time.Second))
}

func (c *Conn) write(frame []byte) bool {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.cfg.WriteTimeout))
	if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		return false
	}
	if c.hooks != nil && c.hooks.FrameOut != nil {
		c.hooks.FrameOut()
	}
	return true
}
