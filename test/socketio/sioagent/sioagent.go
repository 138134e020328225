// Package sioagent drives test/socketio/agent.cjs from Go tests: a node
// process that turns JSON commands on stdin into calls of the real
// socket.io-client packages from npm (2.x as "sio2", 4.x as "sio4") and
// reports what the clients see on stdout (the protocol is described at the
// top of agent.cjs).
package sioagent

import (
	"bufio"
	"encoding/json"
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

// Msg is one line of the agent's output.
type Msg struct {
	ID     *int              `json:"id"`
	OK     bool              `json:"ok"`
	Result json.RawMessage   `json:"result"`
	Error  string            `json:"error"`
	Client string            `json:"client"`
	Event  string            `json:"event"`
	Args   []json.RawMessage `json:"args"`
}

type Agent struct {
	t     testing.TB
	stdin io.WriteCloser

	wmu  sync.Mutex
	next int

	mu     sync.Mutex
	cond   *sync.Cond
	msgs   []Msg
	stderr strings.Builder
	exited bool
}

// Start starts agent.cjs; node and the npm packages are required
// (hack/setup-test-deps.sh installs them).
func Start(t testing.TB) *Agent {
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
	a := &Agent{t: t, stdin: stdin}
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

// Wait returns (and consumes) the first message matching pred.
func (a *Agent) Wait(what string, timeout time.Duration, pred func(Msg) bool) Msg {
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
			var seen []string
			for _, m := range a.msgs {
				b, _ := json.Marshal(m)
				seen = append(seen, string(b))
			}
			a.t.Fatalf("socket.io agent: timed out waiting for %s (exited: %v); unconsumed:\n%s\nstderr: %s",
				what, a.exited, strings.Join(seen, "\n"), a.stderr.String())
		}
		a.cond.Wait()
	}
}

// Do sends a command and returns its result.
func (a *Agent) Do(cmd map[string]any) json.RawMessage {
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
	m := a.Wait("the reply to "+string(b), 15*time.Second, func(m Msg) bool { return m.ID != nil && *m.ID == id })
	if !m.OK {
		a.t.Fatalf("socket.io agent command %s failed: %s", b, m.Error)
	}
	return m.Result
}
