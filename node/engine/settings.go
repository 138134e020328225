package engine

import (
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

// settings are an engine's world configuration: replaced as a whole
// (Reconfigure), read without a lock by every operation.
type settings struct {
	cfg      Config
	verifier *auth.Verifier
	policy   *auth.Policy
	frames   *frameBudget // the world's operations per second (nil: no quota)
	views    *viewCache   // the encoded world views under these settings
}

func (e *Engine) settings() *settings { return e.set.Load() }

// WorldID is the id of the engine's world.
func (e *Engine) WorldID() string { return e.scope.World }

// Scope is the engine's world as the catalog sees it.
func (e *Engine) Scope() catalog.Scope { return e.scope }

// Reconfigure replaces the world's configuration: keys, roles and grants,
// title, guests, invite links, quotas (a new frame budget starts full;
// connections over a lowered connection quota stay). Clients already connected keep their
// users and rooms and get the new permissions from their next operation;
// the caller tells them (world.updated). The world id, its scope and the
// node-wide limits in cfg are not changed.
func (e *Engine) Reconfigure(cfg Config, v *auth.Verifier, p *auth.Policy) {
	old := e.settings().cfg
	cfg.WorldID, cfg.Builtin, cfg.MaxConnsPerUser, cfg.MaxProfileBytes, cfg.Invites = old.WorldID, old.Builtin, old.MaxConnsPerUser, old.MaxProfileBytes, old.Invites
	cfg.WorldViewCacheEntries = old.WorldViewCacheEntries
	e.set.Store(&settings{cfg: cfg, verifier: v, policy: p, frames: newFrameBudget(cfg.Quotas),
		views: newViewCache(cfg.WorldViewCacheEntries)})
}

// CloseWorld closes the engine's world on this node: every client is told
// (Sink.WorldClosed) and must close; clients that start later are told at
// once. It is idempotent.
func (e *Engine) CloseWorld() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	var sinks []Sink
	for _, list := range e.perUser {
		for _, c := range list {
			sinks = append(sinks, c.sink)
		}
	}
	e.mu.Unlock()
	for _, s := range sinks {
		s.WorldClosed()
	}
}

// Connections is the number of the world's clients on this node.
func (e *Engine) Connections() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.conns
}
