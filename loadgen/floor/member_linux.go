//go:build linux

package floor

import (
	"sync"
	"syscall"
	"unsafe"
)

// member is one connection. Its descriptor is closed only by the loop
// (close), under mu, so a fan-out that holds mu writes to this socket and
// no other; a fan-out that finds it closed skips it.
type member struct {
	seq int32 // tells this connection from a later one given the same descriptor

	mu      sync.Mutex
	fd      int    // -1 once closed
	backlog []byte // what the socket did not take, sent before anything else
	dead    bool   // dropped for its backlog; the loop closes it

	// The loop's alone.
	in    []byte             // an inbound frame's start, until the rest is read
	rooms map[*room]struct{} // rooms entered
}

// sendResult is what send did with a frame.
type sendResult uint8

const (
	sentWhole sendResult = iota
	sentShort            // the socket took part or none: the rest is backlog
	sentNone             // closed or dropped: nothing sent
	sentDrop             // the backlog overflowed: dropped now
)

// send writes b to the socket with one write system call, or appends it
// to the backlog the socket owes (then tries to flush it).
func (m *member) send(b []byte, maxBacklog int) sendResult {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd < 0 || m.dead {
		return sentNone
	}
	if len(m.backlog) > 0 {
		if len(m.backlog)+len(b) > maxBacklog {
			m.dead = true
			// The loop sees the hang-up and closes the descriptor.
			_ = syscall.Shutdown(m.fd, syscall.SHUT_RDWR)
			return sentDrop
		}
		m.backlog = append(m.backlog, b...)
		m.flushLocked()
		return sentShort
	}
	n, err := write(m.fd, b)
	if n == len(b) {
		return sentWhole
	}
	if err != nil && err != syscall.EAGAIN {
		m.dead = true
		_ = syscall.Shutdown(m.fd, syscall.SHUT_RDWR)
		return sentNone
	}
	m.backlog = append(m.backlog[:0], b[n:]...)
	return sentShort
}

// flush writes what the socket owes; the loop calls it when the socket
// becomes writable.
func (m *member) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd >= 0 && !m.dead {
		m.flushLocked()
	}
}

func (m *member) flushLocked() {
	for len(m.backlog) > 0 {
		n, err := write(m.fd, m.backlog)
		if n > 0 {
			m.backlog = m.backlog[n:]
			continue
		}
		if err != syscall.EAGAIN {
			m.dead = true
			_ = syscall.Shutdown(m.fd, syscall.SHUT_RDWR)
		}
		break
	}
	if len(m.backlog) == 0 {
		m.backlog = nil
	}
}

// close closes the descriptor (the loop's, or Close's once the loop has
// stopped).
func (m *member) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fd >= 0 {
		_ = syscall.Close(m.fd)
		m.fd = -1
	}
	m.backlog = nil
}

// write is one write system call, retried on EINTR only; n is never negative.
func write(fd int, b []byte) (int, error) {
	for {
		r, _, e := syscall.Syscall(syscall.SYS_WRITE, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
}
