package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
)

// Pool is a node's view of the pool it serves in, as the admin API reports
// it: who this node is, who is alive, which member owns a room and how many
// viewers the room has. A standalone node is a pool of one (LocalPool); the
// cluster implements Pool over gossip membership and the consistent-hash
// ring, asking a room's owner for its viewer count.
type Pool interface {
	// Self is this node's name and the address of its admin API.
	Self() (name, addr string)
	// Incarnation identifies this run of the node; it changes on restart.
	Incarnation() string
	// Members are the live members, this node included: each member's
	// name and the address of its admin API.
	Members() map[string]string
	// Owner is the member that owns room ("" when none can).
	Owner(room string) string
	// Viewers is the number of distinct users in room, as its owner
	// counts them.
	Viewers(ctx context.Context, room string) (int, error)
}

// ViewerCounter counts a room's viewers on the node that owns it
// (*room.Manager).
type ViewerCounter interface {
	Viewers(room string) int
}

// LocalPool is the pool of a node that is alone: it owns every room.
type LocalPool struct {
	name, addr  string
	incarnation string
	rooms       ViewerCounter
}

// NewLocalPool returns the pool of one node named name whose admin API
// answers at addr, counting viewers with rooms.
func NewLocalPool(name, addr string, rooms ViewerCounter) *LocalPool {
	return &LocalPool{name: name, addr: addr, incarnation: NewIncarnation(), rooms: rooms}
}

// NewIncarnation returns a random incarnation id.
func NewIncarnation() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it panics instead)
	return hex.EncodeToString(b)
}

// Self implements Pool.
func (p *LocalPool) Self() (name, addr string) { return p.name, p.addr }

// Incarnation implements Pool.
func (p *LocalPool) Incarnation() string { return p.incarnation }

// Members implements Pool.
func (p *LocalPool) Members() map[string]string { return map[string]string{p.name: p.addr} }

// Owner implements Pool: this node owns every room.
func (p *LocalPool) Owner(string) string { return p.name }

// Viewers implements Pool.
func (p *LocalPool) Viewers(_ context.Context, room string) (int, error) {
	return p.rooms.Viewers(room), nil
}
