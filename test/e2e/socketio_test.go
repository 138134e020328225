package e2e

import (
	"encoding/json"
	"fmt"
	"github.com/roomring/roomring/test/socketio/sioagent"
	"testing"
	"time"
)

// Valu's clients: the real socket.io-client packages from npm (2.x as
// "sio2", 4.x as "sio4" in test/socketio), driven through
// test/socketio/agent.cjs — a node process that turns JSON commands on stdin
// into client calls and reports what the clients see on stdout (the protocol
// is described at the top of agent.cjs).

// agent is the socket.io-client agent of one test.
type agent struct {
	*sioagent.Agent
	t *testing.T
}

// sioClient is one socket.io-client socket inside the agent.
type sioClient struct {
	a    *agent
	name string
}

// connect connects a socket.io-client of the given major version (2 or 4)
// to a node with a session token, as Valu's clients do, and waits for the
// server's user_info.
func (a *agent) connect(name string, version int, httpAddr, token string) *sioClient {
	a.t.Helper()
	a.Do(map[string]any{"cmd": "connect", "name": name, "version": version, "url": "http://" + httpAddr,
		"query": map[string]string{"sessionId": token}, "transports": []string{"websocket"},
		"events": []string{"user_info", "invalidConnection", "resource:reactionUpdated", "resource:reactionDeleted"}})
	c := &sioClient{a: a, name: name}
	c.event("user_info", 10*time.Second, func(json.RawMessage) bool { return true })
	return c
}

// event waits for an event of the client whose first argument satisfies
// pred and returns that argument.
func (c *sioClient) event(ev string, timeout time.Duration, pred func(json.RawMessage) bool) json.RawMessage {
	c.a.t.Helper()
	m := c.a.Wait(c.name+" event "+ev, timeout, func(m sioagent.Msg) bool {
		return m.Client == c.name && m.Event == ev && len(m.Args) > 0 && pred(m.Args[0])
	})
	return m.Args[0]
}

// call emits ev with Valu's request envelope and an ack callback and
// returns the reply's data, failing the test on an error reply.
func (c *sioClient) call(ev string, data map[string]any) json.RawMessage {
	c.a.t.Helper()
	res := c.a.Do(map[string]any{"cmd": "emit", "name": c.name, "event": ev, "ack": true, "timeoutMs": 8000,
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
	if ack[0].Error.Status || ack[0].Error.Code != 0 {
		c.a.t.Fatalf("%s %s %v: error reply %s", c.name, ev, data, res)
	}
	return ack[0].Data
}

func (c *sioClient) String() string { return fmt.Sprintf("socket.io client %s", c.name) }

// startAgent starts the agent for t (node and the npm packages are required:
// hack/setup-test-deps.sh installs them).
func startAgent(t *testing.T) *agent { return &agent{Agent: sioagent.Start(t), t: t} }
