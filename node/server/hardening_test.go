package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// refused dials url expecting the handshake to be refused; it returns the
// HTTP response.
func refused(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(url, nil)
	if err == nil {
		ws.Close()
		t.Fatalf("dial %s: accepted, want refused", url)
	}
	if resp == nil {
		t.Fatalf("dial %s: %v, want an HTTP answer", url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// counted waits until the node counts want open websockets: a dial
// returns once the upgrade is answered, a little before the node counts the
// connection (one dialled in between is closed with 1013 instead of 429).
func counted(t *testing.T, n *nodetest.Node, want float64) {
	t.Helper()
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == want })
}

// TestConnCapPerIP: --max-conns-per-ip refuses an address's next websocket
// with 429 and Retry-After, in both dialects, and admits it again once one
// of its connections closed.
func TestConnCapPerIP(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) { c.Conns.MaxConnsPerIP, c.Conns.PerIPExempt = 2, nil })
	a := nodetest.Dial(t, n.URL())
	nodetest.Dial(t, n.URL()).Auth(map[string]any{"client_id": "b"})
	counted(t, n, 2)
	resp, body := refused(t, n.URL())
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third websocket: %d Retry-After=%q %q, want 429 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	sio := "ws://" + n.Addr() + "/socket/?EIO=4&transport=websocket"
	resp, body = refused(t, sio)
	if resp.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, `"message"`) {
		t.Fatalf("socket.io over the cap: %d %q, want 429 with an Engine.IO error body", resp.StatusCode, body)
	}
	if got := n.Metrics(t)[`roomring_connections_refused_total{cap="ip"}`]; got != 2 {
		t.Errorf("refused{ip} = %v, want 2", got)
	}
	a.Close()
	testkit.Eventually(t, 10*time.Second, "a connection admitted after one closed", func() bool {
		ws, _, err := websocket.DefaultDialer.Dial(n.URL(), nil)
		if err != nil {
			return false
		}
		ws.Close()
		return true
	})
}

// TestConnCapNode: --max-conns is node-wide, loopback included (only the
// per-address cap exempts it by default).
func TestConnCapNode(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) { c.Conns.MaxConns = 2 })
	nodetest.Dial(t, n.URL())
	nodetest.Dial(t, n.URL())
	counted(t, n, 2)
	if resp, body := refused(t, n.URL()); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third websocket: %d %q, want 429", resp.StatusCode, body)
	}
	if got := n.Metrics(t)[`roomring_connections_refused_total{cap="node"}`]; got != 1 {
		t.Errorf("refused{node} = %v, want 1", got)
	}
}

// TestPanicClosesOneConnection: a panic while one connection's frame is
// handled closes that connection with 1011 and is counted; the node and
// another connection carry on.
func TestPanicClosesOneConnection(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.TestBeforeFrame = func(frame []byte) {
			if strings.Contains(string(frame), "test.panic") {
				panic("injected by the test")
			}
		}
	})
	victim := nodetest.Dial(t, n.URL())
	victim.Auth(map[string]any{"client_id": "victim"})
	other := nodetest.Dial(t, n.URL())
	other.Auth(map[string]any{"client_id": "other"})

	victim.SendRaw(`["test.panic", 1, {}]`)
	var ce *websocket.CloseError
	if err := victim.Closed(10 * time.Second); !errors.As(err, &ce) || ce.Code != 1011 {
		t.Fatalf("victim closed with %v, want close 1011", err)
	}
	other.Call("room.enter", map[string]any{"room": "room_1"})
	other.SendRaw(`["ping", 7]`)
	other.Wait(10*time.Second, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	if got := n.Metrics(t)[`roomring_panics_total{where="frame"}`]; got != 1 {
		t.Errorf("panics{frame} = %v, want 1", got)
	}
}

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestSurfaceOnAdmin: --metrics-on-admin moves /metrics to the admin
// listener, --demo=false takes the demo page off the client listener
// (invite links stay: they lead to the web app; an unknown one is 404).
func TestSurfaceOnAdmin(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.Admin.Listen, c.Admin.Token = "127.0.0.1:0", "admin-token-for-tests"
		c.Surface.MetricsOnAdmin, c.Surface.Demo = true, false
	})
	for _, p := range []string{"/metrics", "/", "/index.html", "/i/abc"} {
		if resp, _ := get(t, n.HTTPURL()+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("client listener %s: %d, want 404", p, resp.StatusCode)
		}
	}
	if resp, body := get(t, "http://"+n.AdminAddr()+"/metrics"); resp.StatusCode != http.StatusOK || !strings.Contains(body, "roomring_rooms ") {
		t.Errorf("admin listener /metrics: %d, want 200 with the node's metrics", resp.StatusCode)
	}
}

// TestInviteRedirectHostileCodes: an /i/ code that is not an invite's
// gets 404 with no Location: it can neither add parameters nor break the
// header (a real code is filled in escaped, engine.InviteRedirect).
func TestInviteRedirectHostileCodes(t *testing.T) {
	n := nodetest.StartWith(t)
	for _, path := range []string{"/i/abc123", "/i/a&b=c", "/i/x%0d%0aSet-Cookie:", "/i/a%23b", "/i/../../etc"} {
		resp, _ := get(t, n.HTTPURL()+path)
		if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusNotFound || loc != "" || resp.Header.Get("Set-Cookie") != "" {
			t.Errorf("%s: %d Location %q, want 404 without one", path, resp.StatusCode, loc)
		}
	}
}

// TestAdminBodyTooLarge: an admin request body over 1 MiB gets 413 with
// the admin API's error body. The request announces a 2 MiB body and sends
// a little of it: the node answers from the length, before the body.
func TestAdminBodyTooLarge(t *testing.T) {
	const token = "admin-token-for-tests"
	n := nodetest.StartWith(t, func(c *node.Config) { c.Admin.Token = token })
	c := dial(t, n.Addr())
	req := "PUT " + adminapi.PathPrefix + "rooms/big HTTP/1.1\r\nHost: node\r\nAuthorization: Bearer " + token +
		"\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(2<<20) + "\r\n\r\n{\"spec\": {"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	if err := c.SetReadDeadline(time.Now().Add(deadline)); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e adminapi.Error
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge || e.Code != adminapi.CodeTooLarge {
		t.Fatalf("2 MiB admin body: %d %+v (%v), want 413 %s", resp.StatusCode, e, err, adminapi.CodeTooLarge)
	}
}

// TestInviteFailuresLimited: failed invite redemptions from one address
// are limited; past the burst even a valid code is refused, unchecked, with
// auth.denied in venueless' error format.
func TestInviteFailuresLimited(t *testing.T) {
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.Invites.FailuresBurst, c.Invites.FailuresPerMinute = 3, 0.001
		c.Catalog.InviteCodeLength = 12
	})
	valid, err := n.Catalog().InviteCode(context.Background(), "room_1")
	if err != nil {
		t.Fatal(err)
	}
	if len(valid) != 12 {
		t.Fatalf("invite code %q, want 12 characters (--invite-code-length)", valid)
	}
	guess := func(code string) (string, string) {
		c := nodetest.Dial(t, n.URL())
		defer c.Close()
		c.SendRaw(`["authenticate", {"client_id": "guesser", "invite_token": "` + code + `"}]`)
		f := c.Wait(deadline, "authentication reply", func(f nodetest.Frame) bool { return f.Kind() == "authenticated" || f.Kind() == "error" })
		if f.Kind() != "error" {
			return "", ""
		}
		var e struct{ Code, Message string }
		f.Decode(t, len(f)-1, &e)
		return e.Code, e.Message
	}
	if code, _ := guess(valid); code != "" {
		t.Fatalf("a valid invite refused: %s", code)
	}
	for i := 0; i < 3; i++ {
		if code, msg := guess("wrong" + strconv.Itoa(i)); code != "auth.denied" || strings.Contains(msg, "too many") {
			t.Fatalf("guess %d: %s %q, want auth.denied for the unknown code", i, code, msg)
		}
	}
	if code, msg := guess(valid); code != "auth.denied" || !strings.Contains(msg, "too many") {
		t.Fatalf("a valid code past the limit: %s %q, want auth.denied, unchecked", code, msg)
	}
}
