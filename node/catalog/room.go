// Package catalog holds the pool's configuration — its rooms (names,
// ordering, modules, grants, schedule data, their world) and its worlds
// (keys, roles, grants) — and anonymous invites: validated, versioned,
// persisted in a store and replicated. It is the single place that
// validates room and world configuration, whichever dialect or manifest it
// came from.
package catalog

import (
	"slices"
	"unicode/utf8"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
)

// DefaultReactions is the venueless reaction set, allowed when a room does not
// restrict it.
var DefaultReactions = []string{"👏", "❤️", "👍", "🤣", "😮"}

// Limits of room configuration fields.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 2000
	MaxModules        = 32
)

// Room is one room's configuration, in the JSON shape of venueless'
// RoomConfigSerializer plus roomring's own fields (allowed_reactions,
// show_viewers, anonymous_invites).
type Room struct {
	ID string `json:"id"`
	// World is the id of the room's world; empty: the node's built-in
	// world (Scope).
	World            string           `json:"world,omitempty"`
	Name             string           `json:"name"`
	Description      string           `json:"description"`
	Picture          *string          `json:"picture"`
	SortingPriority  int              `json:"sorting_priority"`
	PretalxID        int              `json:"pretalx_id"`
	ForceJoin        bool             `json:"force_join"`
	ModuleConfig     []map[string]any `json:"module_config"`
	TraitGrants      auth.Grants      `json:"trait_grants"`
	ScheduleData     map[string]any   `json:"schedule_data"`
	AllowedReactions []string         `json:"allowed_reactions"`
	ShowViewers      bool             `json:"show_viewers"`
	AnonymousInvites bool             `json:"anonymous_invites"`
}

// Reacts reports whether reaction is allowed in the room.
func (r *Room) Reacts(reaction string) bool {
	set := r.AllowedReactions
	if len(set) == 0 {
		set = DefaultReactions
	}
	return slices.Contains(set, reaction)
}

// normalize fills defaults so every stored room is complete.
func (r *Room) Normalize() {
	if r.ModuleConfig == nil {
		r.ModuleConfig = []map[string]any{}
	}
	if r.TraitGrants == nil {
		r.TraitGrants = auth.Grants{}
	}
	if len(r.AllowedReactions) == 0 {
		r.AllowedReactions = slices.Clone(DefaultReactions)
	}
}

// Validate checks r's fields against the catalog's rules.
func (r *Room) Validate() *op.Error {
	switch {
	case r.ID == "" || len(r.ID) > 64:
		return op.Errorf(op.CodeConfigInvalid, "id must be 1 to 64 characters")
	case reservedID(r.ID):
		return op.Errorf(op.CodeConfigInvalid, "ids starting with %q are reserved", reservedPrefix)
	case r.World != "" && !ValidWorldID(r.World):
		return op.Errorf(op.CodeConfigInvalid, "world %q must be a DNS label of at most 63 characters", r.World)
	case r.Name == "" || utf8.RuneCountInString(r.Name) > MaxNameLen:
		return op.Errorf(op.CodeConfigInvalid, "name must be 1 to %d characters", MaxNameLen)
	case utf8.RuneCountInString(r.Description) > MaxDescriptionLen:
		return op.Errorf(op.CodeConfigInvalid, "description must be at most %d characters", MaxDescriptionLen)
	case len(r.ModuleConfig) > MaxModules:
		return op.Errorf(op.CodeConfigInvalid, "at most %d modules", MaxModules)
	}
	for i, m := range r.ModuleConfig {
		if t, ok := m["type"].(string); !ok || t == "" {
			return op.Errorf(op.CodeConfigInvalid, "module_config[%d].type must be a non-empty string", i)
		}
	}
	for _, e := range r.AllowedReactions {
		if !slices.Contains(DefaultReactions, e) {
			return op.Errorf(op.CodeConfigInvalid, "reaction %q is not one of %v", e, DefaultReactions)
		}
	}
	if err := ValidateSchedule(r.ScheduleData); err != nil {
		// As part of a room's configuration, bad schedule data is invalid
		// configuration; room.schedule reports room.unknown_schedule_data.
		return op.Errorf(op.CodeConfigInvalid, "schedule_data: %s", err.Message)
	}
	return nil
}
