package manifest

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// ToSpec converts a catalog room to a Room spec, the inverse of FromSpec: for every
// valid room r, FromSpec(r.ID, ToSpec(r)) equals r, except that keys of a
// module other than type and config are not kept (the Room API has no place
// for them). spec.id is left empty: the caller decides whether the room id
// needs it. Values the Room API cannot hold are config.invalid.
func ToSpec(r *catalog.Room) (v1alpha1.RoomSpec, *op.Error) {
	if r.SortingPriority < math.MinInt32 || r.SortingPriority > math.MaxInt32 {
		return v1alpha1.RoomSpec{}, op.Errorf(op.CodeConfigInvalid, "sorting_priority %d is out of range", r.SortingPriority)
	}
	if r.PretalxID < 0 || r.PretalxID > math.MaxInt32 {
		return v1alpha1.RoomSpec{}, op.Errorf(op.CodeConfigInvalid, "pretalx_id %d is out of range", r.PretalxID)
	}
	viewers, invites := r.ShowViewers, r.AnonymousInvites
	s := v1alpha1.RoomSpec{
		World:            r.World,
		DisplayName:      r.Name,
		Description:      r.Description,
		SortingPriority:  int32(r.SortingPriority),
		PretalxID:        int32(r.PretalxID),
		ForceJoin:        r.ForceJoin,
		Reactions:        slices.Clone(r.AllowedReactions),
		Viewers:          &viewers,
		AnonymousInvites: &invites,
	}
	if r.Picture != nil {
		s.Picture = *r.Picture
	}
	for i, m := range r.ModuleConfig {
		typ, _ := m["type"].(string)
		mod := v1alpha1.Module{Type: typ}
		if cfg, ok := m["config"]; ok && cfg != nil {
			raw, err := rawJSON(cfg)
			if err != nil {
				return v1alpha1.RoomSpec{}, op.Errorf(op.CodeConfigInvalid, "module_config[%d].config: %v", i, err)
			}
			mod.Config = raw
		}
		s.Modules = append(s.Modules, mod)
	}
	if len(r.TraitGrants) > 0 {
		s.TraitGrants = make(map[string]v1alpha1.TraitEntries, len(r.TraitGrants))
		for role, rules := range r.TraitGrants {
			entries := make([]string, 0, len(rules))
			for _, rule := range rules {
				entries = append(entries, strings.Join(rule, "|"))
			}
			s.TraitGrants[role] = entries
		}
	}
	if len(r.ScheduleData) > 0 {
		raw, err := rawJSON(r.ScheduleData)
		if err != nil {
			return v1alpha1.RoomSpec{}, op.Errorf(op.CodeConfigInvalid, "schedule_data: %v", err)
		}
		s.ScheduleData = raw
	}
	return s, nil
}

func rawJSON(v any) (*runtime.RawExtension, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return &runtime.RawExtension{Raw: b}, nil
}
