package catalog

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"

	"github.com/roomring/roomring/node/op"
)

// ApplyPatch applies a venueless room.config.patch body to a copy of r and
// returns it. Keys venueless sends that are not configuration (room, id) are
// ignored, as are unknown keys; a known key with a value of the wrong type is
// config.invalid. Keys are applied in sorted order, so the message about
// the first bad one is always the same.
func ApplyPatch(r *Room, body map[string]json.RawMessage) (*Room, *op.Error) {
	n := r.Clone()
	for _, key := range slices.Sorted(maps.Keys(body)) {
		raw := body[key]
		var target any
		switch key {
		case "name":
			target = &n.Name
		case "description":
			target = &n.Description
		case "picture":
			target = &n.Picture
		case "sorting_priority":
			target = &n.SortingPriority
		case "pretalx_id":
			target = &n.PretalxID
		case "force_join":
			target = &n.ForceJoin
		case "module_config":
			n.ModuleConfig = nil
			target = &n.ModuleConfig
		case "trait_grants":
			n.TraitGrants = nil
			target = &n.TraitGrants
		case "schedule_data":
			n.ScheduleData = nil
			target = &n.ScheduleData
		case "allowed_reactions":
			n.AllowedReactions = nil
			target = &n.AllowedReactions
		case "show_viewers":
			target = &n.ShowViewers
		case "anonymous_invites":
			target = &n.AnonymousInvites
		default:
			continue
		}
		if err := strictDecode(raw, target); err != nil {
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
