package engine

import (
	"slices"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/op"
)

// WorldView is the world as one client may see it: what venueless sends
// as world.config.
type WorldView struct {
	ID, Title string
	// Permissions are the client's world permissions by name.
	Permissions []string
	Rooms       []VisibleRoom
}

// VisibleRoom is a room the client may view, as it sees it.
type VisibleRoom struct {
	// Room is the catalog's configuration, shared with it (World) or a
	// copy (Room); callers must not modify it.
	Room *catalog.Room
	// Permissions are the client's room permissions by name (room:viewers
	// only where the room shows its viewers).
	Permissions []string
	// AllowedReactions are the reactions React accepts in the room, never
	// empty.
	AllowedReactions []string
	// Users is the room's occupancy as its owner last told this node.
	Users op.Occupancy
}

// world is the world as u sees it under set, built afresh (the clients
// take it encoded, Client.EncodedWorld).
func (e *Engine) world(set *settings, u *auth.User) WorldView {
	// The catalog's own rooms, not copies: the view only reads them.
	rooms := e.catalog.ListInShared(e.scope)
	w := WorldView{ID: e.scope.World, Title: set.cfg.WorldTitle, Permissions: set.policy.World(u).Names(),
		Rooms: make([]VisibleRoom, 0, len(rooms))}
	for _, r := range rooms {
		if vr, ok := e.visible(set, u, r); ok {
			w.Rooms = append(w.Rooms, vr)
		}
	}
	return w
}

// Room is room id as this client sees it; ok is false when the room does
// not exist or the client may not view it.
func (c *Client) Room(id string) (VisibleRoom, bool) {
	r := c.eng.catalog.Get(id)
	if r == nil || !c.eng.scope.Has(r) {
		return VisibleRoom{}, false
	}
	return c.eng.visible(c.eng.settings(), c.user, r)
}

func (e *Engine) visible(set *settings, u *auth.User, r *catalog.Room) (VisibleRoom, bool) {
	perms := set.policy.Room(u, r.ID, r.TraitGrants)
	if !perms.Has(auth.RoomView) {
		return VisibleRoom{}, false
	}
	if !r.ShowViewers {
		perms &^= auth.RoomViewers
	}
	return VisibleRoom{Room: r, Permissions: perms.RoomNames(), AllowedReactions: reactionsOf(set, r),
		Users: e.edge.Occupancy(r.ID)}, true
}

// CanView reports whether the client may view room id (it exists, is of
// the client's world, and the client holds room:view there).
func (c *Client) CanView(id string) bool {
	ok := false
	policy := c.eng.settings().policy
	c.eng.catalog.View(id, func(r *catalog.Room) {
		ok = c.eng.scope.Has(r) && policy.Room(c.user, r.ID, r.TraitGrants).Has(auth.RoomView)
	})
	return ok
}

// reactionsOf is the room's allowed reaction set, never empty: the room's
// own, or the world's (World spec.reactions) when the room does not
// restrict them.
func (e *Engine) reactionsOf(r *catalog.Room) []string { return reactionsOf(e.settings(), r) }

// reactionsOf is Engine.reactionsOf under set.
func reactionsOf(set *settings, r *catalog.Room) []string {
	own := r.AllowedReactions
	if len(own) == 0 || len(own) == len(catalog.DefaultReactions) && !slices.ContainsFunc(catalog.DefaultReactions, func(x string) bool { return !slices.Contains(own, x) }) {
		if w := set.cfg.Reactions; len(w) > 0 {
			return slices.Clone(w)
		}
		return slices.Clone(catalog.DefaultReactions)
	}
	return slices.Clone(own)
}
