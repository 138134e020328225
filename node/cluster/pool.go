package cluster

import (
	"context"
	"encoding/json"
)

// The Router is the operator's view of the pool (node/admin's Pool).

// Self implements admin.Pool: this node's name and admin API address.
func (r *Router) Self() (name, addr string) { return r.name, r.adminAddr }

// Incarnation implements admin.Pool.
func (r *Router) Incarnation() string { return r.incarnation }

// Members implements admin.Pool: the live members' names and admin API
// addresses.
func (r *Router) Members() map[string]string {
	out := map[string]string{}
	for _, m := range r.ml.Members() {
		var md meta
		if json.Unmarshal(m.Meta, &md) == nil {
			out[m.Name] = md.Admin
		}
	}
	return out
}

// Owner implements admin.Pool.
func (r *Router) Owner(room string) string { return r.OwnerOf(room) }

// Viewers implements admin.Pool: the room's owner counts them.
func (r *Router) Viewers(ctx context.Context, room string) (int, error) {
	resp, err := r.ownerCall(ctx, &request{Op: opViewers, Room: room})
	if err != nil {
		return 0, err
	}
	return resp.Count, resp.err()
}
