package session

import (
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/roomring/roomring/node/wsframe"
)

// maskedFrame is a client frame.
func maskedFrame(fin bool, op byte, payload []byte) []byte {
	return wsframe.AppendFrame(nil, wsframe.Header{Fin: fin, Op: op, Masked: true, Key: [4]byte{1, 2, 3, 4}}, payload)
}

// The frame parser's tests (TestParse) are in node/wsframe.

// echoHandler echoes each message and records the order of events.
type echoHandler struct {
	mu     sync.Mutex
	frames []string
	closed chan struct{}
}

func (h *echoHandler) HandleFrame(c Transport, frame []byte) {
	h.mu.Lock()
	h.frames = append(h.frames, string(frame))
	h.mu.Unlock()
	c.Send(frame)
}

func (h *echoHandler) RateLimited(Transport, []byte) {}
func (h *echoHandler) Closed(Transport)              { close(h.closed) }

// testPoller starts a Poller of n loops for the test; it closes after
// the test's servers started later (cleanups run last first). Without
// epoll the test is skipped — on Linux it fails.
func testPoller(tb testing.TB, n int) *Poller {
	tb.Helper()
	p, err := NewPoller(n)
	if err != nil {
		if runtime.GOOS == "linux" {
			tb.Fatal("epoll:", err)
		}
		tb.Skip("no epoll:", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// servePolled runs a websocket server whose connections a Poller reads.
func servePolled(t *testing.T, cfg *Config, h *echoHandler, done chan struct{}) string {
	t.Helper()
	p := testPoller(t, 2)
	return serveWS(t, func(ws *websocket.Conn) {
		New(ws, cfg, nil).Start(h, p, func() { close(done) })
	})
}

// TestPolledConnection: messages (whole, fragmented, large, between pings)
// reach the handler in order and their answers come back; a client's close
// ends the connection: the handler's Closed, then done.
func TestPolledConnection(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("epoll is Linux only")
	}
	cfg := DefaultConfig()
	h := &echoHandler{closed: make(chan struct{})}
	done := make(chan struct{})
	addr := servePolled(t, &cfg, h, done)
	conn, ws := dialRaw(t, addr)
	large := strings.Repeat("z", 40_000)
	// Raw frames, written in pieces that cut headers and payloads.
	var raw []byte
	raw = append(raw, maskedFrame(true, wsframe.OpText, []byte("one"))...)
	raw = append(raw, maskedFrame(false, wsframe.OpText, []byte("tw"))...)
	raw = append(raw, maskedFrame(true, wsframe.OpPing, []byte("p"))...)
	raw = append(raw, maskedFrame(true, wsframe.OpContinuation, []byte("o"))...)
	raw = append(raw, maskedFrame(true, wsframe.OpText, []byte(large))...)
	for len(raw) > 0 {
		n := min(len(raw), 777)
		if _, err := conn.Write(raw[:n]); err != nil {
			t.Fatal(err)
		}
		raw = raw[n:]
	}
	gotPong := make(chan struct{}, 1)
	ws.SetPongHandler(func(string) error { gotPong <- struct{}{}; return nil })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for _, want := range []string{"one", "two", large} {
		_, got, err := ws.ReadMessage()
		if err != nil || string(got) != want {
			t.Fatalf("echo %.20q, %v; want %.20q", got, err, want)
		}
	}
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after the client's close: %v, want a 1000 close", err)
	}
	// The writer sends the pong among the echoes, at the latest before
	// the close reply.
	select {
	case <-gotPong:
	default:
		t.Error("no pong for the ping")
	}
	select {
	case <-h.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("handler not told of the end")
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("done not called")
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.frames) != 3 {
		t.Errorf("handler got %d messages, want 3", len(h.frames))
	}
}

// TestPolledIdleAndTooBig: a silent connection is closed after twice the
// ping interval; an oversized frame closes with 1009.
func TestPolledIdleAndTooBig(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("epoll is Linux only")
	}
	cfg := DefaultConfig()
	cfg.PingInterval = 100 * time.Millisecond
	cfg.MaxFrameBytes = 1024
	for _, tc := range []struct {
		name string
		send []byte
		code int
	}{
		{"too big", maskedFrame(true, wsframe.OpText, make([]byte, 2000)), CloseTooBig},
		{"unmasked", []byte{0x81, 0x01, 'x'}, websocket.CloseProtocolError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := &echoHandler{closed: make(chan struct{})}
			addr := servePolled(t, &cfg, h, make(chan struct{}))
			conn, ws := dialRaw(t, addr)
			if _, err := conn.Write(tc.send); err != nil {
				t.Fatal(err)
			}
			_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				_, _, err := ws.ReadMessage()
				if err == nil {
					continue
				}
				if !websocket.IsCloseError(err, tc.code) {
					t.Fatalf("got %v, want close %d", err, tc.code)
				}
				break
			}
			<-h.closed
		})
	}
	t.Run("idle", func(t *testing.T) {
		h := &echoHandler{closed: make(chan struct{})}
		addr := servePolled(t, &cfg, h, make(chan struct{}))
		ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.SetPingHandler(func(string) error { return nil }) // a peer that never answers
		select {
		case <-h.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("an idle connection was not closed")
		}
	})
}

// dialRaw opens a websocket to addr and returns its TCP connection too,
// for writing raw frames; both close when the test ends.
func dialRaw(t *testing.T, addr string) (net.Conn, *websocket.Conn) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ws, _, err := websocket.NewClient(conn, mustURL("ws://"+addr+"/"), nil, 1024, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return conn, ws
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// authHandler marks the connection authenticated on its first frame and
// reports, from the reading side, whether the deadline was lifted.
type authHandler struct {
	echoHandler
	released chan bool
}

func (h *authHandler) HandleFrame(c Transport, frame []byte) {
	c.MarkAuthenticated()
	h.released <- c.(*Conn).r.dl.authAt.Load() == 0
	h.echoHandler.HandleFrame(c, frame)
}

// TestPolledAuthenticatedReleasesDeadline: once authenticated, a polled
// connection has no authentication deadline left for the sweeper.
func TestPolledAuthenticatedReleasesDeadline(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("epoll is Linux only")
	}
	cfg := DefaultConfig()
	h := &authHandler{echoHandler: echoHandler{closed: make(chan struct{})}, released: make(chan bool, 1)}
	p := testPoller(t, 1)
	addr := serveWS(t, func(ws *websocket.Conn) { New(ws, &cfg, nil).Start(h, p, func() {}) })
	_, ws := dialRaw(t, addr)
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hello")); err != nil {
		t.Fatal(err)
	}
	select {
	case released := <-h.released:
		if !released {
			t.Error("the authentication deadline is still set after MarkAuthenticated")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the frame never reached the handler")
	}
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "hello" {
		t.Fatalf("echo %q, %v", got, err)
	}
}
