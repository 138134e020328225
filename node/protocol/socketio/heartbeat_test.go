package socketio_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

func fastHeartbeat(t *testing.T) *nodetest.Node {
	cfg := nodetest.Config(t, "")
	cfg.SocketIO.PingInterval = 100 * time.Millisecond
	cfg.SocketIO.PingTimeout = 400 * time.Millisecond
	return nodetest.Start(t, cfg)
}

// TestHeartbeatKeepsRealClientsConnected runs several heartbeat cycles in
// each Engine.IO direction (2.x pings the server, the server pings 4.x)
// with the real clients and checks they stay connected and usable.
func TestHeartbeatKeepsRealClientsConnected(t *testing.T) {
	n := fastHeartbeat(t)
	a := sioagent.StartOrSkip(t)
	for _, v := range versions {
		c := connected(t, a, n, fmt.Sprintf("hb%d", v), v, fmt.Sprintf("hb%d", v), nil, profile("H", "B", nil))
		for range 4 {
			c.Event("heartbeat")
		}
		c.ok("room:join", map[string]any{"room": "room_1"})
		if c.Has("disconnect") {
			t.Fatalf("v%d disconnected during heartbeats", v)
		}
	}
}

// rawDial opens a bare websocket to the Socket.IO endpoint. It is used only
// to misbehave (stay silent) in ways the real clients cannot be made to.
func rawDial(t *testing.T, n *nodetest.Node, eio int) *websocket.Conn {
	t.Helper()
	tok := nodetest.Token(t, "silent", nil, nil)
	url := fmt.Sprintf("ws://%s/socket/?EIO=%d&transport=websocket&sessionId=%s", n.Addr(), eio, tok)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

// readUntilClosed reads frames until the server closes the socket with a
// close frame whose reason contains want, and returns them.
func readUntilClosed(t *testing.T, ws *websocket.Conn, want string) []string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	var got []string
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server did not close a silent connection; frames: %q", got)
			}
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || !strings.Contains(ce.Text, want) {
				t.Fatalf("closed with %v, want a close frame saying %q", err, want)
			}
			return got
		}
		got = append(got, string(b))
	}
}

func TestSilentClientsAreClosed(t *testing.T) {
	n := fastHeartbeat(t)
	t.Run("EIO4 without pong", func(t *testing.T) {
		ws := rawDial(t, n, 4)
		if err := ws.WriteMessage(websocket.TextMessage, []byte("40")); err != nil {
			t.Fatal(err)
		}
		got := readUntilClosed(t, ws, "pong timeout")
		if len(got) < 4 || got[0][0] != '0' || !strings.HasPrefix(got[1], `40{"sid":`) ||
			!strings.HasPrefix(got[2], `42["user_info"`) || got[3] != "2" {
			t.Fatalf("frames %q: want open, connect, user_info, ping", got)
		}
		for _, f := range got[4:] {
			if f == "2" {
				t.Fatalf("the server pinged again without a pong: %q", got)
			}
		}
	})
	t.Run("EIO3 without ping", func(t *testing.T) {
		ws := rawDial(t, n, 3)
		got := readUntilClosed(t, ws, "ping timeout")
		if len(got) != 3 || got[0][0] != '0' || got[1] != "40" || !strings.HasPrefix(got[2], `42["user_info"`) {
			t.Fatalf("frames %q: want open, connect, user_info and nothing else", got)
		}
		if strings.Contains(got[0], "maxPayload") {
			t.Fatalf("EIO=3 open packet has maxPayload: %s", got[0])
		}
	})
}

// TestUnconnectedEIO4ClientTimesOut checks that an EIO=4 client that never
// connects the namespace is closed after --auth-timeout.
func TestUnconnectedEIO4ClientTimesOut(t *testing.T) {
	cfg := nodetest.Config(t, "")
	cfg.Session.AuthTimeout = 200 * time.Millisecond
	n := nodetest.Start(t, cfg)
	ws := rawDial(t, n, 4)
	got := readUntilClosed(t, ws, "authentication timeout")
	if len(got) != 1 || got[0][0] != '0' {
		t.Fatalf("frames %q: want only the open packet", got)
	}
}

func heartbeatNode(t *testing.T, interval, timeout time.Duration) *nodetest.Node {
	cfg := nodetest.Config(t, "")
	cfg.SocketIO.PingInterval = interval
	cfg.SocketIO.PingTimeout = timeout
	return nodetest.Start(t, cfg)
}

// readFrame reads one text frame within a deadline.
func readFrame(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, b, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(b)
}

func writeFrame(t *testing.T, ws *websocket.Conn, s string) {
	t.Helper()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// TestEIO4PongsKeepTheConnection answers the server's pings over several
// intervals (longer than interval + timeout in all), then sends a stray
// pong and answers no more: the stray pong must not answer the next ping,
// so the server closes after exactly one more ping, no earlier than
// interval + timeout after the last real pong.
func TestEIO4PongsKeepTheConnection(t *testing.T) {
	const interval, timeout = 150 * time.Millisecond, 150 * time.Millisecond
	n := heartbeatNode(t, interval, timeout)
	ws := rawDial(t, n, 4)
	writeFrame(t, ws, "40")
	for i, want := range []string{"0", `40{"sid":`, `42["user_info"`} {
		if f := readFrame(t, ws); !strings.HasPrefix(f, want) {
			t.Fatalf("frame %d is %q, want %s...", i, f, want)
		}
	}
	var pong time.Time // when the last pong was sent
	for i := range 4 {
		if f := readFrame(t, ws); f != "2" {
			t.Fatalf("frame %q, want ping %d", f, i+1)
		}
		if got := time.Since(pong); i > 0 && got < interval {
			t.Fatalf("ping %d came %v after the pong, want at least the interval %v", i+1, got, interval)
		}
		pong = time.Now()
		writeFrame(t, ws, "3")
	}
	writeFrame(t, ws, "3") // stray: answers no ping
	got := readUntilClosed(t, ws, "pong timeout")
	if len(got) != 1 || got[0] != "2" {
		t.Fatalf("frames after the stray pong %q: want one ping, then the close", got)
	}
	if d := time.Since(pong); d < interval+timeout {
		t.Fatalf("closed %v after the last pong, want at least interval + timeout = %v", d, interval+timeout)
	}
}

// TestEIO3PingsKeepTheConnection pings as a 2.x client does, every
// interval, for longer than interval + timeout, checks every ping is
// answered (payload echoed), then stops: the server closes the connection
// no earlier than interval + timeout after the last ping.
func TestEIO3PingsKeepTheConnection(t *testing.T) {
	const interval, timeout = 100 * time.Millisecond, 150 * time.Millisecond
	n := heartbeatNode(t, interval, timeout)
	ws := rawDial(t, n, 3)
	for i, want := range []string{"0", "40", `42["user_info"`} {
		if f := readFrame(t, ws); !strings.HasPrefix(f, want) {
			t.Fatalf("frame %d is %q, want %s...", i, f, want)
		}
	}
	tick := time.NewTicker(interval) // the client's ping period
	defer tick.Stop()
	start := time.Now()
	var ping time.Time // when the last ping was sent
	for i := 0; time.Since(start) < 3*(interval+timeout); i++ {
		<-tick.C
		payload := ""
		if i%2 == 1 {
			payload = "probe"
		}
		ping = time.Now()
		writeFrame(t, ws, "2"+payload)
		if f := readFrame(t, ws); f != "3"+payload {
			t.Fatalf("answer to ping %d is %q, want %q", i+1, f, "3"+payload)
		}
	}
	tick.Stop()
	if got := readUntilClosed(t, ws, "ping timeout"); len(got) != 0 {
		t.Fatalf("frames after the last ping %q: want none", got)
	}
	if d := time.Since(ping); d < interval+timeout {
		t.Fatalf("closed %v after the last ping, want at least interval + timeout = %v", d, interval+timeout)
	}
}
