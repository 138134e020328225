package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// Replication: in a cluster every node holds the whole catalog. Each write
// a node makes is stamped with a Version and handed to the function given
// to Replicate, which spreads it; other nodes Apply it. A room's newest
// version wins everywhere (last writer wins), and deletions leave a
// tombstone so that an older copy of the room cannot bring it back. The
// versions are persisted with the rooms, so a restarted node still knows
// which of its rooms are older than what the cluster holds.

// Version orders the writes of one room across a cluster: a Lamport clock,
// ties broken by the name of the node that wrote. A node's clock moves past
// every version it sees, so a write made after seeing another is newer.
type Version struct {
	Clock uint64 `json:"c"`
	Node  string `json:"n"`
}

// Less reports whether v is older than o.
func (v Version) Less(o Version) bool {
	if v.Clock != o.Clock {
		return v.Clock < o.Clock
	}
	return v.Node < o.Node
}

// Cause is the kind of write that produced a version.
type Cause string

// Causes. A node applying a remote write derives its clients' events from
// the cause and the change (see Change).
const (
	CauseManifest Cause = "manifest" // Upsert: a Room manifest or the operator
	CauseCreate   Cause = "create"   // room.create
	CauseUpdate   Cause = "update"   // room.config.patch, room.config.reorder
	CauseSchedule Cause = "schedule" // room.schedule
	CauseDelete   Cause = "delete"   // room.delete
)

// Record is one room's or world's replicated state: its configuration, or
// a tombstone when Room and World are nil. A world's record has the id
// worldKey(world id) and World set (world.go).
type Record struct {
	ID      string  `json:"id"`
	Room    *Room   `json:"room,omitempty"`
	World   *World  `json:"world,omitempty"`
	Version Version `json:"v"`
	Cause   Cause   `json:"cause"`
	// Manifest is the ManifestHash of the --rooms manifest last applied to
	// the room (see ApplyManifests); every later write of the room carries
	// it on, its tombstone included. Empty: no manifest was ever applied.
	Manifest string `json:"manifest,omitempty"`
	// At is when the write was made, on the clock of the node that made
	// it; a tombstone's At is when the room was deleted, which is what its
	// time to live counts from (gc.go). Zero in records written before
	// this field existed.
	At time.Time `json:"at,omitzero"`
}

// Change is what applying a record did to a room: Before and After are its
// configuration before and after (nil: absent or deleted). A world's
// change has ID the world id and WorldBefore, WorldAfter instead.
type Change struct {
	ID     string
	Before *Room
	After  *Room
	Cause  Cause

	WorldBefore, WorldAfter *World
}

// IsWorld reports whether c is a world's change.
func (c Change) IsWorld() bool { return c.WorldBefore != nil || c.WorldAfter != nil }

// live reports whether rec is a configuration, not a tombstone.
func (rec Record) live() bool { return rec.Room != nil || rec.World != nil }

// hold makes rec's configuration the live one of its id (a tombstone
// removes it); with the lock held, after the record is stored.
func (c *Catalog) hold(rec Record) {
	if wid, ok := worldIDOf(rec.ID); ok {
		if rec.World == nil {
			delete(c.worlds, wid)
		} else {
			c.worlds[wid] = rec.World
		}
		return
	}
	if rec.Room == nil {
		c.dropRoom(rec.ID)
	} else {
		c.setRoom(rec.ID, rec.Room)
	}
}

// liveLocked reports whether the record of key is live; with the lock held.
func (c *Catalog) liveLocked(key string) bool {
	if wid, ok := worldIDOf(key); ok {
		return c.worlds[wid] != nil
	}
	return c.rooms[key] != nil
}

// meta is the replication state of one room id, live or deleted.
type meta struct {
	v        Version
	cause    Cause
	manifest string    // Record.Manifest
	at       time.Time // Record.At
}

func metaOf(rec Record) meta {
	return meta{v: rec.Version, cause: rec.Cause, manifest: rec.Manifest, at: rec.At}
}

// record is the Record of id with this replication state and room r (nil:
// a tombstone).
func (m meta) record(id string, r *Room) Record {
	return Record{ID: id, Room: r, Version: m.v, Cause: m.cause, Manifest: m.manifest, At: m.at}
}

// stored is a room as the store keeps it: the room's JSON with its
// version, and for a tombstone only the id. Records written before
// versions existed load as version zero, older than any write.
type stored struct {
	*Room
	Version  *Version  `json:"_version,omitempty"`
	Cause    Cause     `json:"_cause,omitempty"`
	Deleted  bool      `json:"_deleted,omitempty"`
	World    *World    `json:"_world,omitempty"`
	Manifest string    `json:"_manifest,omitempty"`
	At       time.Time `json:"_at,omitzero"`
}

func encodeStored(rec Record) ([]byte, error) {
	s := stored{Room: rec.Room, World: rec.World, Version: &rec.Version, Cause: rec.Cause, Manifest: rec.Manifest, At: rec.At}
	if !rec.live() {
		s.Room, s.Deleted = &Room{ID: rec.ID}, true
	}
	b, err := json.Marshal(s)
	if err != nil {
		return nil, fmt.Errorf("encode room %s: %w", rec.ID, err)
	}
	return b, nil
}

func decodeStored(id string, b []byte) (Record, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return Record{}, fmt.Errorf("decode stored room %s: %w", id, err)
	}
	rec := Record{ID: id, Cause: s.Cause, Manifest: s.Manifest, At: s.At}
	if s.Version != nil {
		rec.Version = *s.Version
	}
	if _, isWorld := worldIDOf(id); isWorld && !s.Deleted && s.World != nil {
		rec.World = s.World
	} else if !isWorld && !s.Deleted && s.Room != nil {
		s.Room.Normalize()
		rec.Room = s.Room
	}
	return rec, nil
}

// Replicate makes this catalog a cluster member: local writes are
// versioned as node's and passed to onWrite, in order, with the catalog's
// lock held. onWrite must not block and must not call back into the
// catalog. Call Replicate before the catalog is shared.
func (c *Catalog) Replicate(node string, onWrite func([]Record)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.node, c.onWrite = node, onWrite
}

// stamp versions rooms written locally for cause (the ids in deleted get
// tombstones) and returns their records. Each record carries the room's
// manifest hash: manifest[id] when given, else the one it had.
func (c *Catalog) stamp(cause Cause, rooms []*Room, deleted []string, manifest map[string]string) []Record {
	recs := make([]Record, 0, len(rooms)+len(deleted))
	at := c.wallClock()
	hash := func(id string) string {
		if h, ok := manifest[id]; ok {
			return h
		}
		return c.meta[id].manifest
	}
	for _, r := range rooms {
		c.clock++
		recs = append(recs, Record{ID: r.ID, Room: r, Version: Version{Clock: c.clock, Node: c.node}, Cause: cause, Manifest: hash(r.ID), At: at})
	}
	for _, id := range deleted {
		c.clock++
		recs = append(recs, Record{ID: id, Version: Version{Clock: c.clock, Node: c.node}, Cause: cause, Manifest: hash(id), At: at})
	}
	return recs
}

// store writes recs and records their versions; with the lock held.
func (c *Catalog) storeRecords(ctx context.Context, recs []Record) error {
	if len(recs) == 0 {
		return nil
	}
	out := make(map[string][]byte, len(recs))
	for _, rec := range recs {
		b, err := encodeStored(rec)
		if err != nil {
			return err
		}
		out[rec.ID] = b
	}
	if err := c.store.PutRooms(ctx, out); err != nil {
		return fmt.Errorf("store rooms: %w", err)
	}
	for _, rec := range recs {
		c.meta[rec.ID] = metaOf(rec)
	}
	return nil
}

// written tells the replication hook about local writes; with the lock
// held.
func (c *Catalog) written(recs []Record) {
	if c.onWrite != nil && len(recs) > 0 {
		out := make([]Record, len(recs))
		for i, rec := range recs {
			out[i] = rec
			if rec.Room != nil {
				out[i].Room = rec.Room.Clone()
			}
			if rec.World != nil {
				out[i].World = rec.World.Clone()
			}
		}
		c.onWrite(out)
	}
}

// Records returns the replicated state of the given room ids (every id,
// tombstones included, when none are given), in id order. Ids the catalog
// never saw are left out.
func (c *Catalog) Records(ids ...string) []Record {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(ids) == 0 {
		for id := range c.meta {
			ids = append(ids, id)
		}
		sort.Strings(ids)
	}
	out := make([]Record, 0, len(ids))
	for _, id := range ids {
		m, ok := c.meta[id]
		if !ok {
			continue
		}
		rec := m.record(id, nil)
		if wid, ok := worldIDOf(id); ok {
			if w := c.worlds[wid]; w != nil {
				rec.World = c.sealed(w.Clone())
			}
		} else if r := c.rooms[id]; r != nil {
			rec.Room = r.Clone()
		}
		out = append(out, rec)
	}
	return out
}

// Newer reports whether v is newer than what the catalog holds for id.
func (c *Catalog) Newer(id string, v Version) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	m, ok := c.meta[id]
	return !ok || m.v.Less(v)
}

// newestOf checks recs and returns the newest record of each id, and the
// ids in the order of recs, leaving out reserved ids other than worlds';
// it moves the clock past every version. With the lock held.
func (c *Catalog) newestOf(recs []Record) (map[string]Record, []string, error) {
	var (
		newest = make(map[string]Record, len(recs))
		ids    []string
	)
	for _, rec := range recs {
		c.clock = max(c.clock, rec.Version.Clock)
		if rec.ID == "" || rec.Room != nil && rec.Room.ID != rec.ID {
			return nil, nil, fmt.Errorf("apply room record %q: id mismatch", rec.ID)
		}
		wid, isWorld := worldIDOf(rec.ID)
		if isWorld && (rec.Room != nil || rec.World != nil && rec.World.ID != wid) || !isWorld && rec.World != nil {
			return nil, nil, fmt.Errorf("apply record %q: id mismatch", rec.ID)
		}
		if reservedID(rec.ID) && !isWorld {
			continue
		}
		if cur, dup := newest[rec.ID]; dup {
			if cur.Version.Less(rec.Version) {
				newest[rec.ID] = rec
			}
			continue
		}
		newest[rec.ID] = rec
		ids = append(ids, rec.ID)
	}
	return newest, ids, nil
}

// Apply merges records from other nodes: each one newer than the catalog's
// version of its room replaces it (and is persisted); older ones are
// ignored. It returns what changed, in the order of recs.
//
// Two kinds of records of rooms the catalog does not know are not applied
// (gc.go): the tombstone of a deletion older than the tombstone TTL (it was
// collected here, or would be), and a live record written no later than the
// newest deletion whose tombstone this catalog collected — a copy of a room
// deleted since, held by a node that was away longer than the TTL. The
// catalog deletes such a room again: it writes a fresh tombstone, newer
// than the copy, and hands it to the replication hook, so that the node
// holding the copy deletes it too.
func (c *Catalog) Apply(ctx context.Context, recs []Record) ([]Change, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	newest, ids, err := c.newestOf(recs)
	if err != nil {
		return nil, err
	}
	now := c.wallClock()
	var apply, redelete []Record
	open := map[string]*World{} // world records' worlds in clear, by record id
	for _, id := range ids {
		rec := newest[id]
		m, known := c.meta[id]
		switch {
		case known && !m.v.Less(rec.Version):
			continue
		case !known && !rec.live() && c.expired(rec.At, now):
			continue
		case !known && rec.live() && c.collectedBefore(rec.At):
			c.clock++
			redelete = append(redelete, Record{ID: id, Version: Version{Clock: c.clock, Node: c.node},
				Cause: CauseDelete, Manifest: rec.Manifest, At: now})
			continue
		}
		if rec.Room != nil {
			rec.Room = rec.Room.Clone()
			rec.Room.Normalize()
		}
		if rec.World != nil {
			w, err := c.unsealed(rec.World)
			if err != nil {
				continue // sealed under another cluster key: not ours to serve
			}
			open[id] = w
			rec.World = rec.World.Clone()
		}
		apply = append(apply, rec)
	}
	for _, rec := range apply {
		if rec.Room == nil && c.rooms[rec.ID] != nil {
			// Drop the room's invites with it, as a local delete does.
			if err := c.store.DeleteRoom(ctx, rec.ID); err != nil {
				return nil, fmt.Errorf("delete room %s: %w", rec.ID, err)
			}
		}
	}
	if err := c.storeRecords(ctx, append(apply[:len(apply):len(apply)], redelete...)); err != nil {
		return nil, err
	}
	changes := make([]Change, 0, len(apply))
	for _, rec := range apply {
		var ch Change
		if wid, ok := worldIDOf(rec.ID); ok {
			ch = Change{ID: wid, WorldBefore: c.worlds[wid], Cause: rec.Cause}
			rec.World = open[rec.ID] // the catalog holds it in clear
			if rec.World != nil {
				ch.WorldAfter = rec.World.Clone()
			}
		} else {
			ch = Change{ID: rec.ID, Before: c.rooms[rec.ID], Cause: rec.Cause}
			if rec.Room != nil {
				ch.After = rec.Room.Clone()
			}
		}
		c.hold(rec)
		changes = append(changes, ch)
	}
	c.written(redelete)
	return changes, nil
}
