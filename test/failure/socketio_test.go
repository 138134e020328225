package failure

import (
	"encoding/json"
	"github.com/roomring/roomring/test/socketio/sioagent"
	"slices"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
)

// Valu's clients: the real socket.io-client packages from npm (2.x as
// "sio2", 4.x as "sio4" in test/socketio), driven through
// test/socketio/agent.cjs, a node process that turns JSON commands on stdin
// into client calls and reports on stdout (its protocol is described at its
// top). The driver is the one of test/e2e, cut down to what these tests use.

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
// to p with a session token for uid, as Valu's clients do, and waits for
// the server's user_info.
func (a *agent) connect(name string, version int, p *proc, uid string) *sioClient {
	a.t.Helper()
	a.Do(map[string]any{"cmd": "connect", "name": name, "version": version, "url": "http://" + p.HTTP,
		"query": map[string]string{"sessionId": nodetest.Token(a.t, uid, nil, map[string]any{"firstName": uid})}, "transports": []string{"websocket"},
		"events": []string{"user_info", "invalidConnection"}})
	a.Wait(name+" user_info", 10*time.Second, func(m sioagent.Msg) bool { return m.Client == name && m.Event == "user_info" })
	return &sioClient{a: a, name: name}
}

// emit emits ev with Valu's request envelope and an ack callback and
// returns the ack's data and error code (0 for success).
func (c *sioClient) emit(ev string, data map[string]any) (json.RawMessage, int) {
	c.a.t.Helper()
	res := c.a.Do(map[string]any{"cmd": "emit", "name": c.name, "event": ev, "ack": true, "timeoutMs": 10000,
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

func (c *sioClient) close() { c.a.Do(map[string]any{"cmd": "close", "name": c.name}) }

// sioAgrees checks that resource:getReactions, asked through a
// socket.io-client 4.x on each node, returns the same reactions and
// totals as resource.reaction.get did (served).
func sioAgrees(t *testing.T, a *agent, served map[key]summary, nodes ...*proc) {
	t.Helper()
	for _, p := range nodes {
		c := a.connect("get-"+p.Name, 4, p, "sio-observer-"+p.Name)
		for k, want := range served {
			b, code := c.emit("resource:getReactions", map[string]any{"resourceId": k.resource, "comment": k.comment})
			if code != 0 {
				t.Fatalf("resource:getReactions %s on %s: error %d", k, p.Name, code)
			}
			var got summary
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if got.Total != want.Total || !slices.Equal(got.Reactions, want.Reactions) {
				t.Errorf("%s: resource:getReactions on %s returns %+v, resource.reaction.get %+v", k, p.Name, got, want)
			}
		}
		c.close()
	}
}

// startAgent starts the agent for t (node and the npm packages are required:
// hack/setup-test-deps.sh installs them).
func startAgent(t *testing.T) *agent { return &agent{Agent: sioagent.Start(t), t: t} }
