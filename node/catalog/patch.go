package catalog

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/roomring/roomring/node/op"
)

// patchable are the configuration keys room.config.patch may set: each
// returns its field of a room, emptied, for the patch value to be decoded
// into (so a map or a list is replaced, not merged).
var patchable = map[string]func(n *Room) any{
	"name":              func(n *Room) any { return reset(&n.Name) },
	"description":       func(n *Room) any { return reset(&n.Description) },
	"picture":           func(n *Room) any { return reset(&n.Picture) },
	"sorting_priority":  func(n *Room) any { return reset(&n.SortingPriority) },
	"pretalx_id":        func(n *Room) any { return reset(&n.PretalxID) },
	"force_join":        func(n *Room) any { return reset(&n.ForceJoin) },
	"module_config":     func(n *Room) any { return reset(&n.ModuleConfig) },
	"trait_grants":      func(n *Room) any { return reset(&n.TraitGrants) },
	"schedule_data":     func(n *Room) any { return reset(&n.ScheduleData) },
	"allowed_reactions": func(n *Room) any { return reset(&n.AllowedReactions) },
	"show_viewers":      func(n *Room) any { return reset(&n.ShowViewers) },
	"anonymous_invites": func(n *Room) any { return reset(&n.AnonymousInvites) },
}

func reset[T any](p *T) *T {
	var zero T
	*p = zero
	return p
}

// ApplyPatch applies a venueless room.config.patch body to a copy of r and
// returns it. Keys venueless sends that are not configuration (room, id) are
// ignored, as are unknown keys; a known key with a value of the wrong type is
// config.invalid (the first such key in sorted order, so the message does
// not change from one call to the next).
func ApplyPatch(r *Room, body map[string]json.RawMessage) (*Room, *op.Error) {
	n := r.Clone()
	for _, key := range slices.Sorted(maps.Keys(body)) {
		field, ok := patchable[key]
		if !ok {
			continue
		}
		if err := strictDecode(body[key], field(n)); err != nil {
			return nil, op.Errorf(op.CodeConfigInvalid, "%s: %v", key, err)
		}
	}
	n.Normalize()
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return n, nil
}

func strictDecode(raw json.RawMessage, v any) error {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}
