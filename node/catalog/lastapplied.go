package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// A --rooms file is applied on every start, but a room it declares is
// written only when its manifest is new to the catalog: each room's record
// remembers the hash of the manifest last applied to it (Record.Manifest,
// persisted and replicated with the record and carried on by every later
// write, tombstones included — like kubectl's last-applied annotation).
// A room whose manifest is unchanged keeps whatever was done to it since —
// websocket patches, reorders, schedule data, its deletion — on this node
// and, because a peer's later write carries the hash too, on every node
// of a cluster. A changed manifest replaces the room's configuration (and
// brings a deleted room back).

// manifestHashLen is the length, in bytes, of a manifest hash before hex
// encoding: 128 bits of SHA-256 tell manifests apart, and the hash rides on
// every gossiped record.
const manifestHashLen = 16

// ManifestHash is the hash of a room as a manifest declares it: of its
// normalized configuration, so that comments, formatting and the order of
// keys in the YAML do not count as changes.
func ManifestHash(r *Room) (string, error) {
	n := r.Clone()
	n.Normalize()
	b, err := json.Marshal(n)
	if err != nil {
		return "", fmt.Errorf("hash manifest of room %s: %w", r.ID, err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:manifestHashLen]), nil
}

// ApplyManifests applies the rooms of a --rooms file: each room whose
// manifest is new to the catalog or differs from the one last applied to
// it is created or replaced, as Upsert does, and remembers its manifest's
// hash; the others are left as they are, deleted ones included. It returns
// the ids of the rooms it wrote, in the order given. The rooms are this
// node's declared rooms from then on (see CollectTombstones).
func (c *Catalog) ApplyManifests(ctx context.Context, rooms ...*Room) ([]string, error) {
	hashes := make(map[string]string, len(rooms))
	for _, r := range rooms {
		r.Normalize()
		if err := r.Validate(); err != nil {
			return nil, fmt.Errorf("room %s: %w", r.ID, err)
		}
		h, err := ManifestHash(r)
		if err != nil {
			return nil, err
		}
		hashes[r.ID] = h
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var (
		apply   []*Room
		applied []string
	)
	for _, r := range rooms {
		if m, known := c.meta[r.ID]; known && m.manifest == hashes[r.ID] {
			continue
		}
		apply = append(apply, r)
		applied = append(applied, r.ID)
	}
	if err := c.persistManifest(ctx, CauseManifest, hashes, apply...); err != nil {
		return nil, err
	}
	for _, r := range apply {
		c.setRoom(r.ID, r.Clone())
	}
	c.declared = hashes
	return applied, nil
}
