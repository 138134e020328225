package venueless_test

import (
	"testing"
	"time"

	"github.com/roomring/roomring/node/nodetest"
)

// The suite drives real nodes (nodetest.StartWith: dev mode, the sample rooms of
// config/samples/rooms.yaml, a fresh data dir) through real websocket
// clients. Every test starts its own node so tests can run in parallel
// without seeing each other's events; a node starts in milliseconds.
//
// Sample rooms: room_1 (Main Stage), workshop-a (reactions 👏 👍 😮 only),
// lounge, backstage (speakers moderate; no anonymous invites).
// Dev trait grants: trait admin → admin, trait moderator → moderator,
// everyone → viewer.

// loginGuest connects a guest with a client_id.
func loginGuest(t *testing.T, n *nodetest.Node, clientID string) (*nodetest.Client, authenticated) {
	t.Helper()
	c := nodetest.Dial(t, n.URL())
	a := nodetest.Decode[authenticated](t, c.Auth(map[string]any{"client_id": clientID}))
	return c, a
}

// authenticated is the part of the "authenticated" payload the tests read.
type authenticated struct {
	User struct {
		ID      string         `json:"id"`
		Profile map[string]any `json:"profile"`
	} `json:"user.config"`
	World worldConfig `json:"world.config"`
}

type worldConfig struct {
	World struct {
		ID string `json:"id"`
	} `json:"world"`
	Permissions []string     `json:"permissions"`
	Rooms       []roomConfig `json:"rooms"`
}

// roomConfig is a world.config room entry (also the room.create push).
type roomConfig struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Permissions      []string       `json:"permissions"`
	ScheduleData     map[string]any `json:"schedule_data"`
	AllowedReactions []string       `json:"allowed_reactions"`
}

// adminRoom is a room as room.config.* return it.
type adminRoom struct {
	ID               string         `json:"id"`
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	SortingPriority  int            `json:"sorting_priority"`
	ScheduleData     map[string]any `json:"schedule_data"`
	AllowedReactions []string       `json:"allowed_reactions"`
	ShowViewers      bool           `json:"show_viewers"`
	AnonymousInvites bool           `json:"anonymous_invites"`
}

type user struct {
	ID      string         `json:"id"`
	Profile map[string]any `json:"profile"`
}

func (w worldConfig) room(id string) (roomConfig, bool) {
	for _, r := range w.Rooms {
		if r.ID == id {
			return r, true
		}
	}
	return roomConfig{}, false
}

func (w worldConfig) ids() []string {
	out := make([]string, len(w.Rooms))
	for i, r := range w.Rooms {
		out[i] = r.ID
	}
	return out
}

// enterReply is room.enter's success data; Viewers is nil when the key is
// absent.
type enterReply struct {
	Viewers []user `json:"viewers"`
}

func enter(t *testing.T, c *nodetest.Client, room string) enterReply {
	t.Helper()
	raw := c.Call("room.enter", map[string]any{"room": room})
	return nodetest.Decode[enterReply](t, raw)
}

func viewerIDs(vs []user) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

// wait is the deadline of waits for something that must happen.
const wait = 5 * time.Second
