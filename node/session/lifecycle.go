package session

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

// lifecycle is how a connection ends. Its one rule: the connection closes
// once, with the code and reason of the first close — a handler's, the
// authentication deadline's, a slow consumer's, a reader's or writer's
// failure, or a server shutting down.
//
// Concurrency: close, slowConsumer and the flags are safe for concurrent
// use. close sets shut and closes closing (if made) under mu, after msg
// is written: a goroutine that sees either may read code and msg. Once closing, the
// writer sends what was queued (not for a slow consumer) and the close
// frame, then ends; the reader stops handing frames to the Handler; end
// then tells the Handler and closes the socket.
type lifecycle struct {
	c *Conn // its socket and hooks; its writer (asked for the close frame) and reader (told of the close)

	mu      sync.Mutex    // guards closing and the first close: shut is set once, under it
	closing chan struct{} // made by the first Closing (most connections never ask), closed by close
	msg     []byte        // the close frame's payload; written before shut is set
	code    atomic.Int32
	shut    atomic.Bool // set under mu, with closing closed: isClosing without a channel operation (per delivery)
	slow    atomic.Bool // slowConsumer ran
	authed  atomic.Bool
}

func (l *lifecycle) init(c *Conn) {
	l.c = c
}

// closingChan is Conn.Closing: a channel closed once close was called,
// made on the first call.
func (l *lifecycle) closingChan() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closing == nil {
		l.closing = make(chan struct{})
		if l.shut.Load() {
			close(l.closing)
		}
	}
	return l.closing
}

// close starts closing the connection with code and reason; calls after
// the first do nothing.
func (l *lifecycle) close(code int, reason string) {
	l.mu.Lock()
	if l.shut.Load() {
		l.mu.Unlock()
		return
	}
	l.code.Store(int32(code))
	l.msg = wsframe.ClosePayload(code, reason)
	l.shut.Store(true)
	if l.closing != nil {
		close(l.closing)
	}
	l.mu.Unlock()
	// Unblock a reading goroutine promptly; the peer's close reply may
	// never come. (A polled connection is torn down after closeGrace.)
	l.c.w.setReadDeadline(time.Now().Add(2 * time.Second))
	l.c.w.kick() // the writer sends the close frame
	l.c.r.closed()
}

func (l *lifecycle) isClosing() bool { return l.shut.Load() }

// authDeadline closes the connection after d unless it authenticated by
// then; the caller stops the timer when the connection ends.
func (l *lifecycle) authDeadline(d time.Duration) *time.Timer {
	return time.AfterFunc(d, func() {
		if !l.authed.Load() {
			l.close(ClosePolicy, "authentication timeout")
		}
	})
}

// slowCloseGrace is how long a slow consumer's close frame may take before
// its TCP connection is dropped.
const slowCloseGrace = 100 * time.Millisecond

// slowConsumer closes a connection whose write queue is full. Its peer is
// not reading, so the writer is likely waiting on full socket buffers
// until WriteTimeout: the close frame (which the writer sends once the
// frames it is writing are out) gets a short grace, then the socket is
// dropped (shut down), which fails the waiting write and ends the reader
// at once. It never blocks the caller (Send runs under the edge's
// fan-out).
func (l *lifecycle) slowConsumer() {
	if !l.slow.CompareAndSwap(false, true) {
		return
	}
	if l.c.hooks != nil && l.c.hooks.SlowConsumer != nil {
		l.c.hooks.SlowConsumer()
	}
	l.close(ClosePolicy, "slow consumer")
	time.AfterFunc(slowCloseGrace, l.c.w.drop)
}

// end is the end of a connection, once its reader has stopped: it closes
// (if nothing did), waits for the writer to finish (the close frame), tells
// h and closes the socket — the one close of its descriptor.
func (l *lifecycle) end(h Handler, c *Conn) {
	l.close(CloseNormal, "")
	l.c.w.wait()
	h.Closed(c)
	l.c.w.closeSocket()
}
