//go:build linux

package session

import (
	"sync"
	"syscall"
	"unsafe"

	"github.com/roomring/roomring/node/wsframe"
)

// directWrites says whether Send may write to the socket itself.
const directWrites = true

// directWrite is the state of one non-blocking vectored write of up to
// maxWriteBatch frames, each a header and a payload. It is pooled, so a
// direct write allocates nothing.
type directWrite struct {
	iov  [2 * maxWriteBatch]syscall.Iovec
	niov int
	hdr  [maxWriteBatch * 10]byte
	// flat holds small frames framed end to end, written with one plain
	// write: copying a few hundred bytes costs less than the kernel's
	// handling of a second iovec (a broadcast's header and payload) —
	// ~8 % of a loopback send (docs/benchmarks.md, "The floor").
	flat [flatMax]byte
}

// flatMax is the most framed bytes tryWrite copies into one buffer rather
// than writing them as a vector.
const flatMax = 2048

var directPool = sync.Pool{New: func() any { return &directWrite{} }}

// write writes d.iov to fd with one writev system call: the bytes
// written, or why none were (nonblocking). The caller keeps fd open
// meanwhile (see socket.go: under w.mu, or from within the runtime's
// RawConn.Write).
func (d *directWrite) write(fd uintptr) (int, syscall.Errno) {
	return nonblocking(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&d.iov[0])), uintptr(d.niov))
}

// nonblocking makes a write or writev system call on a non-blocking
// descriptor, retried when interrupted: the bytes written, or why none
// were. It never waits.
func nonblocking(trap, fd, p, n uintptr) (int, syscall.Errno) {
	for {
		r, _, e := syscall.Syscall(trap, fd, p, n)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), 0
	}
}

// flatten frames frames end to end into d.flat, if they fit.
func (d *directWrite) flatten(frames [][]byte) ([]byte, bool) {
	size := 0
	for _, f := range frames {
		size += wsframe.TextHeaderLen(len(f)) + len(f)
	}
	if size > len(d.flat) {
		return nil, false
	}
	flat := d.flat[:0]
	for _, f := range frames {
		flat = wsframe.AppendTextHeader(flat, len(f))
		flat = append(flat, f...)
	}
	return flat, true
}

// tryWrite writes frames (headers and payloads; at most maxWriteBatch of
// them) to the socket's descriptor with one non-blocking system call — no
// runtime lock or poll check: w.mu is held, and the descriptor is closed
// only under it (socket.go). It returns how many frames went out whole
// and the framed bytes of the next one that the socket did not take (nil
// when it took none of it).
func (w *writer) tryWrite(frames [][]byte) (whole int, rest []byte) {
	if w.closed {
		return 0, nil
	}
	d := directPool.Get().(*directWrite)
	defer directPool.Put(d)
	frames = frames[:min(len(frames), maxWriteBatch)]
	var n int
	if flat, ok := d.flatten(frames); ok {
		// One write, under the same rules as d.write; a failure writes
		// nothing: the writer finds out.
		n, _ = nonblocking(syscall.SYS_WRITE, uintptr(w.fd), uintptr(unsafe.Pointer(&flat[0])), uintptr(len(flat)))
	} else {
		hdr := d.hdr[:0]
		d.niov = 0
		for _, f := range frames {
			start := len(hdr)
			hdr = wsframe.AppendTextHeader(hdr, len(f))
			d.iov[d.niov] = syscall.Iovec{Base: &hdr[start]}
			d.iov[d.niov].SetLen(len(hdr) - start)
			d.niov++
			if len(f) > 0 {
				d.iov[d.niov] = syscall.Iovec{Base: &f[0]}
				d.iov[d.niov].SetLen(len(f))
				d.niov++
			}
		}
		n, _ = d.write(uintptr(w.fd))
		clear(d.iov[:d.niov])
	}
	hdr := d.hdr[:0]
	for i, f := range frames {
		h := wsframe.AppendTextHeader(hdr, len(f))
		size := len(h) + len(f)
		if n >= size {
			n -= size
			continue
		}
		if n == 0 {
			return i, nil
		}
		rest = make([]byte, 0, size-n)
		if n < len(h) {
			rest = append(rest, h[n:]...)
			n = 0
		} else {
			n -= len(h)
		}
		return i, append(rest, f[n:]...)
	}
	return len(frames), nil
}
