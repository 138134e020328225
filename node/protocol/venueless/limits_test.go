package venueless_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}

// TestOversizedFrameCloses1009: a frame over --max-frame-bytes closes the
// connection with 1009; the node and other connections are unaffected.
func TestOversizedFrameCloses1009(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.MaxFrameBytes = 1024 })
	bystander, _ := loginGuest(t, n, "bystander")

	pre := nodetest.Dial(t, n.URL())
	pre.SendRaw(`["ping", "` + strings.Repeat("x", 2000) + `"]`)
	if err := pre.Closed(wait); closeCode(err) != websocket.CloseMessageTooBig {
		t.Fatalf("oversized frame before authenticate: %v, want close 1009", err)
	}

	c, _ := loginGuest(t, n, "big")
	// Just under the limit is fine.
	c.SendRaw(`["ping", "` + strings.Repeat("y", 900) + `"]`)
	c.Wait(wait, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	c.Send("room.enter", map[string]any{"room": strings.Repeat("r", 1100)})
	if err := c.Closed(wait); closeCode(err) != websocket.CloseMessageTooBig {
		t.Fatalf("oversized frame: %v, want close 1009", err)
	}
	enter(t, bystander, "room_1")
}

// TestRateLimit: frames over --rate-limit/--rate-burst are answered with
// protocol.rate_limited and not executed; the connection survives and
// recovers as the bucket refills.
func TestRateLimit(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.RateLimit = 2; c.Session.RateBurst = 5 })
	c := nodetest.Dial(t, n.URL())
	c.Auth(map[string]any{"client_id": "spammer"}) // the first token
	const sent = 12
	ids := make([]int, sent)
	for i := range ids {
		ids[i] = c.Send("room.enter", map[string]any{"room": "room_1"})
	}
	// Pings count too (else they would be a way around the limit); a limited
	// ping has no id, so its error has none either.
	for range 3 {
		c.SendRaw(`["ping", 1]`)
	}
	var ok, limited int
	for _, id := range ids {
		f := c.Reply(id)
		switch {
		case f.Kind() == "success":
			ok++
		case strings.Contains(string(f[2]), `"protocol.rate_limited"`):
			limited++
		default:
			t.Fatalf("reply %s", f)
		}
	}
	// The burst was 5 with one spent on authenticate; a fast machine refills
	// at most a token or two while the frames arrive.
	if ok < 4 || ok > 7 || limited != sent-ok {
		t.Fatalf("%d succeeded, %d rate limited; want about 4 and the rest limited", ok, limited)
	}
	c.Wait(wait, "rate-limited ping", func(f nodetest.Frame) bool {
		return f.Kind() == "error" && len(f) == 2 && strings.Contains(string(f[1]), `"protocol.rate_limited"`)
	})
	limited++
	// The bucket refills at 2 frames a second: poll until a frame passes.
	deadline := time.Now().Add(wait)
	for {
		f := c.Reply(c.Send("room.leave", map[string]any{"room": "room_1"}))
		if f.Kind() == "success" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still rate limited after %v: %s", wait, f)
		}
		time.Sleep(100 * time.Millisecond) // poll interval of the wait above
	}
	if v := n.Metrics(t)[`roomring_errors_total{code="protocol.rate_limited"}`]; v < float64(limited) {
		t.Fatalf("rate_limited errors metric = %v, want >= %d", v, limited)
	}
}

// TestMaxConnsPerUserReplacesOldest: a user's connection beyond
// --max-conns-per-user replaces their oldest, which gets connection.replaced
// and is closed; it leaves its rooms like a disconnect.
func TestMaxConnsPerUserReplacesOldest(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.MaxConnsPerUser = 2 })
	mod := nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "room_1")
	first := nodetest.Login(t, n.URL(), "multi")
	enter(t, first, "room_1")
	mod.Wait(wait, "multi added", func(f nodetest.Frame) bool { return f.Kind() == "room.viewer.added" })
	second := nodetest.Login(t, n.URL(), "multi")
	third := nodetest.Login(t, n.URL(), "multi")

	f := first.Wait(wait, "connection.replaced", func(f nodetest.Frame) bool { return f.Kind() == "error" && len(f) == 2 })
	var e struct{ Code, Message string }
	f.Decode(t, 1, &e)
	if e.Code != "connection.replaced" {
		t.Fatalf("oldest connection got %s, want connection.replaced", f)
	}
	if err := first.Closed(wait); closeCode(err) == -1 {
		t.Fatalf("replaced connection ended with %v, want a close frame", err)
	}
	rm := nodetest.Decode[struct {
		UserID string `json:"user_id"`
	}](t, mod.Event("room.viewer.removed"))
	if rm.UserID != "multi" {
		t.Fatalf("viewer.removed = %+v, want multi (the replaced socket left room_1)", rm)
	}
	enter(t, second, "room_1")
	enter(t, third, "lounge")
	// Other users are not limited by multi's connections.
	nodetest.Login(t, n.URL(), "mod", "moderator")
	enter(t, mod, "lounge")
}

// TestSlowConsumerClosed: a client that stops reading is closed once its
// write queue (--write-queue) is full, without holding up the node.
func TestSlowConsumerClosed(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.Session.WriteQueueLen = 4
		c.Session.RateLimit, c.Session.RateBurst = 10000, 10000
	})
	bystander, _ := loginGuest(t, n, "bystander")

	// A raw client with a small receive buffer that never reads.
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		nd.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
			})
			return errors.Join(err, serr)
		}
		return nd.DialContext(ctx, network, addr)
	}}
	ws, _, err := d.Dial(n.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	// Each ping is answered with a 32 KiB pong the client never reads: the
	// socket buffers fill, then the write queue, and the node gives up.
	ping := []byte(`["ping", "` + strings.Repeat("p", 32<<10) + `"]`)
	closed := false
	for i := 0; i < 2000 && !closed; i++ {
		if err := ws.WriteMessage(websocket.TextMessage, ping); err != nil {
			break // the node closed the socket
		}
		if i%16 == 15 {
			closed = n.Metrics(t)["roomring_slow_consumers_total"] >= 1
		}
	}
	n.WaitMetric(t, "roomring_slow_consumers_total", func(v float64) bool { return v == 1 })
	// The node drops the connection at once, not after --write-timeout.
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == 1 })

	// The client finds its connection ended once it reads what was sent.
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err = ws.ReadMessage(); err != nil {
			break
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("slow consumer's connection still open: %v", err)
	}
	// Others were not held up.
	enter(t, bystander, "room_1")
}

// TestAuthTimeout: a connection that does not authenticate within
// --auth-timeout is closed with 1008; authenticated ones are not.
func TestAuthTimeout(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.AuthTimeout = 300 * time.Millisecond })
	authed, _ := loginGuest(t, n, "quick")
	lazy := nodetest.Dial(t, n.URL())
	lazy.SendRaw(`["ping", 1]`) // pings do not count as authenticating
	if err := lazy.Closed(wait); closeCode(err) != websocket.ClosePolicyViolation {
		t.Fatalf("unauthenticated connection: %v, want close 1008", err)
	}
	// The authenticated connection opened before lazy outlived the timeout.
	enter(t, authed, "room_1")
}

// TestIdleConnectionClosed: the node pings every --ping-interval; a client
// that answers nothing (here: one that never reads, so never pongs) for two
// intervals is closed, while a normal client stays.
func TestIdleConnectionClosed(t *testing.T) {
	t.Parallel()
	// The interval leaves a loaded machine room: live, whose library answers
	// every ping, must never miss two in a row, while mute always does.
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.PingInterval = 250 * time.Millisecond })
	live, _ := loginGuest(t, n, "live")
	ws, _, err := websocket.DefaultDialer.Dial(n.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte(`["authenticate", {"client_id": "mute"}]`)); err != nil {
		t.Fatal(err)
	}
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == 2 })
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == 1 })
	// live answered the node's pings (the client library does) all along.
	enter(t, live, "room_1")
}
