package node

import (
	"context"
	"log/slog"
	"net/netip"
	"slices"
	"sync"

	"github.com/roomring/roomring/node/announce"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
)

// worlds is the node's registry of worlds: world id → the engine serving
// its clients. It holds the built-in world (from the node's flags) and one
// engine per world record of the catalog, and follows the catalog's world
// changes (the announcer's world hook, whichever node made them): a new
// world gets an engine, a replaced one is reconfigured in place (its
// clients stay), a deleted one is closed (its clients are disconnected and
// its rooms no longer served). A world record named like the built-in world
// replaces the built-in configuration; deleting it restores the flags'.
//
// Concurrency: one RWMutex guards the map; engines are called without it
// except Reconfigure, which does not call back (CloseWorld, which writes
// to sockets, runs after it is released). Under it the registry reads the
// catalog, never the other way round.
type worlds struct {
	cat      *catalog.Catalog
	announce *announce.Announcer
	log      *slog.Logger
	// builtin is the built-in world's flag configuration.
	builtin     engine.Config
	builtinAuth auth.Secret
	builtinPol  *auth.Policy
	// newEngine builds a world's engine over the node's shared parts.
	newEngine func(engine.Config, *auth.Verifier, *auth.Policy) *engine.Engine
	// base completes a world's engine config (node-wide values).
	base engine.Config
	// publicURL is the node's --public-url, the default of a world's.
	publicURL string
	// closed is told the id of a world once it is closed here (its metric
	// series go); nil: nobody.
	closed func(id string)

	mu   sync.RWMutex
	byID map[string]*engine.Engine
}

// start makes the engines of the built-in world and of every world the
// catalog holds.
func (w *worlds) start() {
	w.byID = map[string]*engine.Engine{}
	w.byID[w.builtin.WorldID] = w.newEngine(w.builtin, auth.NewVerifier([]auth.Secret{w.builtinAuth}), w.builtinPol)
	for _, rec := range w.cat.Worlds() {
		w.changed(catalog.Change{ID: rec.ID, WorldAfter: rec})
	}
}

// Engine returns the engine of world id, or nil.
func (w *worlds) Engine(id string) *engine.Engine {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.byID[id]
}

// Builtin returns the built-in world's engine.
func (w *worlds) Builtin() *engine.Engine { return w.Engine(w.builtin.WorldID) }

// IDs returns the ids of the worlds served, sorted.
func (w *worlds) IDs() []string {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]string, 0, len(w.byID))
	for id := range w.byID {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// settingsOf is a world record's engine configuration.
func (w *worlds) settingsOf(rec *catalog.World) (engine.Config, *auth.Verifier, *auth.Policy, error) {
	roles, err := auth.ParseRoles(rec.Roles)
	if err != nil {
		return engine.Config{}, nil, nil, err
	}
	secrets := make([]auth.Secret, 0, len(rec.Secrets))
	for _, k := range rec.Secrets {
		secrets = append(secrets, auth.Secret{Key: k, Issuers: rec.Issuers, Audiences: rec.Audiences})
	}
	cfg := w.base
	pub := rec.PublicURL
	if pub == "" {
		pub = w.publicURL
	}
	cfg.WorldID, cfg.WorldTitle, cfg.AllowGuests = rec.ID, rec.Title, rec.AllowGuests
	cfg.InviteBaseURL, cfg.InviteRedirect = pub+"/i", rec.InviteRedirect
	cfg.Builtin = rec.ID == w.builtin.WorldID
	cfg.Reactions = rec.Reactions
	cfg.Quotas = engine.Quotas{Connections: rec.Quotas.Connections, FramesPerSecond: rec.Quotas.FramesPerSecond,
		ResourceReactions: rec.Quotas.ResourceReactions}
	return cfg, auth.NewVerifier(secrets), &auth.Policy{Roles: roles, WorldGrants: rec.TraitGrants}, nil
}

// changed follows a world change of the catalog (the announcer's world
// hook, called before the world's clients get world.updated). It serves
// the world as the catalog holds it when it runs, not as the change says:
// hooks of concurrent writes (a local PUT, a peer's record) may run in
// another order than the writes, and the last one must leave the newest
// configuration.
func (w *worlds) changed(ch catalog.Change) {
	if !ch.IsWorld() {
		return
	}
	id := ch.ID
	w.mu.Lock()
	ch.WorldAfter = w.cat.World(id)
	var closed *engine.Engine
	defer func() {
		w.mu.Unlock()
		if closed != nil {
			closed.CloseWorld() // outside the lock: it writes to sockets
			if w.closed != nil {
				w.closed(id)
			}
			w.log.Info("world closed", "world", id)
		}
	}()
	cur := w.byID[id]
	switch {
	case ch.WorldAfter == nil && id == w.builtin.WorldID:
		if cur != nil {
			cur.Reconfigure(w.builtin, auth.NewVerifier([]auth.Secret{w.builtinAuth}), w.builtinPol)
		}
	case ch.WorldAfter == nil:
		if cur != nil {
			delete(w.byID, id)
			closed = cur
		}
	default:
		cfg, v, p, err := w.settingsOf(ch.WorldAfter)
		if err != nil { // validated where it was written; a newer node's record?
			w.log.Error("world configuration not served", "world", id, "err", err)
			return
		}
		if cur != nil {
			cur.Reconfigure(cfg, v, p)
			return
		}
		w.byID[id] = w.newEngine(cfg, v, p)
		w.log.Info("world served", "world", id)
	}
}

// WorldIDs implements admin.Worlds.
func (w *worlds) WorldIDs() []string { return w.IDs() }

// PutWorld implements admin.Worlds: the catalog stores (and replicates)
// the world; the announcer's hook then serves it here.
func (w *worlds) PutWorld(ctx context.Context, rec *catalog.World) (engine.Change, error) {
	ch, err := w.cat.PutWorld(ctx, rec)
	if err != nil {
		return "", err
	}
	switch {
	case ch.WorldBefore.Equal(ch.WorldAfter):
		return engine.Unchanged, nil
	case ch.WorldBefore == nil:
		w.announce.Changes(ch)
		return engine.Created, nil
	}
	w.announce.Changes(ch)
	return engine.Updated, nil
}

// DeleteWorld implements admin.Worlds: world.unknown for a world the node
// does not serve; the built-in world's record may be deleted (the flags'
// configuration comes back), the built-in world itself not.
func (w *worlds) DeleteWorld(ctx context.Context, id string) error {
	ch, err := w.cat.DeleteWorld(ctx, id)
	if err != nil {
		return err
	}
	w.announce.Changes(ch)
	return nil
}

// WorldStatus implements admin.Worlds: the world's rooms and this node's
// connections of it.
func (w *worlds) WorldStatus(id string) (rooms, conns int, ok bool) {
	e := w.Engine(id)
	if e == nil {
		return 0, 0, false
	}
	return w.cat.CountIn(e.Scope()), e.Connections(), true
}

// InviteRedirect implements server.Worlds: where the invite link of code
// sends a browser from source — the invite redirect of the code's room's
// world with {room} and {code} filled in; auth.denied for an unknown or
// expired code (counted against source, engine.InviteRoom) or a room of
// no world the node serves.
func (w *worlds) InviteRedirect(ctx context.Context, source netip.Addr, code string) (string, *op.Error) {
	room, err := w.Builtin().InviteRoom(ctx, source, code)
	if err != nil {
		return "", err
	}
	r := w.cat.Get(room)
	var e *engine.Engine
	if r != nil {
		e = w.Engine(catalog.WorldOf(r, w.builtin.WorldID))
	}
	if e == nil {
		return "", op.Errorf(op.CodeAuthDenied, "invite is unknown or expired")
	}
	return e.InviteTarget(room, code), nil
}
