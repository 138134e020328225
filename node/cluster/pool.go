package cluster

import (
	"context"
	"encoding/json"

	"github.com/roomring/roomring/api/adminapi"

	"github.com/roomring/roomring/node/admin"
)

// The Router is the operator's view of the pool (admin.Pool).
var _ admin.Pool = (*Router)(nil)

// Self implements admin.Pool.
func (r *Router) Self() adminapi.Member { return adminapi.Member{Name: r.name, Addr: r.adminAddr} }

// Incarnation implements admin.Pool.
func (r *Router) Incarnation() string { return r.incarnation }

// Members implements admin.Pool: the live members with their admin API
// addresses, sorted by name.
func (r *Router) Members() []adminapi.Member {
	var out []adminapi.Member
	for _, m := range r.ml.Members() {
		var md meta
		if json.Unmarshal(m.Meta, &md) == nil {
			out = append(out, adminapi.Member{Name: m.Name, Addr: md.Admin})
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
