package session

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

// writer writes a connection's frames from a bounded queue: at most
// cfg.WriteQueueLen frames and cfg.WriteQueueBytes bytes wait (a frame
// alone over the bytes is let into an empty queue); more makes the peer a
// slow consumer. So does a frame not written within cfg.WriteTimeout of
// being queued: the deadline of a write is that of the oldest frame it
// carries, so a peer that takes its bytes in trickles does not renew it.
//
// send writes the frames to the socket itself, without blocking, when
// nothing is queued or being written (Linux): a broadcast to many idle
// connections then costs one system call per connection and no goroutine.
// What the socket does not take is left to the writer goroutine, which
// writes it first. Every other write to the socket goes through the
// writer goroutine, so the frames never interleave. While the reader is
// corked (an activation handling the frames of one read), what is sent is
// held and written together at uncork: a pipelining client's replies cost
// one system call per read, not one each (a frame sent meanwhile by
// another goroutine waits for it too, unless it is pushed) — up to
// corkMaxBytes or maxWriteBatch frames, when the writer starts on them.
//
// Concurrency: send, cork, uncork, sendPong, ping and kick are safe for
// concurrent use; mu guards the queue and the writer goroutine's state.
// One writer goroutine at most runs (writing), started on demand and
// ending when nothing is left; once the connection is closing it sends the
// close frame and ends for good (finished; done is done).
type writer struct {
	c *Conn // its limits and hooks; its lifecycle

	// pending counts the frames queued and not yet written, those the
	// writer has taken from queue included: at most cfg.WriteQueueLen;
	// pendingBytes their bytes (of rest: its length).
	pendingBytes atomic.Int64
	pending      atomic.Int32

	// fd is the socket's descriptor (socket.go): written by init, and by
	// Start under mu before the connection is registered with a loop,
	// never after; -1: no direct writes.
	fd int32

	mu       sync.Mutex
	corked   bool           // an activation is handling frames: their replies are written together after it
	pingDue  bool           // a keep-alive ping is to be written
	writing  bool           // a writer goroutine is running
	finished bool           // the writer has ended for good; done is done
	closed   bool           // the socket is closed (closeSocket): nothing may use fd
	raw      net.Conn       // Go's connection (socket.go); nil once the socket is bare
	file     *os.File       // a bare socket handed to Go's poller for writes that wait; nil: not (yet)
	rest     []byte         // framed bytes of a direct write the socket did not take; written first
	restAt   int64          // when rest was left (mono)
	queue    [][]byte       // frames to write
	queuedAt int64          // when the oldest frame of queue was queued (mono)
	pong     []byte         // the payload of a pong to write; nil: none
	done     sync.WaitGroup // done once the writer has ended for good (no channel: an idle connection's memory)
	pinger   *time.Timer    // the keep-alive pings of a connection with a reading goroutine; nil when polled
}

// init sets the writer of c up, over raw, Go's connection.
func (w *writer) init(c *Conn, raw net.Conn) {
	w.c, w.raw, w.fd = c, raw, descriptor(raw)
	w.done.Add(1)
}

// send writes or queues text frames, in order; push says they do not
// answer the reader's frames, so a cork does not hold them back.
func (w *writer) send(frames [][]byte, push bool) {
	w.mu.Lock()
	if w.c.life.isClosing() {
		w.mu.Unlock()
		return
	}
	written := 0
	if !w.corked && len(w.queue) == 0 {
		// Nothing is queued: write them now, as far as the socket takes them.
		var cut bool
		written, cut = w.writeNowLocked(frames)
		frames = frames[written:]
		if cut {
			frames = frames[1:]
			w.pending.Add(1) // w.rest, until the writer writes it
			w.pendingBytes.Add(int64(len(w.rest)))
		}
	}
	if len(frames) > 0 {
		size := int64(0)
		for _, f := range frames {
			size += int64(len(f))
		}
		queued := w.pendingBytes.Load()
		if int(w.pending.Load())+len(frames) > w.c.cfg.WriteQueueLen ||
			(queued > 0 && queued+size > int64(w.c.cfg.WriteQueueBytes)) {
			w.mu.Unlock()
			w.framesOut(written)
			w.c.life.slowConsumer()
			return
		}
		if len(w.queue) == 0 {
			w.queuedAt = mono()
		}
		w.pending.Add(int32(len(frames)))
		w.pendingBytes.Add(size)
		w.queue = append(w.queue, frames...)
	}
	if (len(w.queue) > 0 && (!w.corked || push || w.corkFullLocked())) || w.rest != nil {
		w.kickLocked()
	}
	w.mu.Unlock()
	w.framesOut(written)
}

// corkMaxBytes is how much a cork holds before the writer starts on it:
// the replies to a burst of frames read at once do not wait for its end.
const corkMaxBytes = 64 << 10

// corkFullLocked says the corked queue is to be written now. w.mu is held.
func (w *writer) corkFullLocked() bool {
	return len(w.queue) >= maxWriteBatch || w.pendingBytes.Load() >= corkMaxBytes
}

// writeNowLocked writes frames to the socket without blocking, unless a
// writer runs (or has ended) or direct writes are not possible. It returns
// how many went out whole; cut says the next one went out in part, and
// w.rest holds the rest of it for the writer. w.mu is held.
func (w *writer) writeNowLocked(frames [][]byte) (written int, cut bool) {
	for w.fd >= 0 && !w.closed && !w.writing && !w.finished && w.rest == nil && written < len(frames) {
		whole, rest := w.tryWrite(frames[written:])
		written += whole
		if rest != nil {
			w.rest, w.restAt = rest, mono()
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
func (w *writer) cork() {
	w.mu.Lock()
	w.corked = true
	w.mu.Unlock()
}

// uncork writes what was sent since cork: directly when the socket takes
// it, else through the writer.
func (w *writer) uncork() {
	w.mu.Lock()
	w.corked = false
	written, cut := w.writeNowLocked(w.queue)
	w.pending.Add(-int32(written)) // a cut frame stays counted until the writer writes w.rest
	size := int64(0)
	for _, f := range w.queue[:written] {
		size += int64(len(f))
	}
	n := written
	if cut {
		size += int64(len(w.queue[n]) - len(w.rest)) // counted as rest from now
		n++
	}
	w.pendingBytes.Add(-size)
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	if len(w.queue) == 0 {
		w.queue = nil
	}
	if len(w.queue) > 0 || w.rest != nil {
		w.kickLocked()
	}
	w.mu.Unlock()
	w.framesOut(written)
}

// framesOut reports n frames written.
func (w *writer) framesOut(n int) {
	if w.c.hooks != nil && w.c.hooks.FrameOut != nil {
		for range n {
			w.c.hooks.FrameOut()
		}
	}
}

// sendPong has the writer answer a ping with payload.
func (w *writer) sendPong(payload []byte) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished || w.c.life.isClosing() {
		return
	}
	n := min(len(payload), wsframe.MaxControlPayload)
	w.pong = append(make([]byte, 0, n), payload[:n]...)
	w.kickLocked()
}

// startPinger schedules the keep-alive pings.
func (w *writer) startPinger() {
	w.mu.Lock()
	w.pinger = time.AfterFunc(w.c.cfg.PingInterval, w.ping)
	w.mu.Unlock()
}

// ping asks the writer for a keep-alive ping and schedules the next one
// (a connection with a reading goroutine; a polled one's sweeper calls
// pingNow).
func (w *writer) ping() {
	if w.pingNow() {
		w.mu.Lock()
		w.pinger.Reset(w.c.cfg.PingInterval)
		w.mu.Unlock()
	}
}

// pingNow asks the writer for a keep-alive ping; false: the connection is
// closing, and pings no more. It does not block.
func (w *writer) pingNow() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.finished || w.c.life.isClosing() {
		return false
	}
	w.pingDue = true
	w.kickLocked()
	return true
}

// kick starts the writer unless it runs or has ended: the connection is
// closing, and the writer sends the close frame.
func (w *writer) kick() {
	w.mu.Lock()
	w.kickLocked()
	w.mu.Unlock()
}

// kickLocked is kick with w.mu held.
func (w *writer) kickLocked() {
	if !w.writing && !w.finished {
		w.writing = true
		go w.writeLoop()
	}
}

// wait returns once the writer has ended for good.
func (w *writer) wait() { w.done.Wait() }

// writeLoop writes what is queued, then exits; once the connection is
// closing it finishes it.
func (w *writer) writeLoop() {
	var batch [][]byte
	for {
		w.mu.Lock()
		closing := w.c.life.isClosing()
		if w.rest == nil && len(w.queue) == 0 && !w.pingDue && w.pong == nil && !closing {
			w.writing = false
			if cap(w.queue) > 16 {
				w.queue = nil // give back the room a burst took
			}
			w.mu.Unlock()
			return
		}
		rest := w.rest
		deadline := w.deadlineLocked()
		batch, w.queue, w.rest = w.queue, batch[:0], nil
		ping, pong := w.pingDue, w.pong
		w.pingDue, w.pong = false, nil
		w.mu.Unlock()
		if closing {
			w.finish(rest, batch, pong)
			return
		}
		ok := w.writeRest(rest, deadline) && w.writeFrames(batch, deadline)
		clear(batch)
		if ok && pong != nil {
			ok = w.writeControl(wsframe.OpPong, pong, time.Now().Add(w.c.cfg.WriteTimeout))
		}
		if ok && ping {
			ok = w.writeControl(wsframe.OpPing, nil, time.Now().Add(w.c.cfg.WriteTimeout))
		}
		if !ok {
			w.end()
			return
		}
	}
}

// deadlineLocked is the deadline of writing what is queued: cfg.WriteTimeout
// after its oldest frame was queued. w.mu is held.
func (w *writer) deadlineLocked() time.Time {
	oldest := mono()
	if w.rest != nil {
		oldest = w.restAt
	}
	if len(w.queue) > 0 && w.queuedAt < oldest {
		oldest = w.queuedAt
	}
	return monoTime(oldest).Add(w.c.cfg.WriteTimeout)
}

// finish flushes what is queued (unless the peer is a slow consumer) and
// sends the close frame. Frames sent after Close are dropped, so rest,
// batch and pong hold everything left.
func (w *writer) finish(rest []byte, batch [][]byte, pong []byte) {
	defer w.end()
	slow := w.c.life.code.Load() == ClosePolicy
	deadline := time.Now().Add(w.c.cfg.WriteTimeout)
	if !slow && !(w.writeRest(rest, deadline) && w.writeFrames(batch, deadline)) {
		return
	}
	if pong != nil && !slow {
		_ = w.writeControl(wsframe.OpPong, pong, time.Now().Add(w.c.cfg.WriteTimeout))
	}
	// The close frame: once, as the writer finishes once. A slow
	// consumer's socket is dropped after slowCloseGrace, which ends this
	// write if it still waits.
	_ = w.writeControl(wsframe.OpClose, w.c.life.msg, time.Now().Add(time.Second))
}

// writeControl writes a control frame by deadline.
func (w *writer) writeControl(op wsframe.Opcode, payload []byte, deadline time.Time) bool {
	return w.writeFrame(op, payload, deadline) == nil
}

// writeRest writes what a direct write left, the end of one frame, by
// deadline.
func (w *writer) writeRest(rest []byte, deadline time.Time) bool {
	if rest == nil {
		return true
	}
	if err := w.writeBlocking([][]byte{rest}, deadline); err != nil {
		w.failed(err)
		return false
	}
	w.pending.Add(-1)
	w.pendingBytes.Add(-int64(len(rest)))
	w.framesOut(1)
	return true
}

// failed handles a failed write: one past its deadline makes the peer a
// slow consumer (1008); any other ends the connection (end).
func (w *writer) failed(err error) {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		w.c.life.slowConsumer()
	}
}

// end stops writing for good: the connection is closing (or its socket
// failed) and Serve may return.
func (w *writer) end() {
	w.c.life.close(CloseNormal, "")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writing, w.finished, w.queue, w.rest, w.pong = false, true, nil, nil, nil
	if w.pinger != nil {
		w.pinger.Stop()
	}
	w.done.Done()
}

// maxWriteBatch bounds the frames of one write system call.
const maxWriteBatch = 64

// writeScratch is a writer's reusable vectored-write state.
type writeScratch struct {
	hdr []byte
	iov [][]byte
}

var scratchPool = sync.Pool{New: func() any {
	return &writeScratch{hdr: make([]byte, 0, maxWriteBatch*10), iov: make([][]byte, 0, 2*maxWriteBatch)}
}}

// writeFrames writes text frames to the socket, up to maxWriteBatch of
// them with one vectored write. The frames are framed here rather than by
// the websocket library: a server's frames are not masked, so the shared
// frame of a broadcast goes out as it is, behind a header of 2 to 10
// bytes, without being copied. They must be written by deadline.
func (w *writer) writeFrames(frames [][]byte, deadline time.Time) bool {
	if len(frames) == 0 {
		return true
	}
	ws := scratchPool.Get().(*writeScratch)
	defer scratchPool.Put(ws)
	for len(frames) > 0 {
		n := min(len(frames), maxWriteBatch)
		ws.hdr, ws.iov = ws.hdr[:0], ws.iov[:0]
		size := int64(0)
		for _, f := range frames[:n] {
			size += int64(len(f))
			start := len(ws.hdr)
			ws.hdr = wsframe.AppendTextHeader(ws.hdr, len(f))
			ws.iov = append(ws.iov, ws.hdr[start:], f)
		}
		err := w.writeBlocking(ws.iov, deadline) // it may consume the slice's elements, not the slice
		clear(ws.iov[:cap(ws.iov)])
		if err != nil {
			w.failed(err)
			return false
		}
		w.pending.Add(-int32(n))
		w.pendingBytes.Add(-size)
		w.framesOut(n)
		frames = frames[n:]
	}
	return true
}
