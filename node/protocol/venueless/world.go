package venueless

import (
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
)

// roomConfig is a room as one user sees it in world.config (venueless'
// get_room_config), plus roomring's allowed_reactions: the reactions
// room.react accepts in this room, so clients offer only those.
type roomConfig struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Description  string           `json:"description"`
	Picture      *string          `json:"picture"`
	ImportID     *string          `json:"import_id"`
	PretalxID    int              `json:"pretalx_id"`
	Permissions  []string         `json:"permissions"`
	ForceJoin    bool             `json:"force_join"`
	Modules      []map[string]any `json:"modules"`
	ScheduleData map[string]any   `json:"schedule_data"`
	// Users is how busy the room is: none, few or many (venueless'
	// approximate_view_number).
	Users op.Occupancy `json:"users"`
	// AllowedReactions is a roomring extension (venueless clients ignore it).
	AllowedReactions []string `json:"allowed_reactions"`
}

// worldConfig is the world.config of the authenticated event and the
// payload of world.updated.
type worldConfig struct {
	World       worldInfo    `json:"world"`
	Permissions []string     `json:"permissions"`
	Rooms       []roomConfig `json:"rooms"`
}

// worldInfo is world.config.world.
type worldInfo struct {
	ID             string         `json:"id"`
	Title          string         `json:"title"`
	Pretalx        map[string]any `json:"pretalx"`
	ProfileFields  []any          `json:"profile_fields"`
	SocialLogins   []any          `json:"social_logins"`
	IframeBlockers map[string]any `json:"iframe_blockers"`
	OnsiteTraits   []any          `json:"onsite_traits"`
}

// userConfig is user.config of the authenticated push.
type userConfig struct {
	ID          string         `json:"id"`
	Profile     op.Profile     `json:"profile"` // written as the token has it
	Badges      []string       `json:"badges"`
	ClientState map[string]any `json:"client_state"`
}

// The "authenticated" push is composed around the world view the engine
// caches (engine.Client.EncodedWorld, encoded by EncodeWorldUpdated): its
// world.config is those bytes as they are, never decoded and encoded
// again. The keys are in venueless' order.
const (
	authenticatedHead  = `["authenticated",{"user.config":`
	authenticatedWorld = `,"world.config":`
	authenticatedTail  = `,"chat.channels":[],"chat.read_pointers":{},"chat.notification_counts":{},"exhibition":{},"announcements":[]}]`
	worldUpdatedHead   = `["world.updated",`
)

// EncodeWorldUpdated is the engine's world encoder (engine.Deps.EncodeWorld):
// the push ["world.updated", world.config] of view w, framed here so that
// worldConfigOf finds the world.config where it put it.
func EncodeWorldUpdated(w engine.WorldView) []byte {
	wc := marshal(newWorldConfig(w))
	b := make([]byte, 0, len(worldUpdatedHead)+len(wc)+1)
	b = append(b, worldUpdatedHead...)
	b = append(b, wc...)
	return append(b, ']')
}

// worldConfigOf is the world.config of a push made by EncodeWorldUpdated
// (a subslice: shared, read-only).
func worldConfigOf(worldUpdated []byte) []byte {
	return worldUpdated[len(worldUpdatedHead) : len(worldUpdated)-1]
}

// welcome is the "authenticated" push of user u whose world view is
// worldUpdated (EncodeWorldUpdated's push).
func welcome(u *auth.User, worldUpdated []byte) []byte {
	user := marshal(userConfig{ID: u.ID, Profile: u.Profile, Badges: []string{}, ClientState: map[string]any{}})
	wc := worldConfigOf(worldUpdated)
	b := make([]byte, 0, len(authenticatedHead)+len(user)+len(authenticatedWorld)+len(wc)+len(authenticatedTail))
	b = append(b, authenticatedHead...)
	b = append(b, user...)
	b = append(b, authenticatedWorld...)
	b = append(b, wc...)
	return append(b, authenticatedTail...)
}

func newWorldConfig(w engine.WorldView) worldConfig {
	wc := worldConfig{
		World: worldInfo{ID: w.ID, Title: w.Title, Pretalx: map[string]any{},
			ProfileFields: []any{}, SocialLogins: []any{}, OnsiteTraits: []any{},
			IframeBlockers: map[string]any{"default": map[string]any{"enabled": false, "policy_url": nil}}},
		Permissions: w.Permissions,
		Rooms:       make([]roomConfig, 0, len(w.Rooms)),
	}
	for _, r := range w.Rooms {
		wc.Rooms = append(wc.Rooms, newRoomConfig(r))
	}
	return wc
}

func newRoomConfig(v engine.VisibleRoom) roomConfig {
	r := v.Room
	var sched map[string]any
	if len(r.ScheduleData) > 0 {
		sched = r.ScheduleData
	}
	return roomConfig{ID: r.ID, Name: r.Name, Description: r.Description, Picture: r.Picture,
		PretalxID: r.PretalxID, Permissions: v.Permissions, ForceJoin: r.ForceJoin,
		Modules: r.ModuleConfig, ScheduleData: sched, Users: v.Users, AllowedReactions: v.AllowedReactions}
}
