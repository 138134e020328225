package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store"
)

// Invite lifetimes, as venueless: a link is reused while it has more than
// InviteReuseMargin left, and a new one lives InviteTTL.
const (
	InviteTTL         = 90 * 24 * time.Hour
	InviteReuseMargin = 10 * 24 * time.Hour
	inviteAlphabet    = "abcdefghijklmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ123456789"
	inviteCodeLen     = 6  // venueless' length, the default
	maxInviteCodeLen  = 32 // --invite-code-length's maximum
)

// Catalog is the set of rooms and worlds of the pool. It is safe for concurrent use;
// every mutation is written to the store before it is visible.
type Catalog struct {
	store store.Store
	now   func() time.Time

	mu     sync.RWMutex
	rooms  map[string]*Room  // live rooms
	worlds map[string]*World // live worlds, by world id (world.go)
	// Replication (replica.go): every id's version, tombstones included,
	// the Lamport clock, this node's name and the write hook.
	meta    map[string]meta
	clock   uint64
	node    string
	onWrite func([]Record)
	// declared is this node's --rooms file: room id → manifest hash, as
	// last given to ApplyManifests.
	declared map[string]string
	// Tombstone collection (gc.go): the tombstones' time to live, and the
	// time of the newest deletion whose tombstone was collected.
	ttl       time.Duration
	collected time.Time
	// codeLen is the length of new invite codes (SetInviteCodeLength).
	codeLen int
	// sealer seals world secrets in records (seal.go); nil: standalone.
	sealer *Sealer
	// gen counts the changes of rooms (generation.go).
	gen atomic.Uint64
}

// Open loads the catalog from st.
func Open(ctx context.Context, st store.Store) (*Catalog, error) {
	recs, err := st.Rooms(ctx)
	if err != nil {
		return nil, fmt.Errorf("load rooms: %w", err)
	}
	c := &Catalog{store: st, now: time.Now, codeLen: inviteCodeLen, rooms: make(map[string]*Room, len(recs)), worlds: map[string]*World{}, meta: make(map[string]meta, len(recs))}
	for _, id := range slices.Sorted(maps.Keys(recs)) { // the first bad record is always the same
		b := recs[id]
		if id == gcKey {
			if err := c.loadGC(b); err != nil {
				return nil, err
			}
			continue
		}
		rec, err := decodeStored(id, b)
		if err != nil {
			return nil, err
		}
		c.meta[id] = metaOf(rec)
		c.clock = max(c.clock, rec.Version.Clock)
		c.hold(rec)
	}
	return c, nil
}

// Get returns a copy of the room, or nil.
func (c *Catalog) Get(id string) *Room {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if r := c.rooms[id]; r != nil {
		return r.Clone()
	}
	return nil
}

// Exists reports whether the room exists without copying it.
func (c *Catalog) Exists(id string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.rooms[id] != nil
}

// View calls fn with the room under the catalog's read lock; fn must not
// keep or modify r.
func (c *Catalog) View(id string, fn func(r *Room)) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r := c.rooms[id]
	if r == nil {
		return false
	}
	fn(r)
	return true
}

// List returns copies of all rooms ordered by sorting priority, then name.
func (c *Catalog) List() []*Room {
	c.mu.RLock()
	out := make([]*Room, 0, len(c.rooms))
	for _, r := range c.rooms {
		out = append(out, r.Clone())
	}
	c.mu.RUnlock()
	sortRooms(out)
	return out
}

// Len is the number of rooms.
func (c *Catalog) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.rooms)
}

func sortRooms(rs []*Room) {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].SortingPriority != rs[j].SortingPriority {
			return rs[i].SortingPriority < rs[j].SortingPriority
		}
		if rs[i].Name != rs[j].Name {
			return rs[i].Name < rs[j].Name
		}
		return rs[i].ID < rs[j].ID
	})
}

// persist versions and stores rooms written locally for cause, skipping
// those whose configuration is unchanged, and hands the new versions to
// the replication hook. The caller holds the write lock and updates
// c.rooms after.
func (c *Catalog) persist(ctx context.Context, cause Cause, rs ...*Room) error {
	return c.persistManifest(ctx, cause, nil, rs...)
}

// persistManifest is persist that also sets the manifest hashes given in
// manifest (by room id); a room whose hash changes is written even when
// its configuration does not.
func (c *Catalog) persistManifest(ctx context.Context, cause Cause, manifest map[string]string, rs ...*Room) error {
	changed := make([]*Room, 0, len(rs))
	for _, r := range rs {
		m, known := c.meta[r.ID]
		h, sets := manifest[r.ID]
		if !known || !c.rooms[r.ID].Equal(r) || sets && h != m.manifest {
			changed = append(changed, r)
		}
	}
	recs := c.stamp(cause, changed, nil, manifest)
	if err := c.storeRecords(ctx, recs); err != nil {
		return err
	}
	c.written(recs)
	return nil
}

// Upsert validates and stores rooms (the operator's pushes), replacing
// existing rooms with the same ids. The rooms keep the manifest hash they
// had: Upsert is not the application of a --rooms file (ApplyManifests).
func (c *Catalog) Upsert(ctx context.Context, rooms ...*Room) error {
	return c.upsert(ctx, false, rooms...)
}

// Replace is Upsert of rooms the catalog holds already: when one of them is
// missing (deleted since the caller saw it) nothing is written and the
// error is room.unknown. The check and the write are one step under the
// catalog's lock, so a push that saw a room can never bring it back once
// it is deleted.
func (c *Catalog) Replace(ctx context.Context, rooms ...*Room) error {
	return c.upsert(ctx, true, rooms...)
}

// upsert is Upsert, or Replace when existing.
func (c *Catalog) upsert(ctx context.Context, existing bool, rooms ...*Room) error {
	for _, r := range rooms {
		r.Normalize()
		if err := r.Validate(); err != nil {
			return fmt.Errorf("room %s: %w", r.ID, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rooms {
		if existing && c.rooms[r.ID] == nil {
			return op.Errorf(op.CodeRoomUnknown, "unknown room %q", r.ID)
		}
	}
	if err := c.persist(ctx, CauseManifest, rooms...); err != nil {
		return err
	}
	for _, r := range rooms {
		c.setRoom(r.ID, r.Clone())
	}
	return nil
}

// CreateRequest is the body of room.create.
type CreateRequest struct {
	// Scope is the world the room is created in (not part of the body).
	Scope       Scope            `json:"-"`
	Name        string           `json:"name"`
	Description string           `json:"description"`
	Modules     []map[string]any `json:"modules"`
}

// Create adds a room with a fresh id, after every existing room in order.
// A name already taken (case-insensitively) is room.invalid.name_taken.
func (c *Catalog) Create(ctx context.Context, req CreateRequest) (*Room, error) {
	id, err := newID()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	maxPrio := 0
	for _, r := range c.rooms {
		if !req.Scope.Has(r) {
			continue
		}
		if strings.EqualFold(r.Name, req.Name) {
			return nil, op.Errorf(op.CodeNameTaken, "This room name is already taken.")
		}
		maxPrio = max(maxPrio, r.SortingPriority)
	}
	r := &Room{ID: id, World: req.Scope.Stored(), Name: req.Name, Description: req.Description, ModuleConfig: req.Modules,
		SortingPriority: maxPrio + 1, ShowViewers: true, AnonymousInvites: true}
	r.Normalize()
	if verr := r.Validate(); verr != nil {
		return nil, verr
	}
	if err := c.persist(ctx, CauseCreate, r); err != nil {
		return nil, err
	}
	c.setRoom(id, r)
	return r.Clone(), nil
}

// Patch applies a room.config.patch body and returns the new config.
func (c *Catalog) Patch(ctx context.Context, id string, body map[string]json.RawMessage) (*Room, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.rooms[id]
	if old == nil {
		return nil, op.Errorf(op.CodeRoomUnknown, "unknown room %q", id)
	}
	n, verr := ApplyPatch(old, body)
	if verr != nil {
		return nil, verr
	}
	if n.Name != old.Name {
		for _, r := range c.rooms {
			if r.ID != id && r.World == old.World && strings.EqualFold(r.Name, n.Name) {
				return nil, op.Errorf(op.CodeNameTaken, "This room name is already taken.")
			}
		}
	}
	if err := c.persist(ctx, CauseUpdate, n); err != nil {
		return nil, err
	}
	c.setRoom(id, n)
	return n.Clone(), nil
}

// SetSchedule replaces a room's schedule data.
func (c *Catalog) SetSchedule(ctx context.Context, id string, data map[string]any) error {
	if err := ValidateSchedule(data); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.rooms[id]
	if old == nil {
		return op.Errorf(op.CodeRoomUnknown, "unknown room %q", id)
	}
	n := old.Clone()
	n.ScheduleData = data
	if err := c.persist(ctx, CauseSchedule, n); err != nil {
		return err
	}
	c.setRoom(id, n)
	return nil
}

// Reorder gives the listed rooms of the scope sorting priorities 1..n in
// list order and the scope's remaining rooms n+1.. in their previous
// order. Unknown ids, and ids of other worlds, are ignored.
func (c *Catalog) Reorder(ctx context.Context, s Scope, ids []string) ([]*Room, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := make([]*Room, 0, len(c.rooms))
	for _, r := range c.rooms {
		if s.Has(r) {
			all = append(all, r)
		}
	}
	var changed []*Room
	for i, r := range Reordered(all, ids) {
		if r.SortingPriority != i+1 {
			n := r.Clone()
			n.SortingPriority = i + 1
			changed = append(changed, n)
		}
	}
	if len(changed) > 0 {
		if err := c.persist(ctx, CauseUpdate, changed...); err != nil {
			return nil, err
		}
		for _, n := range changed {
			c.setRoom(n.ID, n)
		}
	}
	out := make([]*Room, 0, len(c.rooms))
	for _, r := range c.rooms {
		if s.Has(r) {
			out = append(out, r.Clone())
		}
	}
	sortRooms(out)
	return out, nil
}

// Delete removes a room and its invites.
func (c *Catalog) Delete(ctx context.Context, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rooms[id] == nil {
		return op.Errorf(op.CodeRoomUnknown, "unknown room %q", id)
	}
	if err := c.store.DeleteRoom(ctx, id); err != nil {
		return fmt.Errorf("delete room %s: %w", id, err)
	}
	c.dropRoom(id)
	// The tombstone keeps an older copy of the room, on a node that missed
	// the deletion, from bringing it back.
	recs := c.stamp(CauseDelete, nil, []string{id}, nil)
	if err := c.storeRecords(ctx, recs); err != nil {
		return err
	}
	c.written(recs)
	return nil
}

// InviteCode returns the room's anonymous invite code, reusing the current
// one while it has more than InviteReuseMargin left.
func (c *Catalog) InviteCode(ctx context.Context, room string) (string, error) {
	now := c.now()
	inv, err := c.store.RoomInvite(ctx, room)
	if err == nil && inv.Expires.After(now.Add(InviteReuseMargin)) {
		return inv.Code, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("load invite: %w", err)
	}
	c.mu.RLock()
	n := c.codeLen
	c.mu.RUnlock()
	code, err := newInviteCode(n)
	if err != nil {
		return "", err
	}
	inv = store.Invite{Code: code, Room: room, Expires: now.Add(InviteTTL)}
	if err := c.store.PutInvite(ctx, inv); err != nil {
		return "", fmt.Errorf("store invite: %w", err)
	}
	return code, nil
}

// Redeem returns the room an invite code admits to, or auth.denied.
func (c *Catalog) Redeem(ctx context.Context, code string) (string, error) {
	inv, err := c.store.Invite(ctx, code)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!inv.Expires.After(c.now()) || !c.Exists(inv.Room))) {
		return "", op.Errorf(op.CodeAuthDenied, "invite is unknown or expired")
	}
	if err != nil {
		return "", fmt.Errorf("load invite: %w", err)
	}
	return inv.Room, nil
}

func newID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("room id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}

// SetInviteCodeLength sets the length of new invite codes (Config's
// InviteCodeLength, already validated; 0 means the default).
func (c *Catalog) SetInviteCodeLength(n int) {
	if n == 0 {
		n = inviteCodeLen
	}
	c.mu.Lock()
	c.codeLen = n
	c.mu.Unlock()
}

func newInviteCode(length int) (string, error) {
	out := make([]byte, length)
	n := big.NewInt(int64(len(inviteAlphabet)))
	for i := range out {
		k, err := rand.Int(rand.Reader, n)
		if err != nil {
			return "", fmt.Errorf("invite code: %w", err)
		}
		out[i] = inviteAlphabet[k.Int64()]
	}
	return string(out), nil
}
