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
	"syscall"
	"time"
)

// On Linux a worker reads its connections from epoll loops instead of one
// goroutine parked in Read per connection: a message then costs one read
// system call (Go's Read tries the socket, finds it empty, parks, and
// reads again once woken) and an idle connection costs no goroutine. The
// sockets stay Go's: writes, deadlines and Close go through net.Conn; the
// loops only read them, each connection under its rmu so that Close never
// races a read.

// pollSet is a worker's epoll loops; connection slot s belongs to loop
// s mod len.
type pollSet struct {
	loops   []*pollLoop
	clients []*client // by slot
	wg      sync.WaitGroup
}

// pollLoop is one epoll instance and the goroutine that reads its ready
// sockets. The loop never blocks a thread in epoll_wait: it looks with a
// zero timeout and, when nothing is ready, waits for the epoll descriptor
// itself to become readable through Go's poller, parked like any
// goroutine blocked on a socket.
type pollLoop struct {
	epfd int
	f    *os.File // epfd, registered with Go's poller
}

// newPollSet starts one loop per core.
func newPollSet(clients []*client) (*pollSet, error) {
	ps := &pollSet{clients: clients}
	for range max(1, runtime.GOMAXPROCS(0)) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err == nil {
			err = syscall.SetNonblock(fd, true)
		}
		if err != nil {
			ps.close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		l := &pollLoop{epfd: fd, f: os.NewFile(uintptr(fd), "epoll")}
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
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if c.state.Load() != stReady {
		return nil
	}
	c.fd = fd
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

// close stops the loops (after the connections are closed): closing an
// epoll descriptor wakes its parked loop.
func (ps *pollSet) close() {
	for _, l := range ps.loops {
		_ = l.f.Close()
	}
	ps.wg.Wait()
}

func (l *pollLoop) run(clients []*client) {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return
	}
	events := make([]syscall.EpollEvent, 512)
	for {
		var n int
		var werr error
		err := rc.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events, 0)
			return n > 0 || (werr != nil && werr != syscall.EINTR)
		})
		if err != nil || werr != nil {
			return // closed
		}
		for i := range n {
			if s := int(events[i].Fd); s >= 0 && s < len(clients) {
				clients[s].readable()
			}
		}
	}
}

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
