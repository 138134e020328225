//go:build linux

package session

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// authingHandler marks its connection authenticated on the frame "auth";
// it records whether the connection kept the websocket library's.
type authingHandler struct {
	echoHandler
	keptLibrary atomic.Bool
}

func (h *authingHandler) HandleFrame(c Transport, frame []byte) {
	if string(frame) == "auth" {
		c.MarkAuthenticated()
	}
	if c.(*Conn).ws != nil {
		h.keptLibrary.Store(true)
	}
	h.echoHandler.HandleFrame(c, frame)
}

// TestPolledDeadlines: a polled connection lets the websocket library's
// connection go and frames its pings, pongs and close frames itself; the
// sweeper keeps its three deadlines on one Poller — an unauthenticated
// connection is closed with 1008 at the authentication deadline; an
// authenticated one is not, is pinged again and again, and (answering the
// pings) outlives the idle deadline; a peer that answers nothing is
// dropped.
//
// Long: one scenario on one Poller, the three deadlines side by side.
func TestPolledDeadlines(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("epoll is Linux only")
	}
	cfg := DefaultConfig()
	// The authentication deadline comes well before the idle one (two
	// intervals), so the lazy client's close is the deadline's, and a
	// loaded machine has a second to deliver a pong.
	cfg.PingInterval = 500 * time.Millisecond
	cfg.AuthTimeout = 300 * time.Millisecond
	p := testPoller(t, 1)
	handlers := make(chan *authingHandler, 3)
	addr := serveWS(t, func(ws *websocket.Conn) {
		h := &authingHandler{echoHandler: echoHandler{closed: make(chan struct{})}}
		handlers <- h
		New(ws, &cfg, nil).Start(h, p, func() {})
	})

	// The authenticated client answers pings (the library's default) and
	// counts them.
	_, authed := dialRaw(t, addr)
	hAuthed := <-handlers
	pings := make(chan struct{}, 1000)
	authed.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return authed.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	if err := authed.WriteMessage(websocket.TextMessage, []byte("auth")); err != nil {
		t.Fatal(err)
	}
	authedErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := authed.ReadMessage(); err != nil {
				authedErr <- err
				return
			}
		}
	}()

	// The lazy one never authenticates, though it answers pings.
	_, lazy := dialRaw(t, addr)
	<-handlers
	_ = lazy.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := lazy.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, ClosePolicy) {
			t.Fatalf("unauthenticated: %v, want close %d", err, ClosePolicy)
		}
		break
	}

	// The authenticated one, past its authentication deadline, gets pings
	// well beyond two intervals (the idle deadline) and stays open.
	for range 5 { // five intervals: the idle deadline (two) renewed by pongs
		select {
		case <-pings:
		case err := <-authedErr:
			t.Fatalf("authenticated connection ended: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("no keep-alive ping")
		}
	}
	select {
	case <-hAuthed.closed:
		t.Fatal("the authenticated connection was closed")
	default:
	}
	if hAuthed.keptLibrary.Load() {
		t.Error("a polled connection kept the websocket library's connection")
	}

	// A peer that answers nothing, once authenticated, is dropped as idle.
	_, mute := dialRaw(t, addr)
	hMute := <-handlers
	if err := mute.WriteMessage(websocket.TextMessage, []byte("auth")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-hMute.closed:
	case <-time.After(10 * time.Second):
		t.Fatal("a silent connection was not dropped")
	}
}

func TestSweepTick(t *testing.T) {
	for _, tc := range []struct{ ping, auth, want time.Duration }{
		{25 * time.Second, 30 * time.Second, time.Second},
		{5 * time.Second, 2 * time.Second, 200 * time.Millisecond},
		{time.Millisecond, time.Second, 10 * time.Millisecond},
	} {
		if got := sweepTick(&Config{PingInterval: tc.ping, AuthTimeout: tc.auth}); got != tc.want {
			t.Errorf("sweepTick(%v, %v) = %v, want %v", tc.ping, tc.auth, got, tc.want)
		}
	}
}
