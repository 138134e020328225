package cluster

import (
	"context"
	"encoding/json"

	"github.com/roomring/roomring/node/cluster/membership"
)

// Pool is the operator's view of the cluster (admin.Pool): the live
// members with their admin API addresses, who owns a room, and its
// viewer count as the owner counts it. It has no state of its own beyond
// this run's identity and is safe for concurrent use.
type Pool struct {
	name, addr  string
	incarnation string
	ml          *membership.Membership
	place       Placement
	fwd         *Forwarder
}

// Self implements admin.Pool.
func (p *Pool) Self() (name, addr string) { return p.name, p.addr }

// Incarnation implements admin.Pool.
func (p *Pool) Incarnation() string { return p.incarnation }

// Members implements admin.Pool: the live members' names and admin API
// addresses.
func (p *Pool) Members() map[string]string {
	out := map[string]string{}
	for _, m := range p.ml.Members() {
		var md meta
		if json.Unmarshal(m.Meta, &md) == nil {
			out[m.Name] = md.Admin
		}
	}
	return out
}

// Owner implements admin.Pool.
func (p *Pool) Owner(room string) string { return p.place.Owner(room) }

// Viewers implements admin.Pool: the room's owner counts them.
func (p *Pool) Viewers(ctx context.Context, room string) (int, error) {
	return p.fwd.viewers(ctx, room)
}
