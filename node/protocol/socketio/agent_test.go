package socketio_test

import (
	"bufio"
	"bytes"
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

	"github.com/roomring/roomring/node/nodetest"
)

// The Socket.IO compatibility tests drive the real socket.io-client packages
// from npm (test/socketio: 2.x as "sio2", 4.x as "sio4") through
// test/socketio/agent.cjs, a node process that turns JSON commands on stdin
// into client calls and reports what the clients see on stdout.

const waitTimeout = 10 * time.Second

// agentDir is test/socketio.
func agentDir() string { return filepath.Join(nodetest.RepoRoot(), "test", "socketio") }

// requireNode fails the test when node or the npm packages are missing,
// unless ROOMRING_SKIP_NODE=1 asks to skip such tests.
func requireNode(t *testing.T) string {
	t.Helper()
	skip := os.Getenv("ROOMRING_SKIP_NODE") == "1"
	missing := func(what string) {
		if skip {
			t.Skipf("ROOMRING_SKIP_NODE=1: skipping, %s", what)
		}
		t.Fatalf("%s: run hack/setup-test-deps.sh (it runs npm ci in test/socketio), or set ROOMRING_SKIP_NODE=1 to skip the Socket.IO client tests", what)
	}
	bin, err := exec.LookPath("node")
	if err != nil {
		missing("node (v18 or later) is not installed")
	}
	for _, pkg := range []string{"sio2", "sio4"} {
		if _, err := os.Stat(filepath.Join(agentDir(), "node_modules", pkg, "package.json")); err != nil {
			missing("test/socketio/node_modules/" + pkg + " is missing")
		}
	}
	return bin
}

// agentMsg is one line of the agent's output.
type agentMsg struct {
	ID     *int            `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result"`
	Error  string          `json:"error"`
	Client string          `json:"client"`
	Event  string          `json:"event"`
	Args   []json.RawMessage
}

// agent is a running agent.cjs.
type agent struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer

	wmu  sync.Mutex
	next int

	mu     sync.Mutex
	cond   *sync.Cond
	msgs   []agentMsg
	exited bool
}

func startAgent(t *testing.T) *agent {
	t.Helper()
	bin := requireNode(t)
	cmd := exec.Command(bin, "agent.cjs")
	cmd.Dir = agentDir()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a := &agent{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}}
	cmd.Stderr = &lockedWriter{w: a.stderr, mu: &a.mu}
	a.cond = sync.NewCond(&a.mu)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	readDone := make(chan struct{})
	go a.read(stdout, readDone)
	t.Cleanup(func() {
		_ = stdin.Close()
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
			t.Logf("agent stderr:\n%s", a.stderr.String())
			a.mu.Unlock()
		}
	})
	return a
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (a *agent) read(r io.Reader, done chan struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		var m agentMsg
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			m = agentMsg{Event: "unparsable", Error: sc.Text()}
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

// wait returns (and consumes) the first message matching pred.
func (a *agent) wait(t testing.TB, what string, pred func(agentMsg) bool) agentMsg {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	timer := time.AfterFunc(waitTimeout, func() { a.mu.Lock(); a.cond.Broadcast(); a.mu.Unlock() })
	defer timer.Stop()
	a.mu.Lock()
	defer a.mu.Unlock()
	for {
		for i, m := range a.msgs {
			if pred(m) {
				a.msgs = append(a.msgs[:i:i], a.msgs[i+1:]...)
				return m
			}
		}
		if a.exited || !time.Now().Before(deadline) {
			var seen []string
			for _, m := range a.msgs {
				b, _ := json.Marshal(m)
				seen = append(seen, string(b))
			}
			t.Fatalf("timed out waiting for %s (agent exited: %v); unconsumed: %s; stderr: %s",
				what, a.exited, strings.Join(seen, "\n"), a.stderr.String())
		}
		a.cond.Wait()
	}
}

// has reports whether a matching message is already there, without waiting.
func (a *agent) has(pred func(agentMsg) bool) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, m := range a.msgs {
		if pred(m) {
			return true
		}
	}
	return false
}

// do sends a command and returns its successful result.
func (a *agent) do(t testing.TB, cmd map[string]any) json.RawMessage {
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
		t.Fatalf("agent command %s: %v", b, err)
	}
	m := a.wait(t, fmt.Sprintf("reply to %s", b), func(m agentMsg) bool { return m.ID != nil && *m.ID == id })
	if !m.OK {
		t.Fatalf("agent command %s failed: %s", b, m.Error)
	}
	return m.Result
}

// client is one socket.io-client socket inside the agent.
type client struct {
	t       testing.TB
	a       *agent
	name    string
	version int
}

// Events every test client listens to.
var listened = []string{"user_info", "invalidConnection", "resource:reactionUpdated", "resource:reactionDeleted"}

// connect creates a client of the given major version (2 or 4) with the
// handshake query; it does not wait for the connection.
func (a *agent) connect(t testing.TB, name string, version int, n *nodetest.Node, query map[string]string, auth map[string]any) *client {
	t.Helper()
	cmd := map[string]any{"cmd": "connect", "name": name, "version": version, "url": "http://" + n.Addr(),
		"query": query, "events": listened}
	if auth != nil {
		cmd["auth"] = auth
	}
	a.do(t, cmd)
	return &client{t: t, a: a, name: name, version: version}
}

// event waits for the client's next event named ev and returns its arguments.
func (c *client) event(ev string) []json.RawMessage {
	c.t.Helper()
	return c.a.wait(c.t, c.name+" event "+ev, func(m agentMsg) bool { return m.Client == c.name && m.Event == ev }).Args
}

// eventWhere waits for an event named ev whose first argument satisfies pred.
func (c *client) eventWhere(ev string, what string, pred func(json.RawMessage) bool) json.RawMessage {
	c.t.Helper()
	m := c.a.wait(c.t, c.name+" event "+ev+" "+what, func(m agentMsg) bool {
		return m.Client == c.name && m.Event == ev && len(m.Args) > 0 && pred(m.Args[0])
	})
	return m.Args[0]
}

// hasEvent reports whether an event named ev was already received.
func (c *client) hasEvent(ev string) bool {
	return c.a.has(func(m agentMsg) bool { return m.Client == c.name && m.Event == ev })
}

// hasEventWhere reports whether an event named ev whose first argument
// satisfies pred was already received.
func (c *client) hasEventWhere(ev string, pred func(json.RawMessage) bool) bool {
	return c.a.has(func(m agentMsg) bool {
		return m.Client == c.name && m.Event == ev && len(m.Args) > 0 && pred(m.Args[0])
	})
}

// reply is a decoded Valu reply {"data": ..., "error": {...}}.
type reply struct {
	Data  json.RawMessage `json:"data"`
	Error struct {
		Status  bool   `json:"status"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	raw json.RawMessage
}

func decodeReply(t testing.TB, raw json.RawMessage) reply {
	t.Helper()
	var r reply
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("reply %s: %v", raw, err)
	}
	r.raw = raw
	return r
}

// call emits ev with arg and an ack callback and returns the ack's reply.
func (c *client) call(ev string, arg any) reply {
	c.t.Helper()
	args := []any{}
	if arg != nil {
		args = append(args, arg)
	}
	res := c.a.do(c.t, map[string]any{"cmd": "emit", "name": c.name, "event": ev, "args": args, "ack": true, "timeoutMs": 5000})
	var ackArgs []json.RawMessage
	if err := json.Unmarshal(res, &ackArgs); err != nil || len(ackArgs) != 1 {
		c.t.Fatalf("%s ack: want one argument, got %s", ev, res)
	}
	return decodeReply(c.t, ackArgs[0])
}

// ok calls ev and fails the test unless the reply is a success; it returns
// the reply's data.
func (c *client) ok(ev string, data map[string]any) json.RawMessage {
	c.t.Helper()
	r := c.call(ev, req(data, ""))
	if r.Error.Status || r.Error.Code != 0 {
		c.t.Fatalf("%s %v: want success, got %s", ev, data, r.raw)
	}
	return r.Data
}

// fail calls ev with arg and returns the error reply, failing the test on
// success.
func (c *client) fail(ev string, arg any) reply {
	c.t.Helper()
	r := c.call(ev, arg)
	if !r.Error.Status {
		c.t.Fatalf("%s %v: want an error, got %s", ev, arg, r.raw)
	}
	return r
}

// emitNoAck emits without an ack callback.
func (c *client) emitNoAck(ev string, arg any) {
	c.t.Helper()
	c.a.do(c.t, map[string]any{"cmd": "emit", "name": c.name, "event": ev, "args": []any{arg}, "ack": false})
}

// raw makes the client's Engine.IO socket send a message packet.
func (c *client) raw(data string) {
	c.t.Helper()
	c.a.do(c.t, map[string]any{"cmd": "raw", "name": c.name, "data": data})
}

func (c *client) close() {
	c.t.Helper()
	c.a.do(c.t, map[string]any{"cmd": "close", "name": c.name})
}

// req builds Valu's request envelope.
func req(data map[string]any, eventID string) map[string]any {
	return map[string]any{"data": data, "event": map[string]any{"id": eventID, "date": time.Now().UnixMilli()}}
}
