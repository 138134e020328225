package reaction

import (
	"sync"
	"time"
)

// writeLimiter is a token bucket per user: rate tokens a second, holding
// at most burst. It is safe for concurrent use. Its map holds only users
// whose bucket may not be full: when it has doubled since the last prune,
// the full buckets are dropped, so it is bounded by the users that wrote
// within the last refill period (burst/rate).
type writeLimiter struct {
	rate   float64 // tokens a second
	burst  float64
	refill time.Duration

	mu      sync.Mutex
	buckets map[string]*bucket
	pruneAt int // prune when the map reaches this size
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was computed
}

const minPrune = 1024

func newWriteLimiter(c Config) *writeLimiter {
	return &writeLimiter{rate: c.WriteRate, burst: float64(c.WriteBurst), refill: c.refill(),
		buckets: map[string]*bucket{}, pruneAt: minPrune}
}

// allow takes a token from user's bucket at now and reports whether there
// was one.
func (l *writeLimiter) allow(user string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[user]
	if b == nil {
		if len(l.buckets) >= l.pruneAt {
			l.prune(now)
		}
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[user] = b
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(l.burst, b.tokens+d.Seconds()*l.rate)
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// prune drops the buckets that have refilled since they were last used;
// a dropped bucket is recreated full, so nothing changes for its user.
func (l *writeLimiter) prune(now time.Time) {
	for u, b := range l.buckets {
		if now.Sub(b.at) >= l.refill {
			delete(l.buckets, u)
		}
	}
	l.pruneAt = max(minPrune, 2*len(l.buckets))
}

// size is the number of buckets held, for tests.
func (l *writeLimiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
