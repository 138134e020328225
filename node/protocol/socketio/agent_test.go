package socketio_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// The Socket.IO compatibility tests drive the real socket.io-client packages
// from npm (test/socketio: 2.x as "sio2", 4.x as "sio4") through
// test/socketio/agent.cjs, a node process that turns JSON commands on stdin
// into client calls and reports what the clients see on stdout; the Go side
// is test/socketio/sioagent. ROOMRING_SKIP_NODE=1 skips these tests where
// node or the packages are missing.

const waitTimeout = 10 * time.Second

// client is one socket.io-client socket inside the agent.
type client struct{ *sioagent.Client }

// Events every test client listens to.
var listened = []string{"user_info", "invalidConnection", "resource:reactionUpdated", "resource:reactionDeleted"}

// connect creates a client of the given major version (2 or 4) with the
// handshake query, whose methods fail t; it does not wait for the
// connection.
func connect(t testing.TB, a *sioagent.Agent, name string, version int, n *nodetest.Node, query map[string]string, auth map[string]any) *client {
	t.Helper()
	return &client{a.Connect(t, sioagent.ClientConfig{Name: name, Version: version, URL: "http://" + n.Addr(),
		Query: query, Auth: auth, Events: listened})}
}

// ok calls ev with data in Valu's request envelope and fails the test
// unless the reply is a success; it returns the reply's data.
func (c *client) ok(ev string, data map[string]any) json.RawMessage {
	c.T.Helper()
	return c.CallOK(ev, req(data, ""))
}

// req builds Valu's request envelope.
func req(data map[string]any, eventID string) map[string]any {
	return map[string]any{"data": data, "event": map[string]any{"id": eventID, "date": time.Now().UnixMilli()}}
}
