//go:build linux

package session

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// A Poller reads many connections from a few epoll loops, so that an idle
// connection has no goroutine at all (a goroutine parked in a websocket
// read keeps an 8 KiB stack) and no read buffer. When a connection's
// socket has data, the loop starts an activation: a goroutine that reads
// what is there (one read system call where a parked Go reader needs two),
// frames it and hands each message to the Handler in order, then arms the
// socket again and ends. A polled connection's socket is bare: the session
// keeps its descriptor, not Go's connection (socket.go).
type Poller struct {
	loops []*pollLoop
	ids   atomic.Uint64
	stop  chan struct{} // closed by Close: the sweepers end
	wg    sync.WaitGroup
}

type pollLoop struct {
	epfd int
	f    *os.File // epfd, registered with Go's poller

	tick   atomic.Int64  // the sweeper's period, nanoseconds (sweep_linux.go)
	retick chan struct{} // the tick was lowered

	mu    sync.RWMutex
	conns map[uint64]*reader
}

// NewPoller starts n epoll loops.
func NewPoller(n int) (*Poller, error) {
	p := &Poller{stop: make(chan struct{})}
	for range max(1, n) {
		fd, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
		if err == nil {
			if err = syscall.SetNonblock(fd, true); err != nil {
				_ = syscall.Close(fd)
			}
		}
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("epoll: %w", err)
		}
		l := &pollLoop{epfd: fd, f: os.NewFile(uintptr(fd), "epoll"), conns: map[uint64]*reader{}, retick: make(chan struct{}, 1)}
		l.tick.Store(int64(maxSweepTick))
		p.loops = append(p.loops, l)
		p.wg.Add(2)
		go func() {
			defer p.wg.Done()
			l.run()
		}()
		go func() {
			defer p.wg.Done()
			l.sweep(p.stop)
		}()
	}
	return p, nil
}

// Close stops the loops; the connections must have ended.
func (p *Poller) Close() {
	close(p.stop)
	for _, l := range p.loops {
		_ = l.f.Close()
	}
	p.wg.Wait()
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func pollEvent(id uint64) *syscall.EpollEvent {
	return &syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// add registers r, armed for one readiness event. Its socket goes bare
// as it is registered (bareLocked): the writer's lock is held throughout,
// so nothing writes to the socket meanwhile.
func (p *Poller) add(r *reader) error {
	w := &r.c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fd < 0 || w.closed {
		return errors.New("poll: the connection has no file descriptor")
	}
	commit, undo, bare := w.bareLocked()
	r.pollID = p.ids.Add(1)
	r.loop = p.loops[r.pollID%uint64(len(p.loops))]
	r.startDeadlines(r.loop)
	r.loop.mu.Lock()
	r.loop.conns[r.pollID] = r
	r.loop.mu.Unlock()
	if err := syscall.EpollCtl(r.loop.epfd, syscall.EPOLL_CTL_ADD, int(w.fd), pollEvent(r.pollID)); err != nil {
		r.loop.mu.Lock()
		delete(r.loop.conns, r.pollID)
		r.loop.mu.Unlock()
		if bare {
			undo()
		}
		return fmt.Errorf("poll: %w", err)
	}
	if bare {
		commit()
	}
	return nil
}

// rearm arms r for its next readiness event; r.rmu is held.
func (r *reader) rearm() error {
	return syscall.EpollCtl(r.loop.epfd, syscall.EPOLL_CTL_MOD, int(r.c.w.fd), pollEvent(r.pollID))
}

// unregister removes r from its loop, before its socket is closed.
func (r *reader) unregister() {
	_ = syscall.EpollCtl(r.loop.epfd, syscall.EPOLL_CTL_DEL, int(r.c.w.fd), nil)
	r.loop.mu.Lock()
	delete(r.loop.conns, r.pollID)
	r.loop.mu.Unlock()
}

func (l *pollLoop) run() {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return
	}
	events := make([]syscall.EpollEvent, 256)
	ready := make([]*reader, 0, len(events))
	for {
		var n int
		var werr error
		// Look without blocking; when nothing is ready, park until the
		// epoll descriptor is readable, like a goroutine on a socket.
		err := rc.Read(func(fd uintptr) bool {
			n, werr = syscall.EpollWait(int(fd), events, 0)
			return n > 0 || (werr != nil && werr != syscall.EINTR)
		})
		if err != nil || werr != nil {
			return // closed
		}
		ready = ready[:0]
		l.mu.RLock()
		for _, ev := range events[:n] {
			if r := l.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; r != nil {
				ready = append(ready, r)
			}
		}
		l.mu.RUnlock()
		for i, r := range ready {
			r.readable()
			ready[i] = nil
		}
	}
}
