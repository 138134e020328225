package nodetest

import "testing"

// Guest dials n's venueless endpoint and authenticates as a guest with
// clientID.
func Guest(t testing.TB, n *Node, clientID string) *Client {
	t.Helper()
	c := Dial(t, n.URL())
	c.Auth(map[string]any{"client_id": clientID})
	return c
}

// Login dials the venueless endpoint url and authenticates uid with traits
// by a token whose profile's display_name is uid.
func Login(t testing.TB, url, uid string, traits ...string) *Client {
	t.Helper()
	c := Dial(t, url)
	c.Auth(map[string]any{"token": Token(t, uid, traits, map[string]any{"display_name": uid})})
	return c
}

// RoomConfig is a room of world.config (or a room.create push) as tests
// read it.
type RoomConfig struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	ScheduleData map[string]any `json:"schedule_data"`
}

// WorldConfig is world.config (or a world.updated push) as tests read it.
type WorldConfig struct {
	Rooms []RoomConfig `json:"rooms"`
}

// Room returns the room with id, or nil.
func (w WorldConfig) Room(id string) *RoomConfig {
	for i := range w.Rooms {
		if w.Rooms[i].ID == id {
			return &w.Rooms[i]
		}
	}
	return nil
}
