//go:build linux

package session

import (
	"fmt"
	"os"
	"syscall"
	"time"
)

// The bare socket (see socket.go): a polled connection keeps only its
// descriptor.

// bareLocked prepares the switch to a bare socket when Start registers
// the connection with a loop: fd becomes a duplicate of Go's descriptor
// (close-on-exec), to be registered; commit closes Go's connection once
// it is, undo closes the duplicate instead. It does nothing (ok false)
// unless the writer is idle and the connection not closing — a connection
// closed before it started, or whose first frames did not fit, keeps Go's
// socket: its borrowed descriptor is registered, and Go's connection is
// closed by end. w.mu is held from bareLocked to commit or undo, so
// nothing writes meanwhile.
func (w *writer) bareLocked() (commit, undo func(), ok bool) {
	if w.raw == nil || w.fd < 0 || w.closed || w.writing || w.finished || w.rest != nil || w.c.life.isClosing() {
		return nil, nil, false
	}
	dup, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(w.fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return nil, nil, false
	}
	borrowed := w.fd
	w.fd = int32(dup)
	commit = func() {
		// Go's descriptor goes, and with it the runtime's registration;
		// the socket lives on in the duplicate.
		_ = w.raw.Close()
		w.raw = nil
	}
	undo = func() {
		_ = syscall.Close(int(dup))
		w.fd = borrowed
	}
	return commit, undo, true
}

// handOverLocked writes what it can of bufs to the bare socket without
// waiting. When the socket does not take it all, it hands the descriptor
// to Go's poller — once: w.file owns it from then on — and returns the
// file and what is left to write to it, waiting. w.mu is held.
func (w *writer) handOverLocked(bufs [][]byte) (*os.File, [][]byte, error) {
	if w.file == nil {
		left, errno := writevNow(int(w.fd), bufs)
		if errno != 0 && errno != syscall.EAGAIN {
			return nil, nil, fmt.Errorf("write: %w", errno)
		}
		if len(left) == 0 {
			return nil, nil, nil
		}
		bufs = left
		// The descriptor is non-blocking: NewFile registers it with Go's
		// poller, so its writes wait there, with deadlines.
		w.file = os.NewFile(uintptr(w.fd), "websocket")
	}
	return w.file, bufs, nil
}

// writeFile writes bufs to a handed-over socket by deadline, waiting in
// Go's poller while the socket is full.
func writeFile(f *os.File, bufs [][]byte, deadline time.Time) error {
	if err := f.SetWriteDeadline(deadline); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	var errno syscall.Errno
	err = rc.Write(func(fd uintptr) bool {
		bufs, errno = writevNow(int(fd), bufs)
		return errno != syscall.EAGAIN // done, or failed; else wait
	})
	switch {
	case err != nil:
		return fmt.Errorf("write: %w", err)
	case errno != 0:
		return fmt.Errorf("write: %w", errno)
	}
	return nil
}

// writevNow writes bufs to fd with writev until they are written or the
// socket is full (EAGAIN) or fails; it returns what is left.
func writevNow(fd int, bufs [][]byte) ([][]byte, syscall.Errno) {
	d := directPool.Get().(*directWrite)
	defer directPool.Put(d)
	for len(bufs) > 0 {
		d.niov = 0
		for _, b := range bufs {
			if d.niov == len(d.iov) {
				break
			}
			if len(b) > 0 {
				d.iov[d.niov] = syscall.Iovec{Base: &b[0]}
				d.iov[d.niov].SetLen(len(b))
				d.niov++
			}
		}
		if d.niov == 0 {
			return nil, 0
		}
		n, errno := d.write(uintptr(fd))
		clear(d.iov[:d.niov])
		if errno != 0 {
			return bufs, errno
		}
		if n == 0 {
			return bufs, syscall.EIO // a socket takes something or says why not
		}
		bufs = consume(bufs, n)
	}
	return nil, 0
}

// abortBare makes a bare socket's close a reset (a linger of zero) and
// shuts it down both ways; w.mu is held and the socket is not closed.
func abortBare(fd int32) {
	_ = syscall.SetsockoptLinger(int(fd), syscall.SOL_SOCKET, syscall.SO_LINGER, &syscall.Linger{Onoff: 1, Linger: 0})
	_ = syscall.Shutdown(int(fd), syscall.SHUT_RDWR)
}

// closeBare closes a bare socket that was never handed over; w.mu is held.
func closeBare(fd int32) { _ = syscall.Close(int(fd)) }
