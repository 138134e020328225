package e2e

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/test/socketio/sioagent"
)

// Valu's clients: the real socket.io-client packages from npm (2.x as
// "sio2", 4.x as "sio4" in test/socketio), driven through
// test/socketio/agent.cjs by test/socketio/sioagent.

// sioClient is one socket.io-client socket inside the agent.
type sioClient struct{ *sioagent.Client }

// connectSio connects a socket.io-client of the given major version (2 or
// 4) to a node with a session token, as Valu's clients do, and waits for
// the server's user_info.
func connectSio(t *testing.T, a *sioagent.Agent, name string, version int, httpAddr, token string) *sioClient {
	t.Helper()
	return &sioClient{a.ConnectSession(t, name, version, "http://"+httpAddr, token, "resource:reactionUpdated", "resource:reactionDeleted")}
}

// call emits ev with Valu's request envelope and an ack callback and
// returns the reply's data, failing the test on an error reply.
func (c *sioClient) call(ev string, data map[string]any) json.RawMessage {
	c.T.Helper()
	return c.CallOK(ev, map[string]any{"data": data})
}
