package engine

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
)

// DefaultWorldViewCacheEntries is the default of --world-view-cache-entries.
const DefaultWorldViewCacheEntries = 64

// WorldEncoder encodes a world view for the wire (venueless'
// world.updated push). It must be a pure function of the view: its result
// is shared by every client of the view's class (EncodedWorld).
type WorldEncoder func(WorldView) []byte

// EncodedWorld is the client's world view as the engine's WorldEncoder
// (Deps.EncodeWorld) encodes it: byte for byte the encoding of the view
// built afresh at the time of the call. The bytes are shared with other
// clients and the engine's cache: callers must not modify them. Safe for
// concurrent use.
func (c *Client) EncodedWorld() []byte { return c.eng.encodedWorld(c.eng.settings(), c.user) }

// viewCache holds the encoded world views of one world's settings, at
// most max of them (0: none, every view is built), one per class of
// users. A class is what of a user the view depends on (viewGen.key):
// its traits that some grant names, or its invite room; nothing else of
// a user (id, profile, guest or incognito) is in the view. The views of
// one class differ only when one of these changes, each of which makes a
// new cache:
//
//   - the world's settings (title, roles, grants, reactions): Reconfigure
//     stores new settings, with an empty viewCache of their own;
//   - the catalog's rooms, any field of any room of any world
//     (catalog.Catalog.Generation);
//   - a room's occupancy bucket as this edge heard it, in any world
//     (edge.Edge.OccupancyGeneration).
//
// The last two are the epoch: a generation (viewGen) holds the entries of
// one epoch, and the first lookup after the epoch moved replaces it whole
// (drop-all); within a generation the least recently used entry goes
// when a new one would exceed max.
//
// Concurrency: lookups from any number of goroutines (authentications,
// world.updated fan-outs). The current generation is an atomic pointer;
// a generation's entries are under its own mutex, held only to look up or
// store, never while building. A view is built without any lock and
// stored only when the epoch read before the build is still the epoch
// after it: the catalog and the edge move their generations after a
// change is visible to readers, so a change racing a build either is seen
// by it entirely or moves the epoch, and the view is then returned to its
// caller but not cached. Clients that miss together each build (no
// single flight): the first of a storm cost what they did before.
type viewCache struct {
	max int
	cur atomic.Pointer[viewGen]
}

func newViewCache(max int) *viewCache { return &viewCache{max: max} }

// viewEpoch is what moves when any class's view may change, settings
// apart (a viewCache is of one settings).
type viewEpoch struct{ catalog, occupancy uint64 }

func (e *Engine) viewEpoch() viewEpoch {
	return viewEpoch{catalog: e.catalog.Generation(), occupancy: e.edge.OccupancyGeneration()}
}

// viewGen is the cache of one epoch.
type viewGen struct {
	epoch viewEpoch
	// relevant are the traits some grant of the epoch names (the world's
	// or a room's): the only traits a view depends on. Read-only.
	relevant map[string]struct{}

	mu      sync.Mutex
	entries map[string]*viewEntry
	clock   uint64 // counts uses, for LRU
}

type viewEntry struct {
	b    []byte
	used uint64
}

// encodedWorld is EncodedWorld for u under set.
func (e *Engine) encodedWorld(set *settings, u *auth.User) []byte {
	build := func() []byte { return e.encodeWorld(e.world(set, u)) }
	vc := set.views
	if vc.max <= 0 {
		return build()
	}
	ep := e.viewEpoch()
	g := e.generation(set, ep)
	if g == nil {
		return build()
	}
	key := g.key(u)
	if b := g.get(key); b != nil {
		return b
	}
	b := build()
	if e.viewEpoch() == ep {
		g.put(key, b, vc.max)
	}
	return b
}

// generation returns set's generation of epoch ep, making it when the
// current one is older; nil when the epoch moved meanwhile.
func (e *Engine) generation(set *settings, ep viewEpoch) *viewGen {
	vc := set.views
	old := vc.cur.Load()
	if old != nil && old.epoch == ep {
		return old
	}
	g := &viewGen{epoch: ep, relevant: relevantTraits(set.policy, e.catalog.ListInShared(e.scope)),
		entries: make(map[string]*viewEntry)}
	if e.viewEpoch() != ep {
		return nil // the traits may be of a later catalog
	}
	if vc.cur.CompareAndSwap(old, g) {
		return g
	}
	if cur := vc.cur.Load(); cur != nil && cur.epoch == ep {
		return cur
	}
	return nil
}

// relevantTraits are the traits the world's grants and its rooms' grants
// name: auth.Policy looks a user's traits up only among these.
func relevantTraits(p *auth.Policy, rooms []*catalog.Room) map[string]struct{} {
	out := map[string]struct{}{}
	add := func(g auth.Grants) {
		for _, rules := range g {
			for _, r := range rules {
				for _, t := range r {
					out[t] = struct{}{}
				}
			}
		}
	}
	add(p.WorldGrants)
	for _, r := range rooms {
		add(r.TraitGrants)
	}
	return out
}

// key is u's class in g: "i" and the invite room for an invitee (the
// policy grants an invitee its room's view and nothing else, whatever its
// traits), else "t" and u's relevant traits, sorted, without repeats, each
// prefixed by its length.
func (g *viewGen) key(u *auth.User) string {
	if u.InviteRoom != "" {
		return "i" + u.InviteRoom
	}
	var ts []string
	for _, t := range u.Traits {
		if _, ok := g.relevant[t]; ok {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	ts = slices.Compact(ts)
	b := []byte{'t'}
	for _, t := range ts {
		b = strconv.AppendInt(b, int64(len(t)), 10)
		b = append(b, ':')
		b = append(b, t...)
	}
	return string(b)
}

func (g *viewGen) get(key string) []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	en := g.entries[key]
	if en == nil {
		return nil
	}
	g.clock++
	en.used = g.clock
	return en.b
}

// put stores b as key's view unless one is stored already (an equal one,
// built by a concurrent miss), evicting the least recently used entry
// when g holds max.
func (g *viewGen) put(key string, b []byte, max int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.entries[key] != nil {
		return
	}
	if len(g.entries) >= max {
		var lru string
		oldest := ^uint64(0)
		for k, en := range g.entries {
			if en.used < oldest {
				lru, oldest = k, en.used
			}
		}
		delete(g.entries, lru)
	}
	g.clock++
	g.entries[key] = &viewEntry{b: b, used: g.clock}
}
