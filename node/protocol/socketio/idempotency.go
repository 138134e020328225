package socketio

import (
	"container/list"
	"sync"
	"time"
)

// Replays remembers the acknowledgements of answered requests by key (see
// replayKey) so a repeated event.id is answered with the earlier result
// instead of being executed again. It holds at most the configured number of
// entries, evicting the least recently used, and forgets an entry after the
// TTL. It is safe for concurrent use and shared by a node's connections.
type Replays struct {
	max int
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	entries map[string]*list.Element // of *replay
	lru     *list.List               // front: most recently used
}

type replay struct {
	key     string
	el      *list.Element
	ack     []byte        // the encoded reply; nil while pending
	done    chan struct{} // closed when the first request finished
	expires time.Time     // zero while pending
}

// NewReplays returns an empty cache bounded by cfg.
func NewReplays(cfg Config) *Replays {
	return &Replays{max: cfg.IdempotencyEntries, ttl: cfg.IdempotencyTTL, now: time.Now,
		entries: map[string]*list.Element{}, lru: list.New()}
}

// Claim looks key up. When a finished request holds it, Claim returns its
// reply and a nil ticket. Otherwise the caller now holds key and must call
// the returned ticket's Finish once it has its reply. A request with the
// same key in flight on another connection is waited for; if stop closes
// first, Claim returns nil and a nil ticket and the caller answers nothing.
func (r *Replays) Claim(key string, stop <-chan struct{}) (ack []byte, t *Ticket) {
	for {
		r.mu.Lock()
		if el, ok := r.entries[key]; ok {
			e := el.Value.(*replay)
			if e.ack == nil { // in flight elsewhere
				r.mu.Unlock()
				select {
				case <-e.done:
					continue
				case <-stop:
					return nil, nil
				}
			}
			if r.now().Before(e.expires) {
				r.lru.MoveToFront(el)
				r.mu.Unlock()
				return e.ack, nil
			}
			r.removeLocked(el)
		}
		e := &replay{key: key, done: make(chan struct{})}
		e.el = r.lru.PushFront(e)
		r.entries[key] = e.el
		for r.lru.Len() > r.max {
			r.removeLocked(r.lru.Back())
		}
		r.mu.Unlock()
		return nil, &Ticket{r: r, e: e}
	}
}

// Ticket is a claim on a key, returned by Claim.
type Ticket struct {
	r *Replays
	e *replay
}

// Finish records the reply of the request holding the ticket and wakes
// requests waiting for it. keep false forgets the key instead (a transient
// failure that a retry should execute again).
func (t *Ticket) Finish(ack []byte, keep bool) {
	r := t.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[t.e.key]; !ok || el != t.e.el || t.e.ack != nil {
		return // evicted while in flight
	}
	if keep {
		t.e.ack, t.e.expires = ack, r.now().Add(r.ttl)
		close(t.e.done)
		return
	}
	r.removeLocked(t.e.el)
}

// removeLocked drops an entry, releasing anyone waiting for it.
func (r *Replays) removeLocked(el *list.Element) {
	e := el.Value.(*replay)
	r.lru.Remove(el)
	delete(r.entries, e.key)
	if e.ack == nil {
		close(e.done)
	}
}

// Len is the number of remembered keys (for tests and metrics).
func (r *Replays) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lru.Len()
}
