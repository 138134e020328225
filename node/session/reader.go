package session

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"
)

// reader reads a connection's frames and hands its messages to the
// Handler, one at a time and in order, within the connection's limits: a
// frame over cfg.MaxFrameBytes closes it with 1009; Allow is its rate
// limit; a peer silent for twice the ping interval is dropped. It reads in
// one of two ways:
//
//   - serve: a goroutine of its own, parked in the websocket library's
//     read (Serve);
//   - activations (activate_linux.go): a Poller's loop starts one when the
//     socket has data; it reads what is there, corks the writer while it
//     handles the frames of that read, and ends (Start with a Poller).
//
// Concurrency: at most one goroutine reads at a time — the serving one,
// or the running activation (reading, under rmu, says one runs). tokens,
// last, partial, msg and fragmented are that goroutine's; the Handler's
// HandleFrame runs on it, so Allow may be called from there only.
type reader struct {
	c *Conn // its socket and limits, its lifecycle and writer; handed to the Handler

	// rate limiting, reading goroutine only
	tokens float64
	last   time.Time

	// Read by activations when the connection is polled (Start with a
	// Poller; activate_linux.go).
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
}

func (r *reader) init(c *Conn) {
	r.c = c
	r.tokens, r.last = float64(c.cfg.RateBurst), time.Now()
}

// allow takes one token of the rate limit; false means the frame is over
// the limit.
func (r *reader) allow() bool {
	now := time.Now()
	r.tokens += now.Sub(r.last).Seconds() * r.c.cfg.RateLimit
	r.last = now
	if max := float64(r.c.cfg.RateBurst); r.tokens > max {
		r.tokens = max
	}
	if r.tokens < 1 {
		return false
	}
	r.tokens--
	return true
}

// serve reads in the calling goroutine until the connection closes, then
// ends it; it returns after h.Closed.
func (r *reader) serve(h Handler) {
	idle := 2 * r.c.cfg.PingInterval
	_ = r.c.ws.SetReadDeadline(time.Now().Add(idle))
	r.c.ws.SetPongHandler(func(string) error {
		return r.c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	// Pongs and the close reply go through the writer (see writer), not
	// straight to the socket as the library's default handlers would.
	r.c.ws.SetPingHandler(func(data string) error {
		r.c.w.sendPong([]byte(data))
		return r.c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	r.c.ws.SetCloseHandler(func(int, string) error { return nil })
	authTimer := r.c.life.authDeadline(r.c.cfg.AuthTimeout)
	defer authTimer.Stop()
	r.c.w.startPinger()
	for {
		mt, frame, err := r.c.ws.ReadMessage()
		if err != nil {
			if err == websocket.ErrReadLimit {
				r.c.life.close(CloseTooBig, "frame too big")
			}
			break
		}
		select {
		case <-r.c.life.closing:
			continue // draining until the deadline; ignore frames after Close
		default:
		}
		_ = r.c.ws.SetReadDeadline(time.Now().Add(idle))
		if mt != websocket.TextMessage && mt != websocket.BinaryMessage {
			continue
		}
		h.HandleFrame(r.c, frame)
	}
	r.c.life.end(h, r.c)
}
