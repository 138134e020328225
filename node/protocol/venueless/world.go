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

// authenticated is the payload of the "authenticated" push.
type authenticated struct {
	UserConfig            userConfig     `json:"user.config"`
	WorldConfig           worldConfig    `json:"world.config"`
	ChatChannels          []any          `json:"chat.channels"`
	ChatReadPointers      map[string]any `json:"chat.read_pointers"`
	ChatNotificationCount map[string]any `json:"chat.notification_counts"`
	Exhibition            map[string]any `json:"exhibition"`
	Announcements         []any          `json:"announcements"`
}

// welcome builds the authenticated payload for user u seeing world w.
func welcome(u *auth.User, w engine.WorldView) authenticated {
	return authenticated{
		UserConfig:            userConfig{ID: u.ID, Profile: u.Profile, Badges: []string{}, ClientState: map[string]any{}},
		WorldConfig:           newWorldConfig(w),
		ChatChannels:          []any{},
		ChatReadPointers:      map[string]any{},
		ChatNotificationCount: map[string]any{},
		Exhibition:            map[string]any{},
		Announcements:         []any{},
	}
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
