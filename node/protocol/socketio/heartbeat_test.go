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
	a := startAgent(t)
	for _, v := range versions {
		c := connected(t, a, n, fmt.Sprintf("hb%d", v), v, fmt.Sprintf("hb%d", v), nil, profile("H", "B", nil))
		for range 4 {
			c.event("heartbeat")
		}
		c.ok("room:join", map[string]any{"room": "room_1"})
		if c.hasEvent("disconnect") {
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
