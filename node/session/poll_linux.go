//go:build linux

package session

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fasthttp/websocket"
)

// A Poller reads many connections from a few epoll loops, so that an idle
// connection has no goroutine at all (a goroutine parked in a websocket
// read keeps an 8 KiB stack) and no read buffer. When a connection's
// socket has data, the loop starts an activation: a goroutine that reads
// what is there (one read system call where a parked Go reader needs two),
// frames it and hands each message to the Handler in order, then arms the
// socket again and ends. The sockets stay Go's for everything else:
// writes, deadlines and Close go through net.Conn.
type Poller struct {
	loops []*pollLoop
	ids   atomic.Uint64
	wg    sync.WaitGroup
}

type pollLoop struct {
	epfd int
	f    *os.File // epfd, registered with Go's poller

	mu    sync.RWMutex
	conns map[uint64]*Conn
}

// NewPoller starts n epoll loops.
func NewPoller(n int) (*Poller, error) {
	p := &Poller{}
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
		l := &pollLoop{epfd: fd, f: os.NewFile(uintptr(fd), "epoll"), conns: map[uint64]*Conn{}}
		p.loops = append(p.loops, l)
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			l.run()
		}()
	}
	return p, nil
}

// Close stops the loops; the connections must have ended.
func (p *Poller) Close() {
	for _, l := range p.loops {
		_ = l.f.Close()
	}
	p.wg.Wait()
}

const pollEvents = syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLONESHOT

func pollEvent(id uint64) *syscall.EpollEvent {
	return &syscall.EpollEvent{Events: pollEvents, Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
}

// add registers c, armed for one readiness event.
func (p *Poller) add(c *Conn) error {
	sc, ok := c.raw.(syscall.Conn)
	if !ok {
		return errors.New("poll: the connection has no file descriptor")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	fd := -1
	if err := rc.Control(func(f uintptr) { fd = int(f) }); err != nil {
		return fmt.Errorf("poll: %w", err)
	}
	c.pollID, c.fd = p.ids.Add(1), fd
	c.loop = p.loops[c.pollID%uint64(len(p.loops))]
	c.loop.mu.Lock()
	c.loop.conns[c.pollID] = c
	c.loop.mu.Unlock()
	if err := syscall.EpollCtl(c.loop.epfd, syscall.EPOLL_CTL_ADD, fd, pollEvent(c.pollID)); err != nil {
		c.loop.mu.Lock()
		delete(c.loop.conns, c.pollID)
		c.loop.mu.Unlock()
		return fmt.Errorf("poll: %w", err)
	}
	return nil
}

// rearm arms c for its next readiness event; c.rmu is held.
func (c *Conn) rearm() error {
	return syscall.EpollCtl(c.loop.epfd, syscall.EPOLL_CTL_MOD, c.fd, pollEvent(c.pollID))
}

// unregister removes c from its loop, before its socket is closed.
func (c *Conn) unregister() {
	_ = syscall.EpollCtl(c.loop.epfd, syscall.EPOLL_CTL_DEL, c.fd, nil)
	c.loop.mu.Lock()
	delete(c.loop.conns, c.pollID)
	c.loop.mu.Unlock()
}

func (l *pollLoop) run() {
	rc, err := l.f.SyscallConn()
	if err != nil {
		return
	}
	events := make([]syscall.EpollEvent, 256)
	ready := make([]*Conn, 0, len(events))
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
			if c := l.conns[uint64(uint32(ev.Fd))|uint64(uint32(ev.Pad))<<32]; c != nil {
				ready = append(ready, c)
			}
		}
		l.mu.RUnlock()
		for i, c := range ready {
			c.readable()
			ready[i] = nil
		}
	}
}

// Start serves the connection like Serve but returns at once; done is
// called after h.Closed. With a Poller the connection is read by
// activations; without one (or when it cannot be polled), by a goroutine
// of its own.
func (c *Conn) Start(h Handler, p *Poller, done func()) {
	if p == nil {
		go func() {
			c.Serve(h)
			done()
		}()
		return
	}
	c.h, c.onDone = h, done
	c.idle = time.AfterFunc(2*c.cfg.PingInterval, func() {
		c.Close(CloseNormal, "")
		c.teardown()
	})
	c.auth = time.AfterFunc(c.cfg.AuthTimeout, func() {
		if !c.authed.Load() {
			c.Close(ClosePolicy, "authentication timeout")
		}
	})
	c.mu.Lock()
	c.pinger = time.AfterFunc(c.cfg.PingInterval, c.ping)
	c.mu.Unlock()
	if err := p.add(c); err != nil {
		c.idle.Stop()
		c.auth.Stop()
		c.mu.Lock()
		c.pinger.Stop()
		c.mu.Unlock()
		c.h = nil
		go func() {
			c.Serve(h)
			done()
		}()
		return
	}
	c.polled.Store(true)
	if c.isClosing() { // closed before it started (a server shutting down)
		time.AfterFunc(closeGrace, c.teardown)
	}
}

// closeGrace is how long a closed connection waits for its peer's close
// frame before its socket is closed.
const closeGrace = 2 * time.Second

// closed is called once by Close.
func (c *Conn) closed() {
	if c.polled.Load() {
		time.AfterFunc(closeGrace, c.teardown)
	}
}

// readable is the loop's call: the socket has data (or was closed).
func (c *Conn) readable() {
	c.rmu.Lock()
	if c.reading || c.ended {
		c.rmu.Unlock()
		return
	}
	c.reading = true
	c.rmu.Unlock()
	go c.activate()
}

// readBufSize is an activation's read buffer, from a pool: a connection
// holds no buffer between activations (only the bytes of a frame that
// was cut, in partial).
const readBufSize = 4096

var readBufs = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// activate reads what the socket holds, hands the complete messages to the
// handler, and arms the socket again — or ends the connection.
func (c *Conn) activate() {
	c.cork()
	bp := readBufs.Get().(*[]byte)
	buf := append((*bp)[:0], c.partial...)
	c.partial = nil
	r, need, end := 0, 0, false
	for !end {
		if len(buf) == cap(buf) || need > cap(buf)-r {
			n := copy(buf, buf[r:])
			buf, r = buf[:n], 0
			if len(buf) == cap(buf) || need > cap(buf) {
				nb := make([]byte, len(buf), max(need, 2*cap(buf)))
				copy(nb, buf)
				buf = nb
			}
		}
		n, err := syscall.Read(c.fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EAGAIN {
			break
		}
		if err != nil || n <= 0 {
			end = true
			break
		}
		buf = buf[:len(buf)+n]
		c.idle.Reset(2 * c.cfg.PingInterval) // anything the peer sends keeps it alive
		for !end {
			f, used, nd, perr := parseFrame(buf[r:], c.cfg.MaxFrameBytes)
			if perr != nil {
				c.failRead(perr)
				end = true
				break
			}
			if nd > 0 {
				need = nd
				break
			}
			r, need = r+used, 0
			end = !c.onFrame(f)
		}
		if r == len(buf) {
			buf, r = buf[:0], 0
		}
	}
	if !end && r < len(buf) {
		c.partial = bytes.Clone(buf[r:])
	}
	readBufs.Put(bp)
	c.uncork()
	c.rmu.Lock()
	c.reading = false
	if end {
		c.ended = true
	}
	if c.ended {
		c.rmu.Unlock()
		c.finishTeardown()
		return
	}
	if err := c.rearm(); err != nil {
		c.ended = true
		c.rmu.Unlock()
		c.finishTeardown()
		return
	}
	c.rmu.Unlock()
}

// failRead closes the connection for a frame it cannot read.
func (c *Conn) failRead(err error) {
	if errors.Is(err, errTooBig) {
		c.Close(CloseTooBig, "frame too big")
		return
	}
	c.Close(websocket.CloseProtocolError, "protocol error")
}

// onFrame handles one frame; false means the connection ends.
func (c *Conn) onFrame(f clientFrame) bool {
	switch f.op {
	case opPing:
		c.sendPong(f.payload)
		return true
	case opPong:
		return true
	case opClose:
		c.Close(CloseNormal, "")
		return false
	case opText, opBinary:
		if c.fragmented {
			c.failRead(errProtocol)
			return false
		}
		if f.fin {
			c.deliver(bytes.Clone(f.payload))
			return true
		}
		c.fragmented = true
		c.msg = append(c.msg[:0], f.payload...)
		return true
	}
	// opContinuation
	if !c.fragmented {
		c.failRead(errProtocol)
		return false
	}
	if len(c.msg)+len(f.payload) > c.cfg.MaxFrameBytes {
		c.failRead(errTooBig)
		return false
	}
	c.msg = append(c.msg, f.payload...)
	if f.fin {
		m := c.msg
		c.msg, c.fragmented = nil, false
		c.deliver(m)
	}
	return true
}

// deliver hands a message to the handler unless the connection is closing
// (frames after Close are drained and ignored, as Serve does).
func (c *Conn) deliver(msg []byte) {
	if !c.isClosing() {
		c.h.HandleFrame(c, msg)
	}
}

// teardown ends a closed connection: at once when no activation runs,
// else when the running one ends.
func (c *Conn) teardown() {
	c.rmu.Lock()
	if c.ended {
		c.rmu.Unlock()
		return
	}
	c.ended = true
	busy := c.reading
	c.rmu.Unlock()
	if !busy {
		c.finishTeardown()
	}
}

// finishTeardown is Serve's end for a polled connection: the writer
// finishes (close frame), the handler is told, the socket closed.
func (c *Conn) finishTeardown() {
	c.teardownOnce.Do(func() {
		// No activation runs or will: ended is set, so the socket is
		// never armed again.
		c.unregister()
		c.Close(CloseNormal, "")
		<-c.done
		c.idle.Stop()
		c.auth.Stop()
		c.h.Closed(c)
		_ = c.ws.Close()
		c.onDone()
	})
}
