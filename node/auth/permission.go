package auth

import (
	"encoding/json"
	"fmt"
	"sort"
)

// Perm is a set of permissions as a bit mask.
type Perm uint32

// Permissions, named as venueless names them.
const (
	RoomView Perm = 1 << iota
	RoomReact
	RoomViewers
	RoomAnnounce
	RoomInviteAnonymous
	RoomUpdate
	RoomDelete
	WorldRoomsCreate
	// The create permissions of venueless' room types, which its web app
	// checks before it shows a create button: a stage (livestream.native),
	// a text chat (chat.native), a video call (call.bigbluebutton).
	WorldRoomsCreateStage
	WorldRoomsCreateChat
	WorldRoomsCreateBBB
)

// WorldPerms are the world-level permissions: a room's config never lists
// them.
const WorldPerms = WorldRoomsCreate | WorldRoomsCreateStage | WorldRoomsCreateChat | WorldRoomsCreateBBB

var permNames = []struct {
	p    Perm
	name string
}{
	{RoomView, "room:view"},
	{RoomReact, "room:react"},
	{RoomViewers, "room:viewers"},
	{RoomAnnounce, "room:announce"},
	{RoomInviteAnonymous, "room:invite.anonymous"},
	{RoomUpdate, "room:update"},
	{RoomDelete, "room:delete"},
	{WorldRoomsCreate, "world:rooms.create"},
	{WorldRoomsCreateStage, "world:rooms.create.stage"},
	{WorldRoomsCreateChat, "world:rooms.create.chat"},
	{WorldRoomsCreateBBB, "world:rooms.create.bbb"},
}

// Has reports whether every permission of q is in p.
func (p Perm) Has(q Perm) bool { return p&q == q }

// Names lists the permissions of p by name, room permissions first.
func (p Perm) Names() []string {
	out := []string{}
	for _, n := range permNames {
		if p.Has(n.p) {
			out = append(out, n.name)
		}
	}
	return out
}

// RoomNames lists p's permissions without world-level ones, as venueless
// shows them in a room's config.
func (p Perm) RoomNames() []string { return (p &^ WorldPerms).Names() }

// Roles maps a role name to its permissions.
type Roles map[string]Perm

// DefaultRoles are venueless' default roles (docs/protocol.md, "Permissions"), plus participant: a viewer who
// also sees who else is in the room (for rooms where attendees meet, granted
// per room). The admin holds venueless' per-type create permissions
// (world:rooms.create.stage, .chat, .bbb) besides roomring's
// world:rooms.create.
func DefaultRoles() Roles {
	viewer := RoomView | RoomReact
	participant := viewer | RoomViewers
	moderator := viewer | RoomViewers | RoomAnnounce | RoomInviteAnonymous
	admin := moderator | RoomUpdate | RoomDelete | WorldPerms
	return Roles{"viewer": viewer, "participant": participant, "moderator": moderator, "admin": admin}
}

// ParseRoles reads roles in venueless' shape (role name → permission
// names); no roles at all is DefaultRoles. An unknown permission name is
// an error.
func ParseRoles(in map[string][]string) (Roles, error) {
	if len(in) == 0 {
		return DefaultRoles(), nil
	}
	out := make(Roles, len(in))
	for role, names := range in {
		if role == "" {
			return nil, fmt.Errorf("a role needs a name")
		}
		var p Perm
		for _, name := range names {
			q, ok := permByName(name)
			if !ok {
				return nil, fmt.Errorf("role %s: unknown permission %q", role, name)
			}
			p |= q
		}
		out[role] = p
	}
	return out, nil
}

func permByName(name string) (Perm, bool) {
	for _, n := range permNames {
		if n.name == name {
			return n.p, true
		}
	}
	return 0, false
}

// Rule is one entry of a trait grant: satisfied when the user has any of its
// traits. In JSON a single-trait rule is a string, an any-of rule a list.
type Rule []string

// MarshalJSON writes a one-trait rule as a bare string, like venueless.
func (r Rule) MarshalJSON() ([]byte, error) {
	if len(r) == 1 {
		return json.Marshal(r[0])
	}
	return json.Marshal([]string(r))
}

// UnmarshalJSON accepts a string or a list of strings.
func (r *Rule) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = Rule{s}
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return fmt.Errorf("trait rule must be a string or a list of strings")
	}
	*r = l
	return nil
}

// Grants maps a role to the rules a user must all satisfy to hold it. A role
// with no rules is held by everyone.
type Grants map[string][]Rule

// Roles returns the roles u holds under g, sorted.
func (g Grants) RolesOf(traits []string) []string {
	have := make(map[string]struct{}, len(traits))
	for _, t := range traits {
		have[t] = struct{}{}
	}
	var out []string
	for role, rules := range g {
		ok := true
		for _, r := range rules {
			any := false
			for _, t := range r {
				if _, found := have[t]; found {
					any = true
					break
				}
			}
			if !any {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, role)
		}
	}
	sort.Strings(out)
	return out
}

// Policy computes permissions from world-level grants, per-room grants and
// role definitions. It is immutable and safe for concurrent use.
type Policy struct {
	Roles       Roles
	WorldGrants Grants
}

// World returns the world-level permissions of u.
func (p *Policy) World(u *User) Perm {
	if u.InviteRoom != "" {
		return 0
	}
	return p.permsFor(p.WorldGrants, u.Traits)
}

// Room returns u's permissions in a room with the given grants.
func (p *Policy) Room(u *User, roomID string, roomGrants Grants) Perm {
	if u.InviteRoom != "" {
		if u.InviteRoom == roomID {
			return RoomView | RoomReact
		}
		return 0
	}
	return p.permsFor(p.WorldGrants, u.Traits) | p.permsFor(roomGrants, u.Traits)
}

func (p *Policy) permsFor(g Grants, traits []string) Perm {
	var out Perm
	for _, role := range g.RolesOf(traits) {
		out |= p.Roles[role]
	}
	return out
}

// DevGrants are the world grants of --dev: trait admin → admin, trait
// moderator → moderator, everyone → viewer.
func DevGrants() Grants {
	return Grants{"admin": {{"admin"}}, "moderator": {{"moderator"}}, "viewer": {}}
}
