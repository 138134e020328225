package catalog

// Generation counts the changes of the catalog's rooms: it grows, under
// the write lock, after every room is stored, replaced or removed (any
// field, schedule data included), in any world; world records do not
// count. A reader that loads a generation and then reads rooms sees
// every change the generation counts, and perhaps later ones: whoever
// keeps something derived from rooms read after loading g may reuse it
// while Generation is still g (the engine's world view cache).
func (c *Catalog) Generation() uint64 { return c.gen.Load() }

// setRoom makes r the live room id; with the write lock held.
func (c *Catalog) setRoom(id string, r *Room) {
	c.rooms[id] = r
	c.gen.Add(1)
}

// dropRoom removes the live room id; with the write lock held.
func (c *Catalog) dropRoom(id string) {
	delete(c.rooms, id)
	c.gen.Add(1)
}
