//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// On Linux a worker reads its connections from epoll loops instead of one
// goroutine parked in Read per connection: a message then costs one read
// system call (Go's Read tries the socket, finds it empty, parks, and
// reads again once woken) and an idle connection costs no goroutine.
//
// Once set up, a connection leaves Go's poller: the worker keeps a
// duplicate of its descriptor and closes Go's. Otherwise every message
// would also wake a thread of the load generator blocked in Go's own
// epoll_wait — and on loopback that wake-up is paid by the server's write
// system call, so the load generator would inflate the server's CPU per
// delivery. A loop that found events looks again after pollBatch instead
// of parking, so a burst of messages costs a handful of wake-ups. The
// epoll descriptors are not in Go's poller either: a loop waits in
// epoll_wait itself (a thread blocked in a system call), because an epoll
// descriptor registered in another epoll — Go's — makes every event on its
// sockets run the outer one's callback too, inside the server's write.
// Writes on such a connection are plain write system calls (fdConn).

// pollSet is a worker's epoll loops; connection slot s belongs to loop
// s mod len.
type pollSet struct {
	loops   []*pollLoop
	clients []*client // by slot
	wg      sync.WaitGroup
}

// pollLoop is one epoll instance and the goroutine that reads its ready
// sockets, blocking its thread in epoll_wait for at most pollWait at a
// time so that it sees stop.
type pollLoop struct {
	epfd int
	stop atomic.Bool
}

// pollWait bounds one blocking epoll_wait (how long close waits for a
// loop to notice).
const pollWait = 50 * time.Millisecond

// newPollSet starts one loop per core.
func newPollSet(clients []*client) (*pollSet, error) {
	ps := &pollSet{clients: clients}
	for range max(1, runtime.GOMAXPROCS(0)) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err != nil {
			ps.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		l := &pollLoop{epfd: fd}
		ps.loops = append(ps.loops, l)
		ps.wg.Add(1)
		go func() {
			defer ps.wg.Done()
			l.run(ps.clients)
		}()
	}
	return ps, nil
}

func (ps *pollSet) loop(c *client) *pollLoop { return ps.loops[c.slot%len(ps.loops)] }

// add hands a set-up connection to its loop; messages already read during
// the setup are handled first.
func (ps *pollSet) add(c *client) error {
	tc, ok := c.ws.c.(*net.TCPConn)
	if !ok {
		return errors.New("poll: not a TCP connection")
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	fd, derr := -1, error(nil)
	if err := rc.Control(func(f uintptr) { fd, derr = syscall.Dup(int(f)) }); err != nil || derr != nil {
		return fmt.Errorf("poll: dup: %w", errors.Join(err, derr))
	}
	syscall.CloseOnExec(fd)
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.state.Load() != stReady {
		_ = syscall.Close(fd)
		return nil
	}
	// The duplicate shares the socket (and its non-blocking mode); closing
	// Go's descriptor takes the socket out of Go's poller. Writers hold
	// wmu, so none is using Go's descriptor meanwhile.
	c.ws.wmu.Lock()
	_ = tc.Close()
	c.fd = fd
	c.ws.c = &fdConn{fd: fd, local: tc.LocalAddr(), remote: tc.RemoteAddr()}
	c.ws.wmu.Unlock()
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP, Fd: int32(c.slot)}
	if err := syscall.EpollCtl(ps.loop(c).epfd, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	c.drainLocked()
	return nil
}

// remove takes c out of its loop; c.rmu is held.
func (ps *pollSet) remove(c *client) {
	_ = syscall.EpollCtl(ps.loop(c).epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
}

// close stops the loops (after the connections are closed) and closes
// their epoll descriptors.
func (ps *pollSet) close() {
	for _, l := range ps.loops {
		l.stop.Store(true)
	}
	ps.wg.Wait()
	for _, l := range ps.loops {
		_ = syscall.Close(l.epfd)
	}
}

func (l *pollLoop) run(clients []*client) {
	events := make([]syscall.EpollEvent, 512)
	for !l.stop.Load() {
		n, err := syscall.EpollWait(l.epfd, events, int(pollWait/time.Millisecond))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for i := range n {
			if s := int(events[i].Fd); s >= 0 && s < len(clients) {
				clients[s].readable()
			}
		}
		if n > 0 && n < len(events) {
			time.Sleep(pollBatch) // let a burst gather
		}
	}
}

// pollBatch is how long a busy loop lets events gather before it looks
// again; it adds at most that to a measured latency.
const pollBatch = 500 * time.Microsecond

// fdConn is a connection's socket once it has left Go's poller: the worker
// reads it; writes (requests, pongs) are write system calls that wait out
// a full send buffer in short sleeps.
type fdConn struct {
	fd            int
	local, remote net.Addr
	closeOnce     sync.Once
}

// fdWriteTimeout bounds a write that finds the send buffer full.
const fdWriteTimeout = 10 * time.Second

func (c *fdConn) Write(b []byte) (int, error) {
	done := 0
	deadline := time.Time{}
	for done < len(b) {
		n, err := syscall.Write(c.fd, b[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == nil || err == syscall.EINTR:
		case err == syscall.EAGAIN:
			if deadline.IsZero() {
				deadline = time.Now().Add(fdWriteTimeout)
			} else if time.Now().After(deadline) {
				return done, fmt.Errorf("write: %w", os.ErrDeadlineExceeded)
			}
			time.Sleep(pollBatch)
		default:
			return done, fmt.Errorf("write: %w", err)
		}
	}
	return done, nil
}

func (c *fdConn) Read(b []byte) (int, error) {
	n, err := syscall.Read(c.fd, b)
	if n == 0 && err == nil {
		return 0, io.EOF
	}
	return max(n, 0), err
}

func (c *fdConn) Close() error {
	err := net.ErrClosed
	c.closeOnce.Do(func() { err = syscall.Close(c.fd) })
	return err
}

func (c *fdConn) LocalAddr() net.Addr                { return c.local }
func (c *fdConn) RemoteAddr() net.Addr               { return c.remote }
func (c *fdConn) SetDeadline(t time.Time) error      { return nil }
func (c *fdConn) SetReadDeadline(t time.Time) error  { return nil }
func (c *fdConn) SetWriteDeadline(t time.Time) error { return nil }

// readable reads what the socket holds and handles the complete messages.
func (c *client) readable() {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.state.Load() != stReady {
		return
	}
	ws := c.ws
	for {
		ws.makeRoom(ws.need)
		free := len(ws.buf) - ws.w
		n, err := syscall.Read(c.fd, ws.buf[ws.w:])
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return
		case err != nil:
			c.closeLocked(err, false)
			return
		case n <= 0:
			c.closeLocked(io.EOF, false)
			return
		}
		ws.w += n
		if !c.drainLocked() || n < free {
			return
		}
	}
}

// drainLocked handles the complete messages in the read buffer; false
// means the connection was closed. c.rmu is held.
func (c *client) drainLocked() bool {
	ws := c.ws
	for {
		msg, need, err := ws.next()
		if err != nil {
			c.closeLocked(err, false)
			return false
		}
		if need > 0 {
			ws.need = need
			ws.shrink()
			return true
		}
		c.received(msg, time.Now().UnixNano())
	}
}
