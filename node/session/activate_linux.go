//go:build linux

package session

import (
	"bytes"
	"errors"
	"sync"
	"syscall"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

// The reader's polled path: a Poller's loop starts an activation when the
// socket has data (see Poller and reader).

// Start serves the connection like Serve but returns at once; done is
// called after h.Closed. With a Poller the connection is read by
// activations; without one (or when it cannot be polled), by a goroutine
// of its own.
func (c *Conn) Start(h Handler, p *Poller, done func()) { c.r.start(h, p, done) }

func (r *reader) start(h Handler, p *Poller, done func()) {
	if p == nil {
		go func() {
			r.serve(h)
			done()
		}()
		return
	}
	r.h, r.onDone = h, done
	// The websocket library's connection, its buffers and fasthttp's
	// hijacked wrapper go: a polled connection reads, writes and closes
	// its socket itself (~770 bytes of an idle connection); so does Go's
	// connection, once add has made the socket bare (socket_linux.go). It
	// is let go before the loop can see the connection, and the deadlines
	// are set (by add, sweep_linux.go).
	ws := r.c.ws
	r.c.ws = nil
	if err := p.add(r); err != nil {
		r.c.ws, r.h = ws, nil
		go func() {
			r.serve(h)
			done()
		}()
		return
	}
	r.polled.Store(true)
	if r.c.life.isClosing() { // closed before it started (a server shutting down)
		time.AfterFunc(closeGrace, r.teardown)
	}
}

// closeGrace is how long a closed connection waits for its peer's close
// frame before its socket is closed.
const closeGrace = 2 * time.Second

// closed is called once by the lifecycle's close.
func (r *reader) closed() {
	if r.polled.Load() {
		time.AfterFunc(closeGrace, r.teardown)
	}
}

// readable is the loop's call: the socket has data (or was closed).
func (r *reader) readable() {
	r.rmu.Lock()
	if r.reading || r.ended {
		r.rmu.Unlock()
		return
	}
	r.reading = true
	r.rmu.Unlock()
	go r.activate()
}

// readBufSize is an activation's read buffer, from a pool: a connection
// holds no buffer between activations (only the bytes of a frame that
// was cut, in partial).
const readBufSize = 4096

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// activate reads what the socket holds, hands the complete messages to the
// handler, and arms the socket again — or ends the connection.
func (r *reader) activate() {
	r.c.w.cork()
	bp := readBufs.Get().(*[]byte)
	end := r.readAll(bp)
	readBufs.Put(bp)
	r.c.w.uncork()
	r.rmu.Lock()
	r.reading = false
	if end {
		r.ended = true
	}
	if !r.ended && r.rearm() != nil {
		r.ended = true
	}
	ended := r.ended
	r.rmu.Unlock()
	if ended {
		r.finishTeardown()
	}
}

// readAll reads until the socket has nothing more, into the buffer *bp
// (or a larger one, for a large frame), and handles the frames read; the
// bytes of a frame cut by the end of the reads are kept in r.partial. It
// returns whether the connection ends.
func (r *reader) readAll(bp *[]byte) (end bool) {
	buf := append((*bp)[:0], r.partial...)
	r.partial = nil
	off, need := 0, 0
	for !end {
		if len(buf) == cap(buf) || need > cap(buf)-off {
			n := copy(buf, buf[off:])
			buf, off = buf[:n], 0
			if len(buf) == cap(buf) || need > cap(buf) {
				nb := make([]byte, len(buf), max(need, 2*cap(buf)))
				copy(nb, buf)
				buf = nb
			}
		}
		n, err := syscall.Read(int(r.c.w.fd), buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil || n <= 0 {
			return true
		}
		buf = buf[:len(buf)+n]
		r.touch() // anything the peer sends keeps it alive
		off, need, end = r.handleFrames(buf, off)
		if off == len(buf) {
			buf, off = buf[:0], 0
		}
	}
	if !end && off < len(buf) {
		r.partial = bytes.Clone(buf[off:])
	}
	return end
}

// handleFrames handles the whole frames of buf[off:]; it returns the
// offset of the first frame not whole and the bytes it needs, and whether
// the connection ends.
func (r *reader) handleFrames(buf []byte, off int) (next, need int, end bool) {
	for {
		f, used, nd, err := wsframe.Parse(buf[off:], true, r.c.cfg.MaxFrameBytes)
		if err != nil {
			r.failRead(err)
			return off, 0, true
		}
		if nd > 0 {
			return off, nd, false
		}
		off += used
		if !r.onFrame(f) {
			return off, 0, true
		}
	}
}

// failRead closes the connection for a frame it cannot read.
func (r *reader) failRead(err error) {
	if errors.Is(err, wsframe.ErrTooBig) {
		r.c.life.close(CloseTooBig, "frame too big")
		return
	}
	r.c.life.close(wsframe.CloseProtocolError, "protocol error")
}

// onFrame handles one frame; false means the connection ends. Every frame
// is charged to the rate limit: a message's last frame decides what
// becomes of it (handle), a ping over the limit gets no pong.
func (r *reader) onFrame(f wsframe.Frame) bool {
	switch f.Op {
	case wsframe.OpPing:
		if r.admit() == admitted {
			r.c.w.sendPong(f.Payload)
		}
		return true
	case wsframe.OpPong:
		r.admit()
		return true
	case wsframe.OpClose:
		r.c.life.close(CloseNormal, "")
		return false
	case wsframe.OpText, wsframe.OpBinary:
		if r.fragmented {
			r.failRead(wsframe.ErrProtocol)
			return false
		}
		if f.Fin {
			return r.deliver(f.Op == wsframe.OpText, bytes.Clone(f.Payload))
		}
		r.admit()
		r.fragmented, r.msgText = true, f.Op == wsframe.OpText
		r.msg = append(r.msg[:0], f.Payload...)
		return true
	}
	// wsframe.OpContinuation
	if !r.fragmented {
		r.failRead(wsframe.ErrProtocol)
		return false
	}
	if len(r.msg)+len(f.Payload) > r.c.cfg.MaxFrameBytes {
		r.failRead(wsframe.ErrTooBig)
		return false
	}
	r.msg = append(r.msg, f.Payload...)
	if !f.Fin {
		r.admit()
		return true
	}
	m := r.msg
	r.msg, r.fragmented = nil, false
	return r.deliver(r.msgText, m)
}

// deliver hands a message to the handler unless the connection is closing
// (frames after Close are drained and ignored, as serve does); false means
// the connection ends.
func (r *reader) deliver(text bool, msg []byte) bool {
	if r.c.life.isClosing() {
		return true
	}
	return r.handle(r.h, text, msg)
}

// teardown ends a closed connection: at once when no activation runs,
// else when the running one ends.
func (r *reader) teardown() {
	r.rmu.Lock()
	if r.ended {
		r.rmu.Unlock()
		return
	}
	r.ended = true
	busy := r.reading
	r.rmu.Unlock()
	if !busy {
		r.finishTeardown()
	}
}

// finishTeardown is serve's end for a polled connection: the writer
// finishes (close frame), the handler is told, the socket closed.
func (r *reader) finishTeardown() {
	r.teardownOnce.Do(func() {
		// No activation runs or will: ended is set, so the socket is
		// never armed again.
		r.unregister()
		r.c.life.end(r.h, r.c)
		r.onDone()
	})
}
