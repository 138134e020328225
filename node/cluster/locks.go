package cluster

import (
	"hash/fnv"
	"sync"
)

// roomLocks order each room's membership changes across the cluster's
// parts, striped by the room's lane: an edge's announcement of a room
// (resyncer) and its Enter/Leave for it (Forwarder) leave this node in the
// order they happened, and an owner (server) checks ownership and applies
// under the same lock, so a room it stops owning keeps no late state
// (lifecycle, catalogSync). A holder never takes a second room's lock and
// never waits on the network, only queues on it.
type roomLocks [256]sync.Mutex

// lock locks room's stripe and returns its unlock.
func (l *roomLocks) lock(room string) func() {
	mu := &l[lane(room)%uint32(len(l))]
	mu.Lock()
	return mu.Unlock
}

// lane is the peer-link lane of a room (its frames are handled in order),
// also the stripe of its lock.
func lane(room string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(room))
	return h.Sum32()
}
