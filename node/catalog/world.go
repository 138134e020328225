package catalog

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/op"
)

// Worlds. One pool serves many events (venueless' worlds), each with its
// own keys, roles and rooms. A world's configuration is a record of the
// catalog like a room's, under the reserved store key worldKey(id):
// versioned, persisted, replicated and tombstoned by the same code
// (replica.go, gc.go), so a world put on one node reaches every node and
// survives restarts. A room names its world in Room.World (empty: the
// node's built-in world, see Scope).

// Limits of world configuration fields (the World API's).
const (
	MaxWorldTitleLen = 200
	MaxWorldSecrets  = 8
	MinSecretLen     = 32
	MaxWorldIssuers  = 8
	MaxWorldRoles    = 32
	MaxWorldURLLen   = 2000
)

// worldPrefix starts the store keys of world records.
const worldPrefix = reservedPrefix + "world:"

// worldIDPattern is a World's metadata.name: a DNS label.
var worldIDPattern = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// ValidWorldID reports whether id can name a world.
func ValidWorldID(id string) bool { return worldIDPattern.MatchString(id) }

func worldKey(id string) string { return worldPrefix + id }

// worldIDOf returns the world id of a world record's key.
func worldIDOf(key string) (string, bool) { return strings.CutPrefix(key, worldPrefix) }

// WorldQuotas bound one world's share of a node (0: no bound).
type WorldQuotas struct {
	Connections       int `json:"connections,omitempty"`
	FramesPerSecond   int `json:"frames_per_second,omitempty"`
	ResourceReactions int `json:"resource_reactions,omitempty"`
}

// World is one world's configuration as the node serves it.
type World struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	// Secrets are the HS256 keys of session tokens; any one verifies.
	Secrets [][]byte `json:"secrets,omitempty"`
	// Sealed are the secrets encrypted, in a record of a cluster's
	// catalog (seal.go); never set in the catalog's own copy.
	Sealed    [][]byte `json:"sealed,omitempty"`
	Issuers   []string `json:"issuers,omitempty"`
	Audiences []string `json:"audiences,omitempty"`
	// Roles maps a role to permission names; empty: auth.DefaultRoles.
	Roles map[string][]string `json:"roles,omitempty"`
	// TraitGrants are the world-level grants (every room of the world).
	TraitGrants    auth.Grants `json:"trait_grants,omitempty"`
	AllowGuests    bool        `json:"allow_guests,omitempty"`
	PublicURL      string      `json:"public_url,omitempty"`
	InviteRedirect string      `json:"invite_redirect,omitempty"`
	// Reactions are the reactions of the world's rooms that list none.
	Reactions []string    `json:"reactions,omitempty"`
	Quotas    WorldQuotas `json:"quotas,omitzero"`
}

// Clone returns a deep copy of w.
func (w *World) Clone() *World {
	b, err := json.Marshal(w)
	if err != nil {
		panic(fmt.Sprintf("catalog: marshal world: %v", err))
	}
	var c World
	if err := json.Unmarshal(b, &c); err != nil {
		panic(fmt.Sprintf("catalog: unmarshal world: %v", err))
	}
	return &c
}

// Equal reports whether w and o are the same configuration.
func (w *World) Equal(o *World) bool {
	if w == nil || o == nil {
		return w == o
	}
	a, erra := json.Marshal(w)
	b, errb := json.Marshal(o)
	return erra == nil && errb == nil && bytes.Equal(a, b)
}

// Validate checks w against the World API's rules; it is the one place
// world configuration is validated, whichever way it came (admin API,
// --rooms file, flags).
func (w *World) Validate() *op.Error {
	switch {
	case !ValidWorldID(w.ID):
		return op.Errorf(op.CodeConfigInvalid, "world id %q must be a DNS label of at most 63 characters", w.ID)
	case strings.TrimSpace(w.Title) == "" || utf8.RuneCountInString(w.Title) > MaxWorldTitleLen:
		return op.Errorf(op.CodeConfigInvalid, "displayName must be 1 to %d characters, not only blanks", MaxWorldTitleLen)
	case len(w.Secrets) == 0 || len(w.Secrets) > MaxWorldSecrets:
		return op.Errorf(op.CodeConfigInvalid, "jwt.secrets: 1 to %d secrets", MaxWorldSecrets)
	case len(w.Issuers) > MaxWorldIssuers || len(w.Audiences) > MaxWorldIssuers:
		return op.Errorf(op.CodeConfigInvalid, "jwt: at most %d issuers and %d audiences", MaxWorldIssuers, MaxWorldIssuers)
	case len(w.Roles) > MaxWorldRoles || len(w.TraitGrants) > MaxWorldRoles:
		return op.Errorf(op.CodeConfigInvalid, "at most %d roles and %d trait grants", MaxWorldRoles, MaxWorldRoles)
	case len(w.PublicURL) > MaxWorldURLLen || w.PublicURL != "" && !strings.HasPrefix(w.PublicURL, "http://") && !strings.HasPrefix(w.PublicURL, "https://"):
		return op.Errorf(op.CodeConfigInvalid, "publicURL must be an http(s) URL of at most %d characters", MaxWorldURLLen)
	case len(w.InviteRedirect) > MaxWorldURLLen:
		return op.Errorf(op.CodeConfigInvalid, "inviteRedirect must be at most %d characters", MaxWorldURLLen)
	case w.Quotas.Connections < 0 || w.Quotas.FramesPerSecond < 0 || w.Quotas.ResourceReactions < 0:
		return op.Errorf(op.CodeConfigInvalid, "quotas must be >= 0")
	}
	for i, s := range w.Secrets {
		if len(s) < MinSecretLen {
			return op.Errorf(op.CodeConfigInvalid, "jwt.secrets[%d] must be at least %d bytes", i, MinSecretLen)
		}
	}
	for _, l := range [][]string{w.Issuers, w.Audiences} {
		for _, s := range l {
			if s == "" || len(s) > 200 {
				return op.Errorf(op.CodeConfigInvalid, "jwt issuers and audiences must be 1 to 200 characters")
			}
		}
	}
	if _, err := auth.ParseRoles(w.Roles); err != nil {
		return op.Errorf(op.CodeConfigInvalid, "roles: %v", err)
	}
	for i, e := range w.Reactions {
		if !slices.Contains(DefaultReactions, e) || slices.Index(w.Reactions, e) != i {
			return op.Errorf(op.CodeConfigInvalid, "reactions: %q is not one of %v or is repeated", e, DefaultReactions)
		}
	}
	return nil
}

// Scope is the rooms of one world as one node sees them: those naming
// the world, and for the node's built-in world also those naming none.
type Scope struct {
	World   string
	Builtin bool
}

// Has reports whether r belongs to the scope's world.
func (s Scope) Has(r *Room) bool { return r.World == s.World || s.Builtin && r.World == "" }

// Stored is the world id the scope's records carry: the World of a room
// created in it, and the world its resource reactions are stored under
// (store.ReactionKey). The built-in world's is "", whatever its id, so
// its rooms and reactions stay its own when --world changes and the rows
// from before worlds are its own.
func (s Scope) Stored() string {
	if s.Builtin {
		return ""
	}
	return s.World
}

// WorldOf is the id of r's world on a node whose built-in world is builtin.
func WorldOf(r *Room, builtin string) string {
	if r.World == "" {
		return builtin
	}
	return r.World
}

// ListIn returns copies of the scope's rooms, in order (as List).
func (c *Catalog) ListIn(s Scope) []*Room {
	c.mu.RLock()
	out := make([]*Room, 0, len(c.rooms))
	for _, r := range c.rooms {
		if s.Has(r) {
			out = append(out, r.Clone())
		}
	}
	c.mu.RUnlock()
	sortRooms(out)
	return out
}

// CountIn is the number of the scope's rooms.
func (c *Catalog) CountIn(s Scope) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	n := 0
	for _, r := range c.rooms {
		if s.Has(r) {
			n++
		}
	}
	return n
}

// World returns a copy of the world's stored configuration, or nil.
func (c *Catalog) World(id string) *World {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if w := c.worlds[id]; w != nil {
		return w.Clone()
	}
	return nil
}

// Worlds returns copies of every stored world, by id.
func (c *Catalog) Worlds() []*World {
	c.mu.RLock()
	out := make([]*World, 0, len(c.worlds))
	for _, w := range c.worlds {
		out = append(out, w.Clone())
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// PutWorld validates and stores a world's configuration, replacing the
// one it had. It returns the change (Before nil: created; both equal:
// unchanged, nothing written).
func (c *Catalog) PutWorld(ctx context.Context, w *World) (Change, error) {
	if err := w.Validate(); err != nil {
		return Change{}, err
	}
	w = w.Clone()
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.worlds[w.ID]
	ch := Change{ID: w.ID, WorldBefore: old, WorldAfter: w.Clone(), Cause: CauseManifest}
	if old.Equal(w) {
		return ch, nil
	}
	if err := c.writeWorld(ctx, w.ID, w, CauseManifest); err != nil {
		return Change{}, err
	}
	c.worlds[w.ID] = w
	return ch, nil
}

// DeleteWorld removes a world's configuration (world.unknown when there
// is none); its rooms stay in the catalog and are served again if the
// world comes back.
func (c *Catalog) DeleteWorld(ctx context.Context, id string) (Change, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.worlds[id]
	if old == nil {
		return Change{}, op.Errorf(op.CodeWorldUnknown, "unknown world %q", id)
	}
	if err := c.writeWorld(ctx, id, nil, CauseDelete); err != nil {
		return Change{}, err
	}
	delete(c.worlds, id)
	return Change{ID: id, WorldBefore: old, Cause: CauseDelete}, nil
}

// writeWorld versions, stores and replicates a world record (w nil: its
// tombstone); with the lock held.
func (c *Catalog) writeWorld(ctx context.Context, id string, w *World, cause Cause) error {
	c.clock++
	key := worldKey(id)
	rec := Record{ID: key, World: c.sealed(w), Version: Version{Clock: c.clock, Node: c.node}, Cause: cause, At: c.wallClock()}
	recs := []Record{rec}
	if err := c.storeRecords(ctx, recs); err != nil {
		return err
	}
	c.written(recs)
	return nil
}
