package catalog

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/roomring/roomring/node/auth"
)

// Clone returns a deep copy of r, so callers never share maps or slices
// with the catalog. It copies field by field: for every room the catalog
// holds (decoded from JSON, or built from such rooms) the copy equals what
// a JSON round trip of r would give (TestCloneEqualsJSONRoundTrip), without
// the round trip's encoding and garbage — Clone runs for every room a
// client lists. Strings are shared: they are immutable.
func (r *Room) Clone() *Room {
	if r == nil {
		return nil
	}
	c := *r // the scalar fields; the ones below would be shared
	if r.Picture != nil {
		p := *r.Picture
		c.Picture = &p
	}
	if r.ModuleConfig != nil {
		c.ModuleConfig = make([]map[string]any, len(r.ModuleConfig))
		for i, m := range r.ModuleConfig {
			c.ModuleConfig[i] = cloneObject(m)
		}
	}
	c.TraitGrants = cloneGrants(r.TraitGrants)
	c.ScheduleData = cloneObject(r.ScheduleData)
	c.AllowedReactions = slices.Clone(r.AllowedReactions)
	return &c
}

func cloneGrants(g auth.Grants) auth.Grants {
	if g == nil {
		return nil
	}
	out := make(auth.Grants, len(g))
	for role, rules := range g {
		var cr []auth.Rule
		if rules != nil {
			cr = make([]auth.Rule, len(rules))
			for i, rule := range rules {
				cr[i] = slices.Clone(rule)
			}
		}
		out[role] = cr
	}
	return out
}

// cloneObject deep-copies a decoded JSON object.
func cloneObject(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneValue(v)
	}
	return out
}

// cloneValue deep-copies a decoded JSON value. Anything encoding/json does
// not decode into an any (a value some code put there itself) is copied by
// a JSON round trip, as Clone always did.
func cloneValue(v any) any {
	switch v := v.(type) {
	case nil, string, float64, bool:
		return v
	case map[string]any:
		return cloneObject(v)
	case []any:
		if v == nil {
			return v
		}
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cloneValue(e)
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("catalog: marshal room value: %v", err))
	}
	var c any
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("catalog: unmarshal room value: %v", err))
	}
	return c
}
