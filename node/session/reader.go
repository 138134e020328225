package session

import (
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/fasthttp/websocket"
	"github.com/roomring/roomring/node/wsframe"
)

// reader reads a connection's frames and hands its messages to the
// Handler, one at a time and in order, within the connection's limits: a
// frame over cfg.MaxFrameBytes closes it with 1009, a text message of
// invalid UTF-8 with 1007; every frame is charged to the rate limit
// (admit), and the Handler gets a message within the limit as
// HandleFrame, one over it as RateLimited (or not at all); a peer silent for twice the ping interval is dropped. It reads in
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
// over, last, partial, msg, msgText and fragmented are that goroutine's; the
// Handler's HandleFrame and RateLimited run on it.
type reader struct {
	c *Conn // its socket and limits, its lifecycle and writer; handed to the Handler

	// rate limiting, reading goroutine only
	tokens float64 // frames the connection may still send at once
	over   float64 // frames over the limit lately (drains at the rate)
	last   int64   // of the last refill (mono)

	// Read by activations when the connection is polled (Start with a
	// Poller; activate_linux.go). The fields are ordered to pack: the
	// reader is a third of an idle connection's largest object.
	h            Handler
	onDone       func()
	dl           deadlines // ping, idle and authentication; kept by the loop's sweeper
	loop         *pollLoop
	pollID       uint64
	rmu          sync.Mutex
	teardownOnce sync.Once
	polled       atomic.Bool
	reading      bool // an activation runs; under rmu
	ended        bool // the connection is being torn down; under rmu
	// Activations only (one at a time).
	msgText    bool   // msg is a text message
	fragmented bool   // msg holds the fragments of a message so far
	partial    []byte // a frame cut by the end of a read
	msg        []byte // the fragments of a message so far
}

// authDone lifts the authentication deadline of a polled connection (the
// sweeper no longer looks at it). It runs on the reading side.
func (r *reader) authDone() { r.dl.authAt.Store(0) }

func (r *reader) init(c *Conn) {
	r.c = c
	r.tokens, r.last = float64(c.cfg.RateBurst), mono()
}

// verdict is what the rate limit says of one inbound frame.
type verdict uint8

const (
	admitted verdict = iota // within the limit: handle it
	refused                 // over the limit: answer it with the dialect's rate-limited error
	dropped                 // over the limit and over the answers: ignore it
)

// admit charges one inbound frame — any frame, control frames included —
// to the rate limit and says what to do with it. A connection that keeps
// flooding (more than cfg.RateFlood frames over the limit, draining at the
// rate) is closed with 1008.
func (r *reader) admit() verdict {
	now := mono()
	refill := time.Duration(now-r.last).Seconds() * r.c.cfg.RateLimit
	r.last = now
	r.tokens = min(r.tokens+refill, float64(r.c.cfg.RateBurst))
	r.over = max(r.over-refill, 0)
	if r.tokens >= 1 {
		r.tokens--
		return admitted
	}
	r.over++
	switch {
	case r.over > float64(r.c.cfg.RateFlood):
		r.c.life.close(ClosePolicy, "rate limit exceeded")
		return dropped
	case r.over <= float64(r.c.cfg.RateAnswers):
		return refused
	}
	return dropped
}

// handle hands a whole message to the handler as the rate limit says,
// unless it is a text message of invalid UTF-8, which closes the
// connection with 1007 (RFC 6455 §8.1); false means the connection ends.
func (r *reader) handle(h Handler, text bool, msg []byte) bool {
	if text && !utf8.Valid(msg) {
		r.c.life.close(wsframe.CloseInvalidPayload, "invalid UTF-8")
		return false
	}
	switch r.admit() {
	case admitted:
		h.HandleFrame(r.c, msg)
	case refused:
		h.RateLimited(r.c, msg)
	}
	return true
}

// serve reads in the calling goroutine until the connection closes, then
// ends it; it returns after h.Closed.
func (r *reader) serve(h Handler) {
	idle := 2 * r.c.cfg.PingInterval
	_ = r.c.ws.SetReadDeadline(time.Now().Add(idle))
	r.c.ws.SetPongHandler(func(string) error {
		r.admit()
		return r.c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	// Pongs and the close reply go through the writer (see writer), not
	// straight to the socket as the library's default handlers would.
	r.c.ws.SetPingHandler(func(data string) error {
		if r.admit() == admitted {
			r.c.w.sendPong([]byte(data))
		}
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
		if r.c.life.isClosing() {
			continue // draining until the deadline; ignore frames after Close
		}
		_ = r.c.ws.SetReadDeadline(time.Now().Add(idle))
		if mt != websocket.TextMessage && mt != websocket.BinaryMessage {
			continue
		}
		r.handle(h, mt == websocket.TextMessage, frame)
	}
	r.c.life.end(h, r.c)
}
