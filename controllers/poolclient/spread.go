package poolclient

import (
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// spreader orders a pool's nodes for each request, so that requests spread
// over the pool instead of piling onto one node:
//
//   - a request about a room goes first to the room's node by rendezvous
//     hashing of its id over the addresses: the same node every time while
//     the pool stays the same (its reads see its writes), rooms spread
//     evenly, and a node joining or leaving moves only its share;
//   - any other request starts at the next node in turn (round-robin);
//   - either way the other nodes follow, as fallbacks, and nodes that
//     failed a request within the last hold go last.
//
// Its methods are safe for concurrent use.
type spreader struct {
	hold time.Duration // how long a failed node goes last
	now  func() time.Time
	next atomic.Uint64

	mu     sync.Mutex
	failed map[string]time.Time // node → when a request to it last failed
}

func newSpreader(hold time.Duration) *spreader {
	return &spreader{hold: hold, now: time.Now, failed: map[string]time.Time{}}
}

// order reorders addrs in place into the order to try them for a request
// about room ("" for a request about no room) and returns it.
func (s *spreader) order(addrs []string, room string) []string {
	if room != "" {
		score := func(a string) uint64 {
			h := fnv.New64a()
			_, _ = h.Write([]byte(room))
			_, _ = h.Write([]byte{0})
			_, _ = h.Write([]byte(a))
			return h.Sum64()
		}
		slices.SortFunc(addrs, func(a, b string) int {
			sa, sb := score(a), score(b)
			switch {
			case sa > sb:
				return -1
			case sa < sb:
				return 1
			}
			return 0
		})
	} else if len(addrs) > 0 {
		i := int((s.next.Add(1) - 1) % uint64(len(addrs)))
		addrs = append(addrs[i:], addrs[:i]...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	down := func(a string) bool { at, ok := s.failed[a]; return ok && now.Sub(at) < s.hold }
	slices.SortStableFunc(addrs, func(a, b string) int {
		da, db := down(a), down(b)
		switch {
		case da == db:
			return 0
		case db:
			return -1
		}
		return 1
	})
	return addrs
}

// answered records whether the node at addr answered a request.
func (s *spreader) answered(addr string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ok {
		delete(s.failed, addr)
		return
	}
	s.failed[addr] = s.now()
}
