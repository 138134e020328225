package cluster

import (
	"hash/fnv"
	"sync"
)

// roomLocks order each room's membership changes across the cluster's
// parts, one lock per stripe of rooms (by roomHash): an edge's announcement of a room
// (resyncer) and its Enter/Leave for it (Forwarder) leave this node in the
// order they happened, and an owner (server) checks ownership and applies
// under the same lock, so a room it stops owning keeps no late state
// (lifecycle, catalogSync). A holder never takes a second room's lock and
// never waits on the network, only queues on it.
type roomLocks [256]sync.Mutex

// lock locks room's stripe and returns its unlock.
func (l *roomLocks) lock(room string) func() {
	mu := &l[roomHash(room)%uint32(len(l))]
	mu.Lock()
	return mu.Unlock
}

// roomHash picks a room's peer-link lane (the room's frames are handled
// in order on it) and its lock stripe.
func roomHash(room string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(room))
	return h.Sum32()
}
