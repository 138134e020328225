package catalog

// ListInShared is ListIn without the copies: the scope's rooms as the
// catalog holds them, in order, for reading only — a client's world view
// lists every room for each authentication, and copying them all was most
// of its garbage (docs/benchmarks.md, idle memory). A stored room is never
// modified: every write stores a new Room in its place (copy on write), so
// the rooms may be read after the call without the catalog's lock, and
// must not be modified.
func (c *Catalog) ListInShared(s Scope) []*Room {
	c.mu.RLock()
	out := make([]*Room, 0, len(c.rooms))
	for _, r := range c.rooms {
		if s.Has(r) {
			out = append(out, r)
		}
	}
	c.mu.RUnlock()
	sortRooms(out)
	return out
}
