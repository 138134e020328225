//go:build linux

package floor

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// handshakeTimeout bounds one connection's websocket handshake.
const handshakeTimeout = 10 * time.Second

// Server is a running floor fixture. Connections are registered by the
// accepting goroutines and read, answered and closed by one epoll loop
// (loop.go); fan-outs write them from their own goroutines (fanout.go).
type Server struct {
	cfg Config
	ln  net.Listener
	ep  int // the epoll instance of the loop

	mu      sync.Mutex // guards members, rooms, nextSeq
	members map[int32]*member
	rooms   map[string]*room
	nextSeq int32

	fan       *fanout
	done      chan struct{}
	loopWG    sync.WaitGroup
	closeOnce sync.Once
	closeErr  error

	conns, broadcasts, fanOuts, deliveries, writes, backlogged, dropped atomic.Int64
}

// New binds the listener and starts the epoll loop and the fan-out.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("floor: epoll: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		_ = syscall.Close(ep)
		return nil, fmt.Errorf("floor: listen: %w", err)
	}
	s := &Server{cfg: cfg, ln: ln, ep: ep, members: map[int32]*member{}, rooms: map[string]*room{},
		done: make(chan struct{})}
	s.fan = newFanout(s)
	s.loopWG.Add(2)
	go func() { defer s.loopWG.Done(); s.loop() }()
	go func() { defer s.loopWG.Done(); s.fan.run() }()
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{Conns: s.conns.Load(), Broadcasts: s.broadcasts.Load(), FanOuts: s.fanOuts.Load(),
		Deliveries: s.deliveries.Load(), Writes: s.writes.Load(), Backlogged: s.backlogged.Load(),
		Dropped: s.dropped.Load()}
}

// Serve accepts connections until Close.
func (s *Server) Serve() error {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("floor: accept: %w", err)
		}
		go func() {
			if err := s.accept(c); err != nil {
				_ = c.Close()
			}
		}()
	}
}

// Close stops accepting, stops the loop and the fan-out and closes every
// connection. Calls after the first return the first's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.closeErr = s.ln.Close()
		close(s.done)
		s.fan.wakeUp()
		s.loopWG.Wait()
		s.mu.Lock()
		for _, m := range s.members {
			m.close()
		}
		s.members = map[int32]*member{}
		s.mu.Unlock()
		_ = syscall.Close(s.ep)
	})
	return s.closeErr
}

// accept upgrades c and hands a duplicate of its descriptor to the loop;
// c itself is closed.
func (s *Server) accept(c net.Conn) error {
	if s.conns.Load() >= int64(s.cfg.MaxConns) {
		_, _ = io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
		return errors.New("floor: full")
	}
	if err := upgrade(c); err != nil {
		return err
	}
	rc, err := c.(syscall.Conn).SyscallConn()
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	fd := -1
	var derr error
	if err := rc.Control(func(f uintptr) { fd, derr = syscall.Dup(int(f)) }); err != nil || derr != nil {
		return fmt.Errorf("floor: dup: %w", errors.Join(err, derr))
	}
	_ = c.Close()
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		_ = syscall.Close(fd)
		return fmt.Errorf("floor: nonblock: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.done:
		_ = syscall.Close(fd)
		return errors.New("floor: closed")
	default:
	}
	s.nextSeq++
	m := &member{fd: fd, seq: s.nextSeq}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | epollET,
		Fd: int32(fd), Pad: m.seq}
	if err := syscall.EpollCtl(s.ep, syscall.EPOLL_CTL_ADD, fd, &ev); err != nil {
		_ = syscall.Close(fd)
		return fmt.Errorf("floor: epoll add: %w", err)
	}
	s.members[int32(fd)] = m
	s.conns.Add(1)
	return nil
}

// epollET is EPOLLET as the uint32 of EpollEvent.Events.
const epollET = 1 << 31

// upgrade reads the HTTP upgrade request and answers 101. The client sends
// nothing else before the answer, so nothing is left buffered.
func upgrade(c net.Conn) error {
	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	br := bufio.NewReaderSize(c, 4096)
	req, err := http.ReadRequest(br)
	if err != nil {
		return fmt.Errorf("floor: handshake: %w", err)
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") || key == "" || br.Buffered() > 0 {
		_, _ = io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
		return errors.New("floor: not a websocket upgrade")
	}
	sum := sha1.Sum([]byte(key + wsGUID))
	_, err = io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Accept: "+base64.StdEncoding.EncodeToString(sum[:])+"\r\n\r\n")
	if err != nil {
		return fmt.Errorf("floor: handshake: %w", err)
	}
	return c.SetDeadline(time.Time{})
}
