package failure

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
)

// Valu's clients: the real socket.io-client packages from npm (2.x as
// "sio2", 4.x as "sio4" in test/socketio), driven through
// test/socketio/agent.cjs, a node process that turns JSON commands on stdin
// into client calls and reports on stdout (its protocol is described at its
// top). The driver is the one of test/e2e, cut down to what these tests use.

type agentMsg struct {
	ID     *int              `json:"id"`
	OK     bool              `json:"ok"`
	Result json.RawMessage   `json:"result"`
	Error  string            `json:"error"`
	Client string            `json:"client"`
	Event  string            `json:"event"`
	Args   []json.RawMessage `json:"args"`
}

type agent struct {
	t     *testing.T
	stdin io.WriteCloser

	wmu  sync.Mutex
	next int

	mu     sync.Mutex
	cond   *sync.Cond
	msgs   []agentMsg
	stderr strings.Builder
	exited bool
}

// startAgent starts agent.cjs; node and the npm packages are required
// (hack/setup-test-deps.sh installs them).
func startAgent(t *testing.T) *agent {
	t.Helper()
	dir := filepath.Join(nodetest.RepoRoot(), "test", "socketio")
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is not installed (hack/setup-test-deps.sh): %v", err)
	}
	for _, pkg := range []string{"sio2", "sio4"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			t.Fatalf("test/socketio/node_modules/%s is missing (hack/setup-test-deps.sh runs npm ci there): %v", pkg, err)
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
	a := &agent{t: t, stdin: stdin}
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
	go func() {
		defer close(readDone)
		sc := bufio.NewScanner(stdout)
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
	}()
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
	})
	return a
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// wait returns (and consumes) the first message matching pred.
func (a *agent) wait(what string, timeout time.Duration, pred func(agentMsg) bool) agentMsg {
	a.t.Helper()
	deadline := time.Now().Add(timeout)
	timer := time.AfterFunc(timeout, func() { a.mu.Lock(); a.cond.Broadcast(); a.mu.Unlock() })
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
			a.t.Fatalf("socket.io agent: timed out waiting for %s (exited: %v); stderr: %s", what, a.exited, a.stderr.String())
		}
		a.cond.Wait()
	}
}

// do sends a command and returns its result.
func (a *agent) do(cmd map[string]any) json.RawMessage {
	a.t.Helper()
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
		a.t.Fatalf("socket.io agent command %s: %v", b, err)
	}
	m := a.wait("the reply to "+string(b), 15*time.Second, func(m agentMsg) bool { return m.ID != nil && *m.ID == id })
	if !m.OK {
		a.t.Fatalf("socket.io agent command %s failed: %s", b, m.Error)
	}
	return m.Result
}

// sioClient is one socket.io-client socket inside the agent.
type sioClient struct {
	a    *agent
	name string
}

// connect connects a socket.io-client of the given major version (2 or 4)
// to p with a session token for uid, as Valu's clients do, and waits for
// the server's user_info.
func (a *agent) connect(name string, version int, p *proc, uid string) *sioClient {
	a.t.Helper()
	a.do(map[string]any{"cmd": "connect", "name": name, "version": version, "url": "http://" + p.http,
		"query": map[string]string{"sessionId": nodetest.Token(a.t, uid, nil, map[string]any{"firstName": uid})}, "transports": []string{"websocket"},
		"events": []string{"user_info", "invalidConnection"}})
	a.wait(name+" user_info", 10*time.Second, func(m agentMsg) bool { return m.Client == name && m.Event == "user_info" })
	return &sioClient{a: a, name: name}
}

// emit emits ev with Valu's request envelope and an ack callback and
// returns the ack's data and error code (0 for success).
func (c *sioClient) emit(ev string, data map[string]any) (json.RawMessage, int) {
	c.a.t.Helper()
	res := c.a.do(map[string]any{"cmd": "emit", "name": c.name, "event": ev, "ack": true, "timeoutMs": 10000,
		"args": []any{map[string]any{"data": data}}})
	var ack []struct {
		Data  json.RawMessage `json:"data"`
		Error struct {
			Status bool `json:"status"`
			Code   int  `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(res, &ack); err != nil || len(ack) != 1 {
		c.a.t.Fatalf("%s %s: ack %s: %v", c.name, ev, res, err)
	}
	if ack[0].Error.Status != (ack[0].Error.Code != 0) {
		c.a.t.Fatalf("%s %s: inconsistent error in ack %s", c.name, ev, res)
	}
	return ack[0].Data, ack[0].Error.Code
}

func (c *sioClient) close() { c.a.do(map[string]any{"cmd": "close", "name": c.name}) }

// sioAgrees checks that resource:getReactions, asked through a
// socket.io-client 4.x on each node, returns the same reactions and
// totals as resource.reaction.get did (served).
func sioAgrees(t *testing.T, a *agent, served map[key]summary, nodes ...*proc) {
	t.Helper()
	for _, p := range nodes {
		c := a.connect("get-"+p.name, 4, p, "sio-observer-"+p.name)
		for k, want := range served {
			b, code := c.emit("resource:getReactions", map[string]any{"resourceId": k.resource, "comment": k.comment})
			if code != 0 {
				t.Fatalf("resource:getReactions %s on %s: error %d", k, p.name, code)
			}
			var got summary
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total || !slices.Equal(got.Reactions, want.Reactions) {
				t.Errorf("%s: resource:getReactions on %s returns %+v, resource.reaction.get %+v", k, p.name, got, want)
			}
		}
		c.close()
	}
}
