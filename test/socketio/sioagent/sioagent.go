// Package sioagent drives test/socketio/agent.cjs from Go tests: a node
// process that turns JSON commands on stdin into calls of the real
// socket.io-client packages from npm (2.x as "sio2", 4.x as "sio4") and
// reports what the clients see on stdout (the protocol is described at the
// top of agent.cjs).
//
// One Agent serves any number of clients (Agent.Connect); a Client's
// methods fail the test it was connected for, so an agent may be shared by
// subtests. Replies to emits with an ack are decoded as Valu's reply
// envelope (Reply).
package sioagent

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/nodetest"
)

// SkipEnv names the environment variable that, set to "1", makes
// StartOrSkip skip a test that cannot run the agent instead of failing it.
const SkipEnv = "ROOMRING_SKIP_NODE"

// DefaultTimeout is how long a new Client waits for an event or an ack.
const DefaultTimeout = 10 * time.Second

// replyTimeout is how long Agent.Do waits for the reply to a command.
const replyTimeout = 15 * time.Second

// Msg is one line of the agent's output: the reply to a command (ID, OK,
// Result, Error) or an event of a client (Client, Event, Args).
type Msg struct {
	ID     *int              `json:"id"`
	OK     bool              `json:"ok"`
	Result json.RawMessage   `json:"result"`
	Error  string            `json:"error"`
	Client string            `json:"client"`
	Event  string            `json:"event"`
	Args   []json.RawMessage `json:"args"`
}

// Agent is a running agent.cjs.
type Agent struct {
	stdin io.WriteCloser

	wmu  sync.Mutex
	next int

	mu     sync.Mutex
	cond   *sync.Cond
	msgs   []Msg // not yet consumed
	stderr strings.Builder
	exited bool
}

// Start starts agent.cjs for t and stops it when t ends. Node and the npm
// packages are required: without them the test fails with a hint at
// hack/setup-test-deps.sh, which installs them.
func Start(t testing.TB) *Agent {
	t.Helper()
	return start(t, false)
}

// StartOrSkip is Start for the tests of the Socket.IO protocol itself:
// when node or the npm packages are missing and ROOMRING_SKIP_NODE=1
// (SkipEnv) is set, it skips t instead of failing it.
func StartOrSkip(t testing.TB) *Agent {
	t.Helper()
	return start(t, os.Getenv(SkipEnv) == "1")
}

func start(t testing.TB, skip bool) *Agent {
	t.Helper()
	missing := func(what string) {
		t.Helper()
		if skip {
			t.Skipf("%s=1: skipping, %s", SkipEnv, what)
		}
		t.Fatalf("%s: run hack/setup-test-deps.sh (it runs npm ci in test/socketio), or set %s=1 to skip the Socket.IO client tests", what, SkipEnv)
	}
	dir := filepath.Join(nodetest.RepoRoot(), "test", "socketio")
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		missing("node (v18 or later) is not installed")
	}
	for _, pkg := range []string{"sio2", "sio4"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing("test/socketio/node_modules/" + pkg + " is missing")
		}
	}
	cmd := exec.Command(nodeBin, "agent.cjs")
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &Agent{stdin: stdin}
	a.cond = sync.NewCond(&a.mu)
	cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.stderr.Write(p)
	})
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent.cjs: %v", err)
	}
	readDone := make(chan struct{})
	go a.read(stdout, readDone)
	t.Cleanup(func() {
		_ = stdin.Close() // the agent closes its sockets and exits
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		<-readDone
		if t.Failed() {
			a.mu.Lock()
			t.Logf("socket.io agent stderr:\n%s", a.stderr.String())
			a.mu.Unlock()
		}
	})
	return a
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

func (a *Agent) read(r io.Reader, done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var m Msg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			m = Msg{Event: "unparsable", Error: sc.Text()}
		}
		a.mu.Lock()
		a.msgs = append(a.msgs, m)
		a.cond.Broadcast()
		a.mu.Unlock()
	}
	a.mu.Lock()
	a.exited = true
	a.cond.Broadcast()
	a.mu.Unlock()
}

// Wait returns (and consumes) the first message matching pred, waiting up
// to timeout for it; it fails t when the time is up or the agent exited.
func (a *Agent) Wait(t testing.TB, what string, timeout time.Duration, pred func(Msg) bool) Msg {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	var m Msg
	found := false
	testkit.WaitCond(a.cond, timeout, func() bool {
		for i := range a.msgs {
			if pred(a.msgs[i]) {
				m, found = a.msgs[i], true
				a.msgs = append(a.msgs[:i:i], a.msgs[i+1:]...)
				break
			}
		}
		return found || a.exited
	})
	if !found {
		var seen []string
		for _, m := range a.msgs {
			b, _ := json.Marshal(m)
			seen = append(seen, string(b))
		}
		t.Fatalf("socket.io agent: timed out waiting for %s (exited: %v); unconsumed:\n%s\nstderr: %s",
			what, a.exited, strings.Join(seen, "\n"), a.stderr.String())
	}
	return m
}

// Has reports whether a message matching pred has arrived (and is not
// consumed), without waiting and without consuming it.
func (a *Agent) Has(pred func(Msg) bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.msgs {
		if pred(m) {
			return true
		}
	}
	return false
}

// Do sends a command (its "id" is set here) and returns its result; it
// fails t when the command fails or gets no reply within 15 seconds.
func (a *Agent) Do(t testing.TB, cmd map[string]any) json.RawMessage {
	t.Helper()
	return a.do(t, cmd, replyTimeout)
}

func (a *Agent) do(t testing.TB, cmd map[string]any, timeout time.Duration) json.RawMessage {
	t.Helper()
	a.wmu.Lock()
	a.next++
	id := a.next
	cmd["id"] = id
	b, err := json.Marshal(cmd)
	if err == nil {
		_, err = a.stdin.Write(append(b, '\n'))
	}
	a.wmu.Unlock()
	if err != nil {
		t.Fatalf("socket.io agent command %s: %v", b, err)
	}
	m := a.Wait(t, "the reply to "+string(b), timeout, func(m Msg) bool { return m.ID != nil && *m.ID == id })
	if !m.OK {
		t.Fatalf("socket.io agent command %s failed: %s", b, m.Error)
	}
	return m.Result
}

// ClientConfig is the connect command of a client (see agent.cjs).
type ClientConfig struct {
	Name    string // unique within the agent
	Version int    // the socket.io-client major version: 2 or 4
	URL     string // the server, http://HOST:PORT
	// Query is the handshake's query, e.g. Valu's sessionId.
	Query map[string]string
	// Auth is the handshake's auth payload (4.x); nil sends none.
	Auth map[string]any
	// Transports are the client's transports; nil means websocket only.
	Transports []string
	// Events are the server events the agent reports besides connect,
	// disconnect, connect_error, error, heartbeat and engine_close.
	Events []string
}

// Connect creates a client in the agent whose methods fail t; it does not
// wait for the connection (wait for the "connect" or a server event).
func (a *Agent) Connect(t testing.TB, c ClientConfig) *Client {
	t.Helper()
	cmd := map[string]any{"cmd": "connect", "name": c.Name, "version": c.Version, "url": c.URL, "query": c.Query}
	if c.Auth != nil {
		cmd["auth"] = c.Auth
	}
	if c.Transports != nil {
		cmd["transports"] = c.Transports
	}
	if c.Events != nil {
		cmd["events"] = c.Events
	}
	a.Do(t, cmd)
	return &Client{Agent: a, T: t, Name: c.Name, Version: c.Version, Timeout: DefaultTimeout}
}

// ConnectSession connects a client as Valu's clients connect — websocket
// only, the session token in the handshake query's sessionId — that
// listens to user_info, invalidConnection and events, and waits for the
// server's user_info.
func (a *Agent) ConnectSession(t testing.TB, name string, version int, url, token string, events ...string) *Client {
	t.Helper()
	c := a.Connect(t, ClientConfig{Name: name, Version: version, URL: url, Query: map[string]string{"sessionId": token},
		Transports: []string{"websocket"}, Events: append([]string{"user_info", "invalidConnection"}, events...)})
	c.Event("user_info")
	return c
}

// Client is one socket.io-client socket inside an agent.
type Client struct {
	Agent   *Agent
	T       testing.TB // the test its methods fail
	Name    string
	Version int
	// Timeout bounds the waits for an event and for an ack
	// (DefaultTimeout unless changed).
	Timeout time.Duration
}

func (c *Client) is(ev string, pred func(json.RawMessage) bool) func(Msg) bool {
	return func(m Msg) bool {
		return m.Client == c.Name && m.Event == ev && (pred == nil || len(m.Args) > 0 && pred(m.Args[0]))
	}
}

// Event waits for (and consumes) the client's next event named ev and
// returns its arguments.
func (c *Client) Event(ev string) []json.RawMessage {
	c.T.Helper()
	return c.Agent.Wait(c.T, c.Name+" event "+ev, c.Timeout, c.is(ev, nil)).Args
}

// EventWhere waits for (and consumes) an event of the client named ev
// whose first argument satisfies pred, and returns that argument; what
// describes it for the failure message.
func (c *Client) EventWhere(ev, what string, pred func(json.RawMessage) bool) json.RawMessage {
	c.T.Helper()
	return c.Agent.Wait(c.T, c.Name+" event "+ev+" "+what, c.Timeout, c.is(ev, pred)).Args[0]
}

// Has reports whether an event of the client named ev has arrived (and is
// not consumed), without waiting.
func (c *Client) Has(ev string) bool { return c.Agent.Has(c.is(ev, nil)) }

// HasWhere is Has for an event whose first argument satisfies pred.
func (c *Client) HasWhere(ev string, pred func(json.RawMessage) bool) bool {
	return c.Agent.Has(c.is(ev, pred))
}

// Reply is Valu's reply envelope {"data": ..., "error": {...}}, the one
// argument of an ack.
type Reply struct {
	Data  json.RawMessage `json:"data"`
	Error struct {
		Status  bool   `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	Raw json.RawMessage `json:"-"` // the reply as received
}

// OK reports whether the reply is a success (no error status, code 0).
func (r Reply) OK() bool { return !r.Error.Status && r.Error.Code == 0 }

// DecodeReply decodes raw as a Reply, failing t when it is none.
func DecodeReply(t testing.TB, raw json.RawMessage) Reply {
	t.Helper()
	var r Reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("reply %s: %v", raw, err)
	}
	r.Raw = raw
	return r
}

// Call emits ev with arg (none when arg is nil) and an ack callback, and
// returns the ack's one argument decoded as a Reply.
func (c *Client) Call(ev string, arg any) Reply {
	c.T.Helper()
	args := []any{}
	if arg != nil {
		args = append(args, arg)
	}
	res := c.Agent.do(c.T, map[string]any{"cmd": "emit", "name": c.Name, "event": ev, "args": args, "ack": true,
		"timeoutMs": c.Timeout.Milliseconds()}, c.Timeout+5*time.Second)
	var ack []json.RawMessage
	if err := json.Unmarshal(res, &ack); err != nil || len(ack) != 1 {
		c.T.Fatalf("%s %s ack: want one argument, got %s", c.Name, ev, res)
	}
	return DecodeReply(c.T, ack[0])
}

// CallOK is Call that fails the test unless the reply is a success; it
// returns the reply's data.
func (c *Client) CallOK(ev string, arg any) json.RawMessage {
	c.T.Helper()
	r := c.Call(ev, arg)
	if !r.OK() {
		c.T.Fatalf("%s %s %s: want success, got %s", c.Name, ev, jsonText(arg), r.Raw)
	}
	return r.Data
}

// CallErr is Call that fails the test unless the reply is an error.
func (c *Client) CallErr(ev string, arg any) Reply {
	c.T.Helper()
	r := c.Call(ev, arg)
	if !r.Error.Status {
		c.T.Fatalf("%s %s %s: want an error, got %s", c.Name, ev, jsonText(arg), r.Raw)
	}
	return r
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Emit emits ev with args and no ack callback.
func (c *Client) Emit(ev string, args ...any) {
	c.T.Helper()
	c.Agent.Do(c.T, map[string]any{"cmd": "emit", "name": c.Name, "event": ev, "args": args, "ack": false})
}

// Raw makes the client's Engine.IO socket send a message packet of data.
func (c *Client) Raw(data string) {
	c.T.Helper()
	c.Agent.Do(c.T, map[string]any{"cmd": "raw", "name": c.Name, "data": data})
}

// Close closes the client's socket.
func (c *Client) Close() {
	c.T.Helper()
	c.Agent.Do(c.T, map[string]any{"cmd": "close", "name": c.Name})
}
