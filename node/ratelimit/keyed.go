// Package ratelimit holds token buckets by key (a user, an address): how
// the node bounds what one client may do per unit of time when the client
// is not one connection.
package ratelimit

import (
	"sync"
	"time"
)

// MinPrune is the table size below which Keyed never prunes.
const MinPrune = 1024

// Keyed is a token bucket per key: Rate tokens a second, holding at most
// Burst; a key not seen holds a full bucket. Its table keeps only keys
// whose bucket may not be full: when it has doubled since the last prune
// (or reached its Max), the full buckets are dropped, which changes
// nothing for their keys. With Max > 0 it tracks at most Max keys, and a
// new key is refused while the table is full of refilling buckets.
//
// Concurrency: safe for concurrent use; every method takes one mutex for
// a map lookup and a few float operations.
type Keyed[K comparable] struct {
	rate, burst float64
	max         int

	mu      sync.Mutex
	buckets map[K]bucket
	pruneAt int
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

// NewKeyed returns buckets of rate tokens a second and burst at most,
// for at most max keys (0: as many as are refilling).
func NewKeyed[K comparable](rate float64, burst, max int) *Keyed[K] {
	return &Keyed[K]{rate: rate, burst: float64(burst), max: max, buckets: map[K]bucket{}, pruneAt: MinPrune}
}

// Take takes a token from key's bucket at now and reports whether there
// was one (false too for a new key the table has no room for).
func (k *Keyed[K]) Take(key K, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.tokens(key, now)
	if !ok || t < 1 {
		return false
	}
	k.buckets[key] = bucket{tokens: t - 1, at: now}
	return true
}

// Peek reports whether key's bucket holds a token at now, taking none.
func (k *Keyed[K]) Peek(key K, now time.Time) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, ok := k.tokens(key, now)
	return ok && t >= 1
}

// Charge takes a token from key's bucket at now, if it has one; a new key
// the table has no room for is not charged.
func (k *Keyed[K]) Charge(key K, now time.Time) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if t, ok := k.tokens(key, now); ok {
		k.buckets[key] = bucket{tokens: max(t-1, 0), at: now}
	}
}

// Len is the number of buckets held.
func (k *Keyed[K]) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.buckets)
}

// tokens is key's tokens at now; ok is false for a new key the table has
// no room for. k.mu is held.
func (k *Keyed[K]) tokens(key K, now time.Time) (float64, bool) {
	if b, ok := k.buckets[key]; ok {
		return k.refill(b, now), true
	}
	if n := len(k.buckets); n >= k.pruneAt || k.max > 0 && n >= k.max {
		k.prune(now)
	}
	return k.burst, k.max == 0 || len(k.buckets) < k.max
}

func (k *Keyed[K]) refill(b bucket, now time.Time) float64 {
	if d := now.Sub(b.at); d > 0 {
		return min(k.burst, b.tokens+d.Seconds()*k.rate)
	}
	return b.tokens
}

// prune drops the full buckets. k.mu is held.
func (k *Keyed[K]) prune(now time.Time) {
	for key, b := range k.buckets {
		if k.refill(b, now) >= k.burst {
			delete(k.buckets, key)
		}
	}
	k.pruneAt = max(MinPrune, 2*len(k.buckets))
}
