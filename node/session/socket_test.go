//go:build linux

package session

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/roomring/roomring/internal/testkit"
)

// started is a connection a test server started: the session, Go's TCP
// connection under it, and done, closed after its handler's Closed.
type started struct {
	c    *Conn
	raw  net.Conn
	done chan struct{}
}

// serveStarted runs a websocket server whose connections h serves, read
// by a Poller (polled) or by a goroutine each, and hands each one to the
// returned channel once it is started.
func serveStarted(t *testing.T, cfg *Config, hooks *Hooks, h Handler, polled bool) (string, <-chan started) {
	t.Helper()
	var p *Poller
	if polled {
		p = testPoller(t, 2)
	}
	conns := make(chan started, 64)
	addr := serveWS(t, func(ws *websocket.Conn) {
		raw := ws.UnderlyingConn().(interface{ UnsafeConn() net.Conn }).UnsafeConn()
		s := started{c: New(ws, cfg, hooks), raw: raw, done: make(chan struct{})}
		s.c.Start(h, p, func() { close(s.done) })
		conns <- s
	})
	return addr, conns
}

// next is the next connection the server started.
func next(t *testing.T, conns <-chan started) started {
	t.Helper()
	select {
	case s := <-conns:
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("the server started no connection")
		return started{}
	}
}

// waitDone waits for a connection's end.
func waitDone(t *testing.T, s started, what string) {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the connection did not end", what)
	}
}

// socketState is a connection's socket as the writer holds it.
func socketState(c *Conn) (raw net.Conn, file *os.File, fd int32, closed bool) {
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.w.raw, c.w.file, c.w.fd, c.w.closed
}

// smallReceiver dials addr with a 4 KiB receive buffer: a client whose
// socket fills at once when it does not read.
func smallReceiver(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}}
		return nd.DialContext(ctx, network, addr)
	}}
	ws, _, err := d.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// TestBareSocket: once polled, a connection's Go socket is closed and the
// session writes to its bare descriptor — a broadcast directly, and, when
// the client stops reading, through the writer, which hands the descriptor
// to Go's poller once and waits there; every frame arrives whole and in
// order, and the client's close ends the connection.
func TestBareSocket(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WriteQueueLen, cfg.WriteQueueBytes = 1<<12, 1<<30
	cfg.WriteTimeout = 10 * time.Minute // not under test: a loaded machine reads 16 MB slowly
	addr, conns := serveStarted(t, &cfg, nil, &echoHandler{closed: make(chan struct{})}, true)
	ws := smallReceiver(t, addr)
	s := next(t, conns)
	if err := s.raw.SetReadDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Go's connection after Start: %v, want it closed", err)
	}
	if raw, file, fd, closed := socketState(s.c); raw != nil || file != nil || fd < 0 || closed {
		t.Fatalf("socket after Start: raw %v, file %v, fd %d, closed %v; want a bare descriptor", raw, file, fd, closed)
	}

	s.c.Push([]byte("broadcast"))
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "broadcast" {
		t.Fatalf("broadcast: %q, %v", got, err)
	}
	if _, file, _, _ := socketState(s.c); file != nil {
		t.Fatal("a write that fit handed the descriptor over")
	}

	// 16 MiB the client does not read yet: the socket fills, the writer
	// takes over and waits in Go's poller.
	frames := make([][]byte, 128)
	for i := range frames {
		frames[i] = bytes.Repeat([]byte{byte(i)}, 128<<10)
		s.c.Push(frames[i])
	}
	testkit.Eventually(t, 10*time.Second, "the writer to hand the descriptor over", func() bool {
		_, file, _, _ := socketState(s.c)
		return file != nil
	})
	_ = ws.SetReadDeadline(time.Now().Add(60 * time.Second))
	for i, want := range frames {
		if _, got, err := ws.ReadMessage(); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %d bytes, %v; want %d bytes of %d", i, len(got), err, len(want), i)
		}
	}
	s.c.Push([]byte("after")) // directly again, on the handed-over descriptor
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "after" {
		t.Fatalf("after the hand-over: %q, %v", got, err)
	}
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("after the client's close: %v, want a 1000 close", err)
	}
	waitDone(t, s, "client's close")
	if _, _, _, closed := socketState(s.c); !closed {
		t.Fatal("the socket is not closed at the end")
	}
}

// slowCase is a way to become a slow consumer: the write queue overflows,
// or a queued frame misses the write timeout.
type slowCase struct {
	name  string
	cfg   func(*Config)
	limit int // frames pushed at most (0: until closing)
}

var slowCases = []slowCase{
	{"queue full", func(c *Config) { c.WriteQueueLen, c.WriteTimeout = 4, 10*time.Minute }, 0},
	{"write timeout", func(c *Config) {
		c.WriteQueueLen, c.WriteQueueBytes, c.WriteTimeout = 1<<12, 1<<30, 200*time.Millisecond
	}, 256},
}

// slowConsumer has the server push 64 KiB frames to a client that never
// reads until the session closes it as a slow consumer — limit frames at
// most; with none, the writer is made to wait on the full socket first,
// then the queue overflows — and returns the connection and its client.
func slowConsumer(t *testing.T, addr string, conns <-chan started, limit int) (started, *websocket.Conn) {
	t.Helper()
	ws := smallReceiver(t, addr)
	s := next(t, conns)
	frame := bytes.Repeat([]byte("s"), 64<<10)
	closing := s.c.Closing()
	if limit == 0 {
		// Fill the socket until the writer takes what it did not take and
		// waits on it, with the write timeout: only the drop can end that
		// wait early.
		for s.c.w.pending.Load() == 0 {
			s.c.Push(frame)
		}
		testkit.Eventually(t, 10*time.Second, "the writer to take the frames", func() bool {
			s.c.w.mu.Lock()
			defer s.c.w.mu.Unlock()
			return s.c.w.writing && len(s.c.w.queue) == 0 && s.c.w.rest == nil
		})
	}
	for i := 0; limit == 0 || i < limit; i++ {
		select {
		case <-closing:
			return s, ws
		default:
		}
		s.c.Push(frame)
	}
	<-closing
	return s, ws
}

// TestSlowConsumerDropped: a client that never reads is closed as a slow
// consumer (1008) — its write queue full, or a frame past the write
// timeout — whether it is polled or read by a goroutine: its socket is
// dropped after the short grace (not after the write timeout of the
// writer waiting on it: ten minutes in the first case) and closed; the
// client finds the end once it reads what was sent.
func TestSlowConsumerDropped(t *testing.T) {
	for _, polled := range []bool{true, false} {
		for _, tc := range slowCases {
			t.Run(fmt.Sprintf("%s/polled=%v", tc.name, polled), func(t *testing.T) {
				cfg := DefaultConfig()
				tc.cfg(&cfg)
				var slow atomic.Int32
				hooks := &Hooks{SlowConsumer: func() { slow.Add(1) }}
				addr, conns := serveStarted(t, &cfg, hooks, nopHandler{}, polled)
				s, ws := slowConsumer(t, addr, conns, tc.limit)
				waitDone(t, s, "slow consumer")
				if n := slow.Load(); n != 1 || s.c.life.code.Load() != ClosePolicy {
					t.Fatalf("slow consumer hooks %d, close code %d; want 1 and 1008", n, s.c.life.code.Load())
				}
				if _, _, _, closed := socketState(s.c); !closed {
					t.Fatal("the socket is not closed at the end")
				}
				// Whatever the socket held, then the end: a 1008 close frame
				// (if it fitted before the drop), EOF or a reset; not a
				// connection left open.
				_ = ws.SetReadDeadline(time.Now().Add(20 * time.Second))
				var err error
				for err == nil {
					_, _, err = ws.ReadMessage()
				}
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the slow consumer's connection is still open: %v", err)
				}
				var ce *websocket.CloseError // 1006: the library's EOF
				if errors.As(err, &ce) && ce.Code != ClosePolicy && ce.Code != websocket.CloseAbnormalClosure {
					t.Fatalf("closed with %d, want 1008", ce.Code)
				}
			})
		}
	}
}

// openFDs counts the process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd:", err)
	}
	return len(ents)
}

// TestDescriptorsReleased: connections that end every way — a slow
// consumer dropped, a socket handed over to Go's poller, a close by the
// server, one by the client — leave no descriptor open, polled or not.
func TestDescriptorsReleased(t *testing.T) {
	for _, polled := range []bool{true, false} {
		t.Run(fmt.Sprintf("polled=%v", polled), func(t *testing.T) {
			cfg := DefaultConfig()
			slowCases[0].cfg(&cfg)
			addr, conns := serveStarted(t, &cfg, nil, nopHandler{}, polled)
			before := openFDs(t)
			for range 20 {
				s, ws := slowConsumer(t, addr, conns, 0)
				waitDone(t, s, "slow consumer")
				_ = ws.Close()

				ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
				if err != nil {
					t.Fatal(err)
				}
				s = next(t, conns)
				s.c.Close(CloseNormal, "bye")
				_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
				if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, CloseNormal) {
					t.Fatalf("server's close: %v", err)
				}
				waitDone(t, s, "server's close") // the client library answered the close
				_ = ws.Close()

				ws, _, err = websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
				if err != nil {
					t.Fatal(err)
				}
				s = next(t, conns)
				_ = ws.Close() // no close frame: the reader finds EOF
				waitDone(t, s, "client's disconnect")
			}
			testkit.Eventually(t, 10*time.Second, fmt.Sprintf("the descriptors to be closed (%d open before)", before), func() bool {
				return openFDs(t) <= before
			})
		})
	}
}

// occupy opens socket pairs until one end has the descriptor number fd:
// what a write to that number would now reach. It returns the pairs'
// descriptors and which of them is fd (-1: none got it — another part of
// the process took the number).
func occupy(t *testing.T, fd int32) ([]int, int) {
	t.Helper()
	var fds []int
	t.Cleanup(func() {
		for _, f := range fds {
			_ = syscall.Close(f)
		}
	})
	for range 64 {
		p, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, p[0], p[1])
		for i, f := range p {
			if f == int(fd) {
				return fds, len(fds) - 2 + i
			}
		}
	}
	return fds, -1
}

// TestCloseRacesDirectWrites: goroutines push to a connection while it
// closes, and go on pushing after its descriptor was closed and its number
// handed out again: no write reaches the new holder of the number, and
// the race detector sees the writes and the close ordered. Polled (a bare
// descriptor) and read by a goroutine (Go's, borrowed for direct writes).
func TestCloseRacesDirectWrites(t *testing.T) {
	for _, polled := range []bool{true, false} {
		t.Run(fmt.Sprintf("polled=%v", polled), func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.WriteQueueLen = 1 << 16 // the client reads everything: nobody is slow
			addr, conns := serveStarted(t, &cfg, nil, nopHandler{}, polled)
			ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			s := next(t, conns)
			_, _, fd, _ := socketState(s.c)
			go func() { // the client reads until the close, and answers it (the library)
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
			const senders = 8
			var pushes [senders]atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for g := range senders {
				wg.Go(func() {
					frame := fmt.Appendf(nil, "frame of sender %d", g)
					for {
						select {
						case <-stop:
							return
						default:
						}
						s.c.Push(frame)
						pushes[g].Add(1)
					}
				})
			}
			defer func() { close(stop); wg.Wait() }()
			// each sender made at least n pushes since counts
			pushedSince := func(counts []int64, n int64) func() bool {
				return func() bool {
					for g := range senders {
						if pushes[g].Load() < counts[g]+n {
							return false
						}
					}
					return true
				}
			}
			snapshot := func() []int64 {
				c := make([]int64, senders)
				for g := range senders {
					c[g] = pushes[g].Load()
				}
				return c
			}
			testkit.Eventually(t, 10*time.Second, "the senders to start", pushedSince(make([]int64, senders), 100))
			s.c.Close(CloseNormal, "bye")
			waitDone(t, s, "close")
			fds, at := occupy(t, fd)
			testkit.Eventually(t, 10*time.Second, "the senders to push after the close", pushedSince(snapshot(), 1000))
			if at < 0 {
				t.Logf("descriptor %d was taken by another part of the process: the reuse not checked", fd)
				return
			}
			buf := make([]byte, 64)
			for _, f := range fds {
				if n, err := syscall.Read(f, buf); err != syscall.EAGAIN {
					t.Fatalf("descriptor %d (the connection's was %d): read %d bytes %q, %v; want nothing written", f, fd, n, buf[:max(n, 0)], err)
				}
			}
		})
	}
}
