package socketio_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/protocol/socketio"
	"github.com/roomring/roomring/node/session"
	"github.com/roomring/roomring/node/wsframe"
)

// dialAs opens a bare EIO=4 websocket for user uid's device and reads the
// open packet.
func dialAs(t *testing.T, n *nodetest.Node, uid, device string) *websocket.Conn {
	t.Helper()
	return dialEIO(t, n, "sessionId="+nodetest.Token(t, uid, nil, nil)+"&deviceId="+device)
}

// dialEIO opens a bare EIO=4 websocket at the Socket.IO path with the
// query's further parameters and reads the open packet.
func dialEIO(t *testing.T, n *nodetest.Node, query string) *websocket.Conn {
	t.Helper()
	url := fmt.Sprintf("ws://%s/socket/?EIO=4&transport=websocket&%s", n.Addr(), query)
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	if f := readFrame(t, ws); f[0] != '0' {
		t.Fatalf("open packet %q", f)
	}
	return ws
}

// connectNamespace connects ws's namespace and reads the connect packet and
// user_info.
func connectNamespace(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	writeFrame(t, ws, "40")
	for _, want := range []string{`40{"sid":`, `42["user_info"`} {
		if f := readFrame(t, ws); !strings.HasPrefix(f, want) {
			t.Fatalf("got %q, want %s...", f, want)
		}
	}
}

// readAck reads frames until the ack of id and returns it.
func readAck(t *testing.T, ws *websocket.Conn, id int) string {
	t.Helper()
	prefix := fmt.Sprintf("43%d[", id)
	for {
		if f := readFrame(t, ws); strings.HasPrefix(f, prefix) {
			return f[len(prefix)-1:]
		}
	}
}

// TestBurstBeforeConnectIsRateLimited: events before the namespace connect
// count against the rate like any other: a burst of 300 in one TCP write
// gets --rate-burst answers (401: not connected), then 429 acks up to
// --rate-limited-answers, the rest nothing; the connection survives.
func TestBurstBeforeConnectIsRateLimited(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	ws := dialAs(t, n, "burster", "d")
	var burst []byte
	for i := range 300 {
		burst = wsframeText(burst, fmt.Sprintf(`42%d["room:join",{"data":{"room":"room_1"}}]`, i))
	}
	if _, err := ws.UnderlyingConn().Write(burst); err != nil {
		t.Fatal(err)
	}
	def := session.DefaultConfig()
	var unauth, limited int
	for unauth+limited < def.RateBurst+def.RateAnswers {
		switch f := readFrame(t, ws); {
		case strings.Contains(f, `"code":401`):
			unauth++
		case strings.Contains(f, `"code":429`):
			limited++
		default:
			t.Fatalf("unexpected %q", f)
		}
	}
	if unauth < def.RateBurst || unauth > def.RateBurst+10 {
		t.Fatalf("%d answered, %d rate limited; want about %d answered", unauth, limited, def.RateBurst)
	}
	// The connection survives: once a token refills, it connects (a
	// connect over the limit is dropped, so it is repeated until then).
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(100 * time.Millisecond) // the poll interval
		defer tick.Stop()
		for i := 0; i < 100; i++ {
			if ws.WriteMessage(websocket.TextMessage, []byte("40")) != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	for {
		if f := readFrame(t, ws); strings.HasPrefix(f, `40{"sid":`) {
			return
		} else if !strings.Contains(f, `"code":429`) && !strings.Contains(f, `"code":401`) {
			t.Fatalf("after the burst: %q", f)
		}
	}
}

// TestEnginePingEchoBounded: an Engine.IO ping's payload is echoed up to
// socketio.MaxPingEcho bytes, not whole.
func TestEnginePingEchoBounded(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	ws := dialAs(t, n, "pinger", "d")
	connectNamespace(t, ws)
	writeFrame(t, ws, "2"+strings.Repeat("x", 60<<10))
	for {
		f := readFrame(t, ws)
		if f[0] != '3' {
			continue
		}
		if len(f) != 1+socketio.MaxPingEcho {
			t.Fatalf("pong of %d bytes, want %d", len(f), 1+socketio.MaxPingEcho)
		}
		return
	}
}

// TestHostileRepliesDoNotEvictOthers: a user who fills their replay budget
// with many event ids evicts only their own replays: another user's repeat
// is still answered with the earlier ack and not executed again.
func TestHostileRepliesDoNotEvictOthers(t *testing.T) {
	cfg := nodetest.Config(t, "")
	cfg.SocketIO.IdempotencyUserBytes = 4096
	cfg.SocketIO.IdempotencyEntries = 50
	cfg.Session.RateLimit, cfg.Session.RateBurst = 10000, 10000
	// The hostile writes must all run (and be remembered): the resource
	// write rate, whose 429s are never remembered, is not under test here.
	cfg.Reactions.WriteRate, cfg.Reactions.WriteBurst = 10000, 10000
	n := nodetest.Start(t, cfg)
	set := func(ws *websocket.Conn, ack int, reaction, eventID string) string {
		writeFrame(t, ws, fmt.Sprintf(`42%d["resource:setReaction",{"data":{"resource":"idem","room":"room_1","reaction":%q},"event":{"id":%q}}]`,
			ack, reaction, eventID))
		return readAck(t, ws, ack)
	}
	canary := dialAs(t, n, "canary", "phone")
	connectNamespace(t, canary)
	first := set(canary, 1, "👍", "evt-1")
	hostile := dialAs(t, n, "hostile", "laptop")
	connectNamespace(t, hostile)
	for i := range 200 {
		set(hostile, i, []string{"👍", "❤️"}[i%2], fmt.Sprintf("flood-%d", i))
	}
	own := func(ws *websocket.Conn, ack int) string {
		writeFrame(t, ws, fmt.Sprintf(`42%d["resource:getUserOwnReaction",{"data":{"resourceId":"idem"}}]`, ack))
		return readAck(t, ws, ack)
	}
	if again := set(canary, 2, "😮", "evt-1"); again != first {
		t.Fatalf("canary's repeat = %s, want the replayed %s", again, first)
	}
	if o := own(canary, 3); !strings.Contains(o, `"ownReaction":"👍"`) {
		t.Fatalf("canary's repeat was executed again: %s", o)
	}
	// The hostile user's oldest ids were forgotten: a repeat executes.
	set(hostile, 999, "😮", "flood-0")
	if o := own(hostile, 1000); !strings.Contains(o, `"ownReaction":"😮"`) {
		t.Fatalf("hostile's forgotten id was replayed, not executed: %s", o)
	}
}

// wsframeText appends a client's (masked) text frame carrying payload.
func wsframeText(dst []byte, payload string) []byte {
	return wsframe.AppendFrame(dst, wsframe.Header{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{9, 8, 7, 6}}, []byte(payload))
}
