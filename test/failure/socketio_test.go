package failure

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// Valu's clients: the real socket.io-client packages from npm (2.x as
// "sio2", 4.x as "sio4" in test/socketio), driven through
// test/socketio/agent.cjs by test/socketio/sioagent.

// sioClient is one socket.io-client socket inside the agent.
type sioClient struct{ *sioagent.Client }

// connectSio connects a socket.io-client of the given major version (2 or
// 4) to p with a session token for uid, as Valu's clients do, and waits for
// the server's user_info.
func connectSio(t *testing.T, a *sioagent.Agent, name string, version int, p *proc, uid string) *sioClient {
	t.Helper()
	return &sioClient{a.ConnectSession(t, name, version, "http://"+p.HTTP, nodetest.Token(t, uid, nil, map[string]any{"firstName": uid}))}
}

// emit emits ev with Valu's request envelope and an ack callback and
// returns the ack's data and error code (0 for success).
func (c *sioClient) emit(ev string, data map[string]any) (json.RawMessage, int) {
	c.T.Helper()
	r := c.Call(ev, map[string]any{"data": data})
	if r.Error.Status != (r.Error.Code != 0) {
		c.T.Fatalf("%s %s: inconsistent error in ack %s", c.Name, ev, r.Raw)
	}
	return r.Data, r.Error.Code
}

// sioAgrees checks that resource:getReactions, asked through a
// socket.io-client 4.x on each node, returns the same reactions and
// totals as resource.reaction.get did (served).
func sioAgrees(t *testing.T, a *sioagent.Agent, served map[key]summary, nodes ...*proc) {
	t.Helper()
	for _, p := range nodes {
		c := connectSio(t, a, "get-"+p.Name, 4, p, "sio-observer-"+p.Name)
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
		c.Close()
	}
}
