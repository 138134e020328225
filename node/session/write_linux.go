//go:build linux

package session

import (
	"sync"
	"syscall"
	"unsafe"
)

// directWrites says whether Send may write to the socket itself.
const directWrites = true

// directWrite is the state of one non-blocking vectored write of a frame:
// its header and its payload. It is pooled, with the function handed to
// syscall.RawConn.Write made once, so a direct write allocates nothing.
type directWrite struct {
	iov [2]syscall.Iovec
	hdr [10]byte
	n   int
	err syscall.Errno
	fn  func(fd uintptr) bool
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
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&d.iov[0])), uintptr(len(d.iov)))
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

// tryWrite writes frame's header and payload to the socket without
// blocking. It returns the framed bytes not written (nil: all of them), or
// the whole frame when the socket cannot be written now. c.mu is held.
func (c *Conn) tryWrite(frame []byte) (rest []byte) {
	d := directPool.Get().(*directWrite)
	hdr := appendTextHeader(d.hdr[:0], len(frame))
	d.iov[0] = syscall.Iovec{Base: &hdr[0]}
	d.iov[0].SetLen(len(hdr))
	d.iov[1] = syscall.Iovec{}
	if len(frame) > 0 {
		d.iov[1] = syscall.Iovec{Base: &frame[0]}
		d.iov[1].SetLen(len(frame))
	}
	d.n, d.err = 0, 0
	err := c.rc.Write(d.fn)
	n, werr := d.n, d.err
	d.iov = [2]syscall.Iovec{}
	if err != nil || werr != 0 {
		n = 0
	}
	if n == len(hdr)+len(frame) {
		directPool.Put(d)
		return nil
	}
	rest = make([]byte, 0, len(hdr)+len(frame)-n)
	if n < len(hdr) {
		rest = append(rest, hdr[n:]...)
		n = 0
	} else {
		n -= len(hdr)
	}
	rest = append(rest, frame[n:]...)
	directPool.Put(d)
	return rest
}
