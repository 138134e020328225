package session

import (
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

// The socket of a connection is the writer's (w.mu guards it), in one of
// three forms:
//
//   - Go's: raw, the TCP connection under the websocket, with fd its
//     descriptor, borrowed. A connection read by a goroutine of its own
//     keeps it for its life; so does every connection until Start.
//   - bare (Linux, a polled connection; socket_linux.go): only fd, a
//     duplicate of Go's descriptor made when Start registers the
//     connection with a Poller's loop, Go's connection then closed — no
//     net.netFD, no addresses, no runtime poll descriptor.
//   - handed over: a bare socket that once had to wait to write gets
//     file, an os.File over fd, registered with Go's poller for the writes
//     that wait, with their deadlines. It is made once, by the first write
//     that cannot finish at once (the writer goroutine's: frames left by a
//     full socket, a ping or the close frame that does not fit): a
//     connection whose socket never fills never pays for it. The file owns
//     fd from then on.
//
// Every write that does not wait — Send's and uncork's (tryWrite), and the
// writer's first attempt on a bare socket — is a writev system call on fd
// made under w.mu, with none of the runtime's descriptor locking. The rule
// that keeps that safe: fd is closed only by closeSocket, under w.mu,
// which sets closed first; a write on fd checks closed under w.mu. So no
// write reaches a descriptor number that was closed and handed out again
// by a new accept. (When Go's connection or the file has a wait in flight,
// its Close leaves the close(2) to that call's return; closed is set by
// then.) The writer goroutine writes to raw or file outside w.mu; it runs
// alone (w.writing), never while a write is made on fd, and its socket is
// not closed while it runs: closeSocket is called by end, after the
// writer has finished, and by Start's switch to bare, only while the
// writer is idle.
//
// A polled connection's activations read fd without a lock: fd does not
// change once the connection is registered with the loop, and end closes
// it after the connection left the loop, when no activation runs or will.
// Dropping a slow consumer (drop) therefore does not close the socket: it
// shuts it down (shutdown(2), under w.mu, unless closed), which fails a
// write waiting on it at once (EPIPE) and ends the reader (EOF); end then
// closes it, once.

// descriptor is raw's descriptor, for direct writes; -1 when there are
// none (not on Linux, or a connection without one).
func descriptor(raw net.Conn) int32 {
	if !directWrites {
		return -1
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := int32(-1)
	if err := rc.Control(func(f uintptr) { fd = int32(f) }); err != nil {
		return -1
	}
	return fd
}

// writeBlocking writes bufs whole by deadline: the writer goroutine's
// writes (frames, what a direct write left, control frames). It may
// consume bufs.
func (w *writer) writeBlocking(bufs [][]byte, deadline time.Time) error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return fmt.Errorf("write: %w", net.ErrClosed)
	}
	if raw := w.raw; raw != nil {
		w.mu.Unlock()
		if err := raw.SetWriteDeadline(deadline); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		b := net.Buffers(bufs)
		if _, err := b.WriteTo(raw); err != nil {
			return fmt.Errorf("write: %w", err)
		}
		return nil
	}
	f, left, err := w.handOverLocked(bufs)
	w.mu.Unlock()
	if err != nil || len(left) == 0 {
		return err
	}
	return writeFile(f, left, deadline)
}

// writeFrame writes one whole unmasked frame by deadline. The session
// frames its control frames itself, as it does its messages: the websocket
// library's connection is not kept once a connection is polled.
func (w *writer) writeFrame(op wsframe.Opcode, payload []byte, deadline time.Time) error {
	frame := wsframe.AppendFrame(make([]byte, 0, 2+len(payload)), wsframe.Header{Fin: true, Op: op}, payload)
	if err := w.writeBlocking([][]byte{frame}, deadline); err != nil {
		return fmt.Errorf("write frame (opcode %#x): %w", op, err)
	}
	return nil
}

// setReadDeadline sets the read deadline of Go's connection, if the
// socket is still Go's: it unblocks a reading goroutine. A polled
// connection's reader has deadlines of its own (sweep_linux.go).
func (w *writer) setReadDeadline(t time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.raw != nil && !w.closed {
		_ = w.raw.SetReadDeadline(t)
	}
}

// drop aborts the connection of a slow consumer without closing its
// descriptor: it shuts the socket down both ways, so a write waiting on
// it fails at once and the reader sees the end, and end then closes it,
// with a linger of zero — a reset that discards what the socket still
// holds for the peer. A plain close would leave the kernel delivering
// those megabytes to a peer that reads in trickles, for minutes. It does
// nothing once the socket is closed.
func (w *writer) drop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	if w.raw == nil {
		abortBare(w.fd)
		return
	}
	hc, ok := w.raw.(interface {
		CloseRead() error
		CloseWrite() error
		SetLinger(sec int) error
	})
	if !ok {
		w.closeLocked() // no half-close: close it (nothing reads its descriptor but through it)
		return
	}
	_ = hc.SetLinger(0)
	_ = hc.CloseWrite()
	_ = hc.CloseRead()
}

// closeSocket closes the socket, once: whoever owns the descriptor (the
// file, Go's connection, or the session) closes it.
func (w *writer) closeSocket() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closeLocked()
}

// closeLocked is closeSocket with w.mu held.
func (w *writer) closeLocked() {
	if w.closed {
		return
	}
	w.closed = true
	switch {
	case w.file != nil:
		_ = w.file.Close()
	case w.raw != nil:
		_ = w.raw.Close()
	case w.fd >= 0:
		closeBare(w.fd)
	}
	w.file, w.raw = nil, nil
}

// consume drops the first n bytes of bufs, and the empty buffers at its
// head.
func consume(bufs [][]byte, n int) [][]byte {
	for len(bufs) > 0 && n >= len(bufs[0]) {
		n -= len(bufs[0])
		bufs = bufs[1:]
	}
	if len(bufs) > 0 && n > 0 {
		bufs[0] = bufs[0][n:]
	}
	return bufs
}
