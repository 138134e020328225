package socketio

import (
	"container/list"
	"sync"
	"time"
)

// Replays remembers the acknowledgements of answered requests by key (see
// replayKey) so a repeated event.id is answered with the earlier result
// instead of being executed again. It is shared by a node's connections and
// bounded three ways, each entry costing its key, its ack and
// replayOverhead bytes:
//
//   - per node: at most cfg.IdempotencyEntries entries and
//     cfg.IdempotencyBytes bytes;
//   - per user (all of a user's devices together): at most
//     cfg.IdempotencyUserBytes bytes.
//
// A claim that would cross a bound first forgets expired entries (anyone's),
// then the claiming user's own least recently used ones — never another
// user's: a user can only evict their own replays. When that is not enough
// the reply is not remembered (a repeat executes again). Entries are
// forgotten after cfg.IdempotencyTTL.
//
// Concurrency: safe for concurrent use; mu guards everything.
type Replays struct {
	maxEntries int
	maxBytes   int
	userBytes  int
	ttl        time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]*replay
	users   map[string]*userReplays
	expiry  *list.List // of *replay, finished ones, oldest first (the TTL is the same for all)
	bytes   int        // of every entry
}

// replayOverhead is the bookkeeping an entry costs beyond its key and ack.
const replayOverhead = 192

// userReplays is one user's entries, front: most recently used.
type userReplays struct {
	lru   *list.List // of *replay
	bytes int
}

type replay struct {
	key, user string
	uel, xel  *list.Element // in the user's lru; in expiry (nil while pending)
	ack       []byte        // the encoded reply; nil while pending
	done      chan struct{} // closed when the first request finished
	expires   time.Time     // zero while pending
	size      int
}

// NewReplays returns an empty cache bounded by cfg.
func NewReplays(cfg Config) *Replays {
	return &Replays{maxEntries: cfg.IdempotencyEntries, maxBytes: cfg.IdempotencyBytes,
		userBytes: cfg.IdempotencyUserBytes, ttl: cfg.IdempotencyTTL, now: time.Now,
		entries: map[string]*replay{}, users: map[string]*userReplays{}, expiry: list.New()}
}

// Claim looks key, a request of user, up. When a finished request holds
// it, Claim returns its reply and a nil ticket. Otherwise the caller now
// holds key and must call the returned ticket's Finish once it has its
// reply. A request with the same key in flight on another connection is
// waited for; if stop closes first, Claim returns nil and a nil ticket and
// the caller answers nothing.
func (r *Replays) Claim(user, key string, stop <-chan struct{}) (ack []byte, t *Ticket) {
	for {
		r.mu.Lock()
		r.expireLocked()
		if e, ok := r.entries[key]; ok {
			if e.ack == nil { // in flight elsewhere
				r.mu.Unlock()
				select {
				case <-e.done:
					continue
				case <-stop:
					return nil, nil
				}
			}
			r.users[e.user].lru.MoveToFront(e.uel)
			r.mu.Unlock()
			return e.ack, nil
		}
		e := &replay{key: key, user: user, done: make(chan struct{})}
		u := r.users[user]
		if u == nil {
			u = &userReplays{lru: list.New()}
			r.users[user] = u
		}
		e.uel = u.lru.PushFront(e)
		r.entries[key] = e
		r.resizeLocked(e, replayOverhead+len(key))
		r.mu.Unlock()
		return nil, &Ticket{r: r, e: e}
	}
}

// resizeLocked sets e's size, then brings the cache within its bounds:
// e's user's older entries go first; e itself when they are not enough.
func (r *Replays) resizeLocked(e *replay, size int) {
	u := r.users[e.user]
	r.bytes += size - e.size
	u.bytes += size - e.size
	e.size = size
	over := func() bool {
		return len(r.entries) > r.maxEntries || r.bytes > r.maxBytes || u.bytes > r.userBytes
	}
	for over() {
		back := u.lru.Back()
		if back.Value.(*replay) == e {
			if u.lru.Len() > 1 {
				u.lru.MoveToFront(e.uel)
				continue
			}
			r.removeLocked(e)
			return
		}
		r.removeLocked(back.Value.(*replay))
	}
}

// expireLocked forgets the entries whose time is up.
func (r *Replays) expireLocked() {
	now := r.now()
	for el := r.expiry.Front(); el != nil; el = r.expiry.Front() {
		e := el.Value.(*replay)
		if now.Before(e.expires) {
			return
		}
		r.removeLocked(e)
	}
}

// Ticket is a claim on a key, returned by Claim.
type Ticket struct {
	r *Replays
	e *replay
}

// Finish records the reply of the request holding the ticket and wakes
// requests waiting for it. keep false forgets the key instead (a transient
// failure that a retry should execute again); so does a reply that does not
// fit the claiming user's budget.
func (t *Ticket) Finish(ack []byte, keep bool) {
	r, e := t.r, t.e
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.entries[e.key] != e || e.ack != nil {
		return // evicted while in flight
	}
	if !keep {
		r.removeLocked(e)
		return
	}
	e.ack, e.expires = ack, r.now().Add(r.ttl)
	e.xel = r.expiry.PushBack(e)
	close(e.done)
	r.resizeLocked(e, replayOverhead+len(e.key)+len(ack))
}

// removeLocked drops an entry, releasing anyone waiting for it.
func (r *Replays) removeLocked(e *replay) {
	u := r.users[e.user]
	u.lru.Remove(e.uel)
	u.bytes -= e.size
	if u.lru.Len() == 0 {
		delete(r.users, e.user)
	}
	if e.xel != nil {
		r.expiry.Remove(e.xel)
	}
	r.bytes -= e.size
	delete(r.entries, e.key)
	if e.ack == nil {
		close(e.done)
	}
}

// Len is the number of remembered keys (for tests and metrics).
func (r *Replays) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Bytes is the memory the remembered keys are charged, in all and for
// user (for tests and metrics).
func (r *Replays) Bytes(user string) (total, ofUser int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if u := r.users[user]; u != nil {
		ofUser = u.bytes
	}
	return r.bytes, ofUser
}
