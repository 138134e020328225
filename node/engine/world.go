package engine

import (
	"slices"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// RoomConfig is a room as one user sees it in world.config (venueless'
// get_room_config), plus roomring's allowed_reactions: the reactions
// room.react accepts in this room, so clients offer only those.
type RoomConfig struct {
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
	// AllowedReactions is a roomring extension (venueless clients ignore it).
	AllowedReactions []string `json:"allowed_reactions"`
}

// WorldConfig is the world.config of the authenticated event.
type WorldConfig struct {
	World       WorldInfo    `json:"world"`
	Permissions []string     `json:"permissions"`
	Rooms       []RoomConfig `json:"rooms"`
}

// WorldInfo is world.config.world.
type WorldInfo struct {
	ID             string         `json:"id"`
	Title          string         `json:"title"`
	Pretalx        map[string]any `json:"pretalx"`
	ProfileFields  []any          `json:"profile_fields"`
	SocialLogins   []any          `json:"social_logins"`
	IframeBlockers map[string]any `json:"iframe_blockers"`
	OnsiteTraits   []any          `json:"onsite_traits"`
}

// UserConfig is user.config of the authenticated reply.
type UserConfig struct {
	ID          string         `json:"id"`
	Profile     map[string]any `json:"profile"`
	Badges      []string       `json:"badges"`
	ClientState map[string]any `json:"client_state"`
}

// Authenticated is the payload of the "authenticated" push.
type Authenticated struct {
	UserConfig            UserConfig     `json:"user.config"`
	WorldConfig           WorldConfig    `json:"world.config"`
	ChatChannels          []any          `json:"chat.channels"`
	ChatReadPointers      map[string]any `json:"chat.read_pointers"`
	ChatNotificationCount map[string]any `json:"chat.notification_counts"`
	Exhibition            map[string]any `json:"exhibition"`
	Announcements         []any          `json:"announcements"`
}

// Welcome builds the authenticated payload for the client.
func (c *Client) Welcome() Authenticated {
	return Authenticated{
		UserConfig:            UserConfig{ID: c.user.ID, Profile: c.user.Profile, Badges: []string{}, ClientState: map[string]any{}},
		WorldConfig:           c.WorldConfig(),
		ChatChannels:          []any{},
		ChatReadPointers:      map[string]any{},
		ChatNotificationCount: map[string]any{},
		Exhibition:            map[string]any{},
		Announcements:         []any{},
	}
}

// WorldConfig is the world as this client may see it.
func (c *Client) WorldConfig() WorldConfig {
	e := c.eng
	wc := WorldConfig{
		World: WorldInfo{ID: e.cfg.WorldID, Title: e.cfg.WorldTitle, Pretalx: map[string]any{},
			ProfileFields: []any{}, SocialLogins: []any{}, OnsiteTraits: []any{},
			IframeBlockers: map[string]any{"default": map[string]any{"enabled": false, "policy_url": nil}}},
		Permissions: e.policy.World(c.user).Names(),
		Rooms:       []RoomConfig{},
	}
	for _, r := range e.catalog.List() {
		if rc, ok := c.roomConfig(r); ok {
			wc.Rooms = append(wc.Rooms, rc)
		}
	}
	return wc
}

func (c *Client) roomConfig(r *catalog.Room) (RoomConfig, bool) {
	perms := c.eng.policy.Room(c.user, r.ID, r.TraitGrants)
	if !perms.Has(auth.RoomView) {
		return RoomConfig{}, false
	}
	if !r.ShowViewers {
		perms &^= auth.RoomViewers
	}
	var sched map[string]any
	if len(r.ScheduleData) > 0 {
		sched = r.ScheduleData
	}
	return RoomConfig{ID: r.ID, Name: r.Name, Description: r.Description, Picture: r.Picture,
		PretalxID: r.PretalxID, Permissions: perms.RoomNames(), ForceJoin: r.ForceJoin,
		Modules: r.ModuleConfig, ScheduleData: sched, AllowedReactions: reactionsOf(r)}, true
}

// reactionsOf is the room's allowed reaction set, never empty.
func reactionsOf(r *catalog.Room) []string {
	if len(r.AllowedReactions) == 0 {
		return slices.Clone(catalog.DefaultReactions)
	}
	return slices.Clone(r.AllowedReactions)
}

// Personalize builds a personal event's payload for this client; ok false
// means the client does not receive it.
func (c *Client) Personalize(ev *op.Event) (data any, ok bool) {
	switch ev.Kind {
	case op.EvWorldUpdated:
		return c.WorldConfig(), true
	case op.EvRoomCreate:
		r := c.eng.catalog.Get(ev.Room)
		if r == nil {
			return nil, false
		}
		return c.roomConfig(r)
	}
	return ev.Data, true
}
