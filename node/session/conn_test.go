package session

import (
	"bytes"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

type nopHandler struct{}

func (nopHandler) HandleFrame(Transport, []byte) {}
func (nopHandler) RateLimited(Transport, []byte) {}
func (nopHandler) Closed(Transport)              {}

// serveWS runs a websocket server that hands each upgraded connection to
// start, and returns its address; it is shut down when the test ends.
func serveWS(t testing.TB, start func(ws *websocket.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	up := websocket.FastHTTPUpgrader{ReadBufferSize: 1024, WriteBufferSize: 4096, WriteBufferPool: &sync.Pool{}}
	srv := &fasthttp.Server{ReduceMemoryUsage: true, KeepHijackedConns: true, Handler: func(ctx *fasthttp.RequestCtx) {
		_ = up.Upgrade(ctx, start)
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return ln.Addr().String()
}

// serve runs a websocket server whose connections get frames queued by
// send before they are served, and returns its address.
func serve(t *testing.T, cfg *Config, send func(c *Conn)) string {
	t.Helper()
	return serveWS(t, func(ws *websocket.Conn) {
		c := New(ws, cfg, nil)
		send(c)
		go c.Serve(nopHandler{})
	})
}

// TestFramesOfEverySize: frames written by the session's own framing
// (several in one vectored write) reach a websocket client intact and in
// order, across the 7-bit, 16-bit and 64-bit length encodings.
func TestFramesOfEverySize(t *testing.T) {
	sizes := []int{0, 1, 125, 126, 127, 65535, 65536, 200_000}
	var frames [][]byte
	for i := range 3 * maxWriteBatch { // more than one batch
		n := sizes[i%len(sizes)]
		frames = append(frames, []byte(strings.Repeat(string(rune('a'+i%26)), n)))
	}
	cfg := DefaultConfig()
	cfg.WriteQueueLen = len(frames)
	cfg.WriteQueueBytes = 1 << 30
	addr := serve(t, &cfg, func(c *Conn) {
		for _, f := range frames {
			c.Send(f)
		}
	})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for i, want := range frames {
		mt, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if mt != websocket.TextMessage || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: type %d, %d bytes, want text of %d", i, mt, len(got), len(want))
		}
	}
}

// TestCloseOnce: the first close decides the code and reason; later ones
// (a handler's, the reader's end) do nothing; Closing is closed, whether
// it was asked for before the close or after.
func TestCloseOnce(t *testing.T) {
	cfg := DefaultConfig()
	closing := make(chan (<-chan struct{}), 2)
	addr := serve(t, &cfg, func(c *Conn) {
		before := c.Closing()
		select {
		case <-before:
			t.Error("Closing closed before Close")
		default:
		}
		c.Close(ClosePolicy, "first")
		c.Close(CloseNormal, "second")
		closing <- before
		closing <- c.Closing()
	})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != ClosePolicy || ce.Text != "first" {
		t.Fatalf("got %v, want the first close (1008 first)", err)
	}
	for range 2 {
		select {
		case <-<-closing:
		default:
			t.Error("Closing not closed after Close")
		}
	}
}

// TestConnSize: a connection's state is one object of the allocator's
// 448-byte size class (docs/benchmarks.md, idle memory); a field that
// pushes it over costs every idle connection 32 bytes more.
func TestConnSize(t *testing.T) {
	if unsafe.Sizeof(uintptr(0)) != 8 {
		t.Skip("sizes are of 64-bit platforms")
	}
	if n := unsafe.Sizeof(Conn{}); n > 448 {
		t.Errorf("session.Conn is %d bytes, over the 448-byte size class", n)
	}
}

// TestAbandon: a connection that is never started (a server draining)
// writes what was sent and the close frame, and closes its socket, once
// Abandon returns.
func TestAbandon(t *testing.T) {
	cfg := DefaultConfig()
	abandoned := make(chan error, 1)
	addr := serveWS(t, func(ws *websocket.Conn) {
		raw := ws.UnderlyingConn().(interface{ UnsafeConn() net.Conn }).UnsafeConn()
		c := New(ws, &cfg, nil)
		c.Send([]byte("hello"))
		c.Abandon(CloseGoingAway, "server shutting down")
		abandoned <- raw.SetReadDeadline(time.Time{})
	})
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "hello" {
		t.Fatalf("before the close: %q, %v", got, err)
	}
	_, _, err = ws.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != CloseGoingAway || ce.Text != "server shutting down" {
		t.Fatalf("got %v, want 1001 server shutting down", err)
	}
	select {
	case err := <-abandoned:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("the socket after Abandon: %v, want closed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Abandon did not return")
	}
}
