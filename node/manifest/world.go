package manifest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

// WorldFromSpec converts a World's spec, with the values of the JWT
// secrets it references (spec.jwt.secrets, in order), to the catalog's
// form, validated (catalog.World.Validate).
func WorldFromSpec(id string, s *v1alpha1.WorldSpec, secrets [][]byte) (*catalog.World, error) {
	if len(secrets) != len(s.JWT.Secrets) {
		return nil, fmt.Errorf("spec.jwt.secrets names %d secrets, %d values given", len(s.JWT.Secrets), len(secrets))
	}
	w := &catalog.World{
		ID:             id,
		Title:          s.DisplayName,
		Secrets:        slices.Clone(secrets),
		Issuers:        slices.Clone(s.JWT.Issuers),
		Audiences:      slices.Clone(s.JWT.Audiences),
		AllowGuests:    s.AllowGuests,
		PublicURL:      strings.TrimRight(s.PublicURL, "/"),
		InviteRedirect: s.InviteRedirect,
		Reactions:      slices.Clone(s.Reactions),
		Quotas: catalog.WorldQuotas{Connections: int(s.Quotas.Connections),
			FramesPerSecond: int(s.Quotas.FramesPerSecond), ResourceReactions: int(s.Quotas.ResourceReactions)},
	}
	if len(s.Roles) > 0 {
		w.Roles = make(map[string][]string, len(s.Roles))
		for role, perms := range s.Roles {
			w.Roles[role] = slices.Clone(perms)
		}
	}
	if s.TraitGrants != nil {
		w.TraitGrants = grantsOf(s.TraitGrants)
	}
	if err := w.Validate(); err != nil {
		return nil, err
	}
	return w, nil
}

// grantsOf converts trait grants from the API's shape ("a|b" is any of a
// and b) to the catalog's.
func grantsOf(in map[string]v1alpha1.TraitEntries) auth.Grants {
	out := make(auth.Grants, len(in))
	for _, role := range slices.Sorted(maps.Keys(in)) {
		rules := make([]auth.Rule, 0, len(in[role]))
		for _, e := range in[role] {
			rules = append(rules, auth.Rule(strings.Split(e, "|")))
		}
		out[role] = rules
	}
	return out
}
