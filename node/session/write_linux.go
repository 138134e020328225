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
// maxWriteBatch frames, each a header and a payload. It is pooled, with
// the function handed to syscall.RawConn.Write made once, so a direct
// write allocates nothing.
type directWrite struct {
	iov  [2 * maxWriteBatch]syscall.Iovec
	niov int
	hdr  [maxWriteBatch * 10]byte
	n    int
	err  syscall.Errno
	fn   func(fd uintptr) bool
}

var directPool = sync.Pool{New: func() any {
	d := &directWrite{}
	d.fn = d.write
	return d
}}

// write is called by RawConn.Write with the socket's descriptor, which the
// runtime keeps from being closed meanwhile. It tries once and never
// waits: the descriptor is non-blocking.
func (d *directWrite) write(fd uintptr) bool {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&d.iov[0])), uintptr(d.niov))
		if e == syscall.EINTR {
			continue
		}
		d.n, d.err = int(r), e
		if e != 0 {
			d.n = 0
		}
		return true
	}
}

// tryWrite writes frames (headers and payloads; at most maxWriteBatch of
// them) to the socket with one non-blocking system call. It returns how
// many frames went out whole and the framed bytes of the next one that
// the socket did not take (nil when it took none of it). w.mu is held.
func (w *writer) tryWrite(frames [][]byte) (whole int, rest []byte) {
	d := directPool.Get().(*directWrite)
	defer directPool.Put(d)
	frames = frames[:min(len(frames), maxWriteBatch)]
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
	d.n, d.err = 0, 0
	err := w.rc.Write(d.fn)
	n := d.n
	clear(d.iov[:d.niov])
	if err != nil || d.err != 0 {
		n = 0
	}
	hdr = hdr[:0]
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
