package cluster

import (
	"context"
	"encoding/json"

	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/cluster/membership"
)

// pool is the operator's view of the cluster (admin.Pool): the live
// members with their admin API addresses, who owns a room, and its
// viewer count as the owner counts it. It has no state of its own beyond
// this run's identity and is safe for concurrent use.
type pool struct {
	self        admin.Member
	incarnation string
	ml          *membership.Membership
	place       Placement
	fwd         *Forwarder
}

var _ admin.Pool = (*pool)(nil)

// Self implements admin.Pool.
func (p *pool) Self() admin.Member { return p.self }

// Incarnation implements admin.Pool.
func (p *pool) Incarnation() string { return p.incarnation }

// Members implements admin.Pool: the live members with their admin API
// addresses, sorted by name.
func (p *pool) Members() []admin.Member {
	var out []admin.Member
	for _, m := range p.ml.Members() {
		var md meta
		if json.Unmarshal(m.Meta, &md) == nil {
			out = append(out, admin.Member{Name: m.Name, Addr: md.Admin})
		}
	}
	return out
}

// Owner implements admin.Pool.
func (p *pool) Owner(room string) string { return p.place.Owner(room) }

// Viewers implements admin.Pool: the room's owner counts them.
func (p *pool) Viewers(ctx context.Context, room string) (int, error) {
	return p.fwd.viewers(ctx, room)
}
