package engine

import (
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/ratelimit"
)

// Quotas bound one world's share of a node (World spec.quotas), so that
// one event cannot starve the others; 0 leaves a bound off (the node's own
// limits still apply).
type Quotas struct {
	// Connections bounds the world's client websockets on this node.
	Connections int
	// FramesPerSecond bounds the operations the world's authenticated
	// clients send per second on this node, all together (a token bucket
	// holding one second's worth).
	FramesPerSecond int
	// ResourceReactions bounds the resource reactions stored in the
	// world, pool-wide: unlike the others it is counted by the store, and
	// the room's owner enforces it (reaction.World).
	ResourceReactions int
}

// frameBudget is a world's shared bucket of operations (nil: no quota).
type frameBudget = ratelimit.Keyed[struct{}]

func newFrameBudget(q Quotas) *frameBudget {
	if q.FramesPerSecond <= 0 {
		return nil
	}
	return ratelimit.NewKeyed[struct{}](float64(q.FramesPerSecond), q.FramesPerSecond, 1)
}

// takeFrame spends one operation of the world's budget; over it, the
// operation is protocol.rate_limited and not executed.
func (e *Engine) takeFrame() *op.Error {
	if b := e.settings().frames; b != nil && !b.Take(struct{}{}, time.Now()) {
		return op.Errorf(op.CodeRateLimited, "this world is over its quota of frames per second; slow down")
	}
	return nil
}

// Admit counts a new client websocket of the world against its connection
// quota and reports whether it may stay; Release must follow an admitted
// one when it closes.
func (e *Engine) Admit() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if max := e.settings().cfg.Quotas.Connections; max > 0 && e.sockets >= max {
		return false
	}
	e.sockets++
	return true
}

// Release ends an admitted websocket's count.
func (e *Engine) Release() {
	e.mu.Lock()
	e.sockets--
	e.mu.Unlock()
}
