package server_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
)

// The HTTP limits (--http-read-timeout, --http-write-timeout,
// --http-idle-timeout) are tested on
// real nodes with raw TCP connections and real websocket clients, with
// timeouts short enough for a test; waits are for the server's own actions
// (a connection closed, a reply), bounded by a generous deadline.

const (
	readTimeout  = 300 * time.Millisecond
	writeTimeout = 400 * time.Millisecond
	idleTimeout  = 700 * time.Millisecond
	// deadline bounds every wait for something the server must do.
	deadline = 10 * time.Second
)

func startNode(t *testing.T, mut ...func(*node.Config)) *nodetest.Node {
	t.Helper()
	timeouts := func(cfg *node.Config) {
		cfg.HTTP.ReadTimeout, cfg.HTTP.WriteTimeout, cfg.HTTP.IdleTimeout = readTimeout, writeTimeout, idleTimeout
	}
	return nodetest.StartWith(t, append([]func(*node.Config){timeouts}, mut...)...)
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitClosed waits until the server closes c and returns how long that
// took from since. Anything read before the close is returned too.
func waitClosed(t *testing.T, c net.Conn, since time.Time) (time.Duration, string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(deadline)); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		t.Fatalf("the server left the connection open for %v (read %q)", deadline, b)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		t.Fatalf("read: %v", err)
	}
	return time.Since(since), string(b)
}

// TestSilentConnectionClosed: a TCP connection that sends nothing is closed
// after the read timeout, one that sends half a request too, a keep-alive
// connection after the idle timeout — and a websocket opened before all of
// them is still served afterwards: hijacked connections keep no deadline.
func TestSilentConnectionClosed(t *testing.T) {
	n := startNode(t)
	ws := nodetest.Dial(t, n.URL())
	ws.Auth(map[string]any{"client_id": "early"})

	start := time.Now()
	silent := dial(t, n.Addr())
	if took, got := waitClosed(t, silent, start); took < readTimeout || got != "" {
		t.Errorf("silent connection closed after %v with %q, want after the read timeout %v without a reply", took, got, readTimeout)
	}

	start = time.Now()
	half := dial(t, n.Addr())
	if _, err := io.WriteString(half, "GET /healthz HTTP/1.1\r\nHost: node\r\n"); err != nil {
		t.Fatal(err)
	}
	if took, _ := waitClosed(t, half, start); took < readTimeout {
		t.Errorf("half a request closed after %v, want at least the read timeout %v", took, readTimeout)
	}

	// The server arms the idle deadline after it has flushed the response,
	// which it can only do after the request arrived: a clock started
	// before the request is sent is the only one certain to start first.
	start = time.Now()
	keep := dial(t, n.Addr())
	if _, err := io.WriteString(keep, "GET /healthz HTTP/1.1\r\nHost: node\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(keep)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || string(body) != "ok" || resp.Close {
		t.Fatalf("keep-alive /healthz: %d %q close=%v", resp.StatusCode, body, resp.Close)
	}
	if took, _ := waitClosed(t, keep, start); took < idleTimeout {
		t.Errorf("idle keep-alive connection closed after %v, want at least the idle timeout %v", took, idleTimeout)
	}

	// The websocket has been open for longer than both timeouts.
	if age := time.Since(start); age < idleTimeout {
		t.Fatalf("websocket only %v old", age)
	}
	ws.SendRaw(`["ping", 7]`)
	ws.Wait(deadline, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	ws.Call("room.enter", map[string]any{"room": "room_1"})
}

// TestSlowReaderClosed: a client that pipelines requests for the demo
// page's script and reads none of the responses is closed once a response
// write has been stuck for the write timeout — and websockets of both
// dialects opened before it are still served afterwards: fasthttp clears
// the write deadline when a websocket hijacks the connection.
func TestSlowReaderClosed(t *testing.T) {
	// Read and idle timeouts far beyond the test: only the write timeout
	// can close the slow reader.
	n := startNode(t, func(c *node.Config) { c.HTTP.ReadTimeout, c.HTTP.IdleTimeout = time.Hour, time.Hour })
	ws := nodetest.Dial(t, n.URL())
	ws.Auth(map[string]any{"client_id": "early"})
	sio := dialSocketIO(t, n)

	start := time.Now()
	slow := dial(t, n.Addr())
	errc := make(chan error, 1)
	go func() {
		req := []byte(strings.Repeat("GET /app.js HTTP/1.1\r\nHost: node\r\n\r\n", 16))
		for {
			if _, err := slow.Write(req); err != nil {
				errc <- err // the server closed (reset) the connection
				return
			}
		}
	}()
	select {
	case err := <-errc:
		if took := time.Since(start); took < writeTimeout {
			t.Errorf("slow reader closed after %v (%v), want at least the write timeout %v", took, err, writeTimeout)
		}
	case <-time.After(deadline):
		t.Fatalf("a client reading no responses was left open for %v", deadline)
	}

	// Both websockets have been open for longer than the write timeout.
	if age := time.Since(start); age < writeTimeout {
		t.Fatalf("websockets only %v old", age)
	}
	ws.SendRaw(`["ping", 7]`)
	ws.Wait(deadline, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })
	ws.Call("room.enter", map[string]any{"room": "room_1"})
	if err := sio.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		t.Fatal(err)
	}
	if got := readText(t, sio); got != "3probe" {
		t.Fatalf("Socket.IO ping answered %q, want 3probe", got)
	}
}

// dialSocketIO opens an EIO=3 Socket.IO websocket and reads its opening
// frames (open packet, namespace connect, user_info).
func dialSocketIO(t *testing.T, n *nodetest.Node) *websocket.Conn {
	t.Helper()
	tok := nodetest.Token(t, "sio", nil, nil)
	c, _, err := websocket.DefaultDialer.Dial("ws://"+n.Addr()+"/socket/?EIO=3&transport=websocket&sessionId="+tok, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	for _, want := range []string{"0{", "40", `42["user_info"`} {
		if got := readText(t, c); !strings.HasPrefix(got, want) {
			t.Fatalf("Socket.IO frame %q, want %s...", got, want)
		}
	}
	return c
}

func readText(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(deadline))
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestShutdownNotHeldBySilentConnections: connections that never complete
// a request — one silent, one stopped halfway through its headers — do not
// hold up a node's shutdown beyond the read timeout.
func TestShutdownNotHeldBySilentConnections(t *testing.T) {
	for _, admin := range []bool{false, true} {
		name := "client listener"
		if admin {
			name = "admin listener"
		}
		t.Run(name, func(t *testing.T) {
			n := startNode(t, func(c *node.Config) {
				c.Admin.Token = "server-test-admin-token-0123"
				if admin {
					c.Admin.Listen = "127.0.0.1:0"
				}
			})
			addr := n.Addr()
			if admin {
				addr = n.AdminAddr()
			}
			silent := dial(t, addr)
			half := dial(t, addr)
			if _, err := io.WriteString(half, "GET /internal/v1/pool HTTP/1.1\r\n"); err != nil {
				t.Fatal(err)
			}
			// A request on a later connection is answered: the listener
			// has accepted the two before it.
			later := dial(t, addr)
			if _, err := io.WriteString(later, "GET /internal/v1/pool HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			if _, got := waitClosed(t, later, time.Now()); !strings.HasPrefix(got, "HTTP/1.1 ") {
				t.Fatalf("later request answered %q", got)
			}

			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			if err := n.Shutdown(ctx); err != nil {
				t.Fatalf("shutdown with a silent and a half-sent connection open: %v", err)
			}
			for _, c := range []net.Conn{silent, half} {
				waitClosed(t, c, time.Now())
			}
		})
	}
}
