// Package nodetest starts real nodes on loopback ports and connects real
// websocket clients and admin API clients to them, for tests of other
// packages (the node's httptest). It is part of the test kit whose home is
// internal/testkit.
package nodetest

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/auth"
)

// Secret is the JWT secret of test nodes.
const Secret = "nodetest-secret-0123456789abcdef"

// RepoRoot returns the repository's root directory.
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Node is a node running in the test process.
type Node struct {
	*node.Node
	Cfg  node.Config
	done chan error
}

// Config returns a dev-mode config on a random loopback port with the
// sample rooms and a fixed secret; dataDir "" means a fresh temp dir.
func Config(t testing.TB, dataDir string) node.Config {
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	var cfg node.Config
	cfg.RegisterFlags(flagSet())
	cfg.Listen = "127.0.0.1:0"
	cfg.Dev = true
	cfg.JWTSecret = Secret
	cfg.DataDir = dataDir
	cfg.RoomsFile = filepath.Join(RepoRoot(), "config", "samples", "rooms.yaml")
	return cfg
}

// Start starts a node with cfg and stops it when the test ends.
func Start(t testing.TB, cfg node.Config) *Node {
	t.Helper()
	n, err := node.New(context.Background(), cfg, testkit.Logger(t))
	if err != nil {
		t.Fatalf("start node: %v", err)
	}
	tn := &Node{Node: n, Cfg: n.Config(), done: make(chan error, 1)}
	go func() { tn.done <- n.Serve() }()
	t.Cleanup(func() { tn.Stop(t) })
	return tn
}

// StartWith starts a node with Config(t, "") adjusted by mut, in order, and
// stops it when the test ends.
func StartWith(t testing.TB, mut ...func(*node.Config)) *Node {
	t.Helper()
	cfg := Config(t, "")
	for _, m := range mut {
		m(&cfg)
	}
	return Start(t, cfg)
}

// Stop shuts the node down (idempotent).
func (n *Node) Stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Shutdown(ctx); err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

// HTTPURL is the node's HTTP base URL.
func (n *Node) HTTPURL() string { return "http://" + n.Addr() }

// Metrics scrapes /metrics and returns every sample keyed as exposed, e.g.
// `roomring_errors_total{code="room.unknown"}` or `roomring_rooms`.
func (n *Node) Metrics(t testing.TB) map[string]float64 {
	t.Helper()
	resp, err := http.Get(n.HTTPURL() + "/metrics")
	if err != nil {
		t.Fatalf("scrape metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape metrics: status %s", resp.Status)
	}
	out, err := ParseMetrics(resp.Body)
	if err != nil {
		t.Fatalf("read metrics: %v", err)
	}
	return out
}

// ParseMetrics reads a /metrics page (Prometheus' text format) and returns
// every sample keyed as exposed, labels included.
func ParseMetrics(r io.Reader) (map[string]float64, error) {
	out := map[string]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metrics line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

// WaitMetric waits until the sample key satisfies ok and returns its value
// (a missing sample is 0).
func (n *Node) WaitMetric(t testing.TB, key string, ok func(float64) bool) float64 {
	t.Helper()
	var v float64
	testkit.EventuallyNil(t, 5*time.Second, "metric "+key, func() error {
		if v = n.Metrics(t)[key]; !ok(v) {
			return fmt.Errorf("stuck at %v", v)
		}
		return nil
	})
	return v
}

// URL is the venueless websocket URL of the node.
func (n *Node) URL() string { return "ws://" + n.Addr() + "/ws/world/default/" }

// Token mints a token for uid with traits and profile, signed with Secret.
func Token(t testing.TB, uid string, traits []string, profile map[string]any) string {
	t.Helper()
	tok, err := auth.Sign([]byte(Secret), uid, traits, profile, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Client is a venueless websocket client that records every frame it gets.
type Client struct {
	t    testing.TB
	ws   *websocket.Conn
	wmu  sync.Mutex
	next int

	mu     sync.Mutex
	cond   *sync.Cond
	frames []json.RawMessage
	err    error // read error that ended the reader
	closed chan struct{}
}

// Dial connects to url.
func Dial(t testing.TB, url string) *Client {
	t.Helper()
	return DialWith(t, url, websocket.DefaultDialer)
}

// DialWith connects to url with d (e.g. a dialer that reaches into a
// network namespace).
func DialWith(t testing.TB, url string, d *websocket.Dialer) *Client {
	t.Helper()
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	c := &Client{t: t, ws: ws, next: 1, closed: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.read()
	t.Cleanup(func() { _ = ws.Close() })
	return c
}

func (c *Client) read() {
	defer close(c.closed)
	for {
		_, b, err := c.ws.ReadMessage()
		c.mu.Lock()
		if err != nil {
			c.err = err
			c.cond.Broadcast()
			c.mu.Unlock()
			return
		}
		c.frames = append(c.frames, json.RawMessage(b))
		c.cond.Broadcast()
		c.mu.Unlock()
	}
}

// SendRaw writes a raw text frame.
func (c *Client) SendRaw(frame string) {
	c.t.Helper()
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// Send writes [action, id, payload] with a fresh id and returns the id.
func (c *Client) Send(action string, payload any) int {
	c.t.Helper()
	c.wmu.Lock()
	id := c.next
	c.next++
	c.wmu.Unlock()
	b, err := json.Marshal([]any{action, id, payload})
	if err != nil {
		c.t.Fatal(err)
	}
	c.SendRaw(string(b))
	return id
}

// Frame is a received frame decoded as a JSON array.
type Frame []json.RawMessage

// Kind is the frame's first element.
func (f Frame) Kind() string {
	var s string
	if len(f) > 0 {
		_ = json.Unmarshal(f[0], &s)
	}
	return s
}

// Decode decodes element i into v.
func (f Frame) Decode(t testing.TB, i int, v any) {
	t.Helper()
	if i >= len(f) {
		t.Fatalf("frame %s has no element %d", f, i)
	}
	if err := json.Unmarshal(f[i], v); err != nil {
		t.Fatalf("decode element %d of %s: %v", i, f, err)
	}
}

// Decode decodes raw (a reply's data, an event's payload) as a T.
func Decode[T any](t testing.TB, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s as %T: %v", raw, v, err)
	}
	return v
}

func (f Frame) String() string { b, _ := json.Marshal([]json.RawMessage(f)); return string(b) }

// Wait returns the first not yet consumed frame matching pred, waiting up to
// timeout; frames before it stay available. It fails the test on timeout.
func (c *Client) Wait(timeout time.Duration, what string, pred func(Frame) bool) Frame {
	c.t.Helper()
	f, ok := c.await(timeout, pred)
	if !ok {
		c.mu.Lock()
		all := make([]string, len(c.frames))
		for i, fr := range c.frames {
			all[i] = string(fr)
		}
		err := c.err
		c.mu.Unlock()
		c.t.Fatalf("timed out waiting for %s; frames: [%s]; read error: %v", what, strings.Join(all, ", "), err)
	}
	return f
}

func (c *Client) await(timeout time.Duration, pred func(Frame) bool) (Frame, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var f Frame
	var ok bool
	testkit.WaitCond(c.cond, timeout, func() bool {
		f, ok = c.take(pred)
		return ok || c.err != nil
	})
	return f, ok
}

// take removes and returns the first received frame matching pred; c.mu
// is held.
func (c *Client) take(pred func(Frame) bool) (Frame, bool) {
	for i, raw := range c.frames {
		var f Frame
		if json.Unmarshal(raw, &f) != nil {
			continue
		}
		if pred(f) {
			c.frames = append(c.frames[:i:i], c.frames[i+1:]...)
			return f, true
		}
	}
	return nil, false
}

// Has reports whether a frame matching pred is already received (and
// consumes it).
func (c *Client) Has(pred func(Frame) bool) bool {
	_, ok := c.await(0, pred)
	return ok
}

// Reply waits for the success or error reply to request id.
func (c *Client) Reply(id int) Frame {
	c.t.Helper()
	want := fmt.Sprint(id)
	return c.Wait(5*time.Second, fmt.Sprintf("reply to %d", id), func(f Frame) bool {
		return (f.Kind() == "success" || f.Kind() == "error") && len(f) == 3 && string(f[1]) == want
	})
}

// Call sends a request and returns the data of its success reply, failing
// the test on an error reply.
func (c *Client) Call(action string, payload any) json.RawMessage {
	c.t.Helper()
	f := c.Reply(c.Send(action, payload))
	if f.Kind() != "success" {
		c.t.Fatalf("%s %v: got %s", action, payload, f)
	}
	return f[2]
}

// CallErr sends a request and returns the error code of its error reply,
// failing the test on success.
func (c *Client) CallErr(action string, payload any) string {
	c.t.Helper()
	f := c.Reply(c.Send(action, payload))
	if f.Kind() != "error" {
		c.t.Fatalf("%s %v: want an error, got %s", action, payload, f)
	}
	var e struct{ Code string }
	f.Decode(c.t, 2, &e)
	return e.Code
}

// AuthErr authenticates with body, expects an error reply and returns its
// code.
func (c *Client) AuthErr(body any) string {
	c.t.Helper()
	b, _ := json.Marshal([]any{"authenticate", body})
	c.SendRaw(string(b))
	f := c.Wait(5*time.Second, "authentication error", func(f Frame) bool { return f.Kind() == "authenticated" || f.Kind() == "error" })
	if f.Kind() != "error" {
		c.t.Fatalf("authenticate %v: want an error, got %s", body, f)
	}
	var e struct{ Code string }
	f.Decode(c.t, len(f)-1, &e)
	return e.Code
}

// IsEvent matches a push [kind, data]; with room set, only one whose data
// names that room (data.room).
func IsEvent(kind, room string) func(Frame) bool {
	return func(f Frame) bool {
		if f.Kind() != kind || len(f) != 2 {
			return false
		}
		if room == "" {
			return true
		}
		var d struct{ Room string }
		return json.Unmarshal(f[1], &d) == nil && d.Room == room
	}
}

// None fails the test if a frame matching pred arrives (or already arrived)
// within d. It is a bounded wait for something that must NOT happen; callers
// say in a comment why d is long enough for the unwanted frame to show up.
func (c *Client) None(d time.Duration, what string, pred func(Frame) bool) {
	c.t.Helper()
	if f, ok := c.await(d, pred); ok {
		c.t.Fatalf("unexpected %s: %s", what, f)
	}
}

// Event waits for a push of kind and returns its data.
func (c *Client) Event(kind string) json.RawMessage {
	c.t.Helper()
	f := c.Wait(5*time.Second, "event "+kind, func(f Frame) bool { return f.Kind() == kind && len(f) == 2 })
	return f[1]
}

// Auth authenticates with a body and returns the authenticated payload.
func (c *Client) Auth(body any) json.RawMessage {
	c.t.Helper()
	b, _ := json.Marshal([]any{"authenticate", body})
	c.SendRaw(string(b))
	f := c.Wait(5*time.Second, "authenticated", func(f Frame) bool { return f.Kind() == "authenticated" || f.Kind() == "error" })
	if f.Kind() != "authenticated" {
		c.t.Fatalf("authenticate: %s", f)
	}
	return f[1]
}

// Closed waits until the server closes the connection and returns the close
// error (a *websocket.CloseError when the server sent a close frame).
func (c *Client) Closed(timeout time.Duration) error {
	c.t.Helper()
	select {
	case <-c.closed:
	case <-time.After(timeout):
		c.t.Fatalf("connection not closed within %v", timeout)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Close closes the client's socket.
func (c *Client) Close() { _ = c.ws.Close() }
