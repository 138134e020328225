package reaction

import (
	"time"

	"github.com/roomring/roomring/node/ratelimit"
)

// minPrune is the table size below which the write limiter never prunes.
const minPrune = ratelimit.MinPrune

// writeLimiter is the owner's token bucket per user for resource writes:
// Config.WriteRate tokens a second, holding at most Config.WriteBurst
// (ratelimit.Keyed: bounded by the users that wrote within the last
// refill period). It is safe for concurrent use.
type writeLimiter struct{ keyed *ratelimit.Keyed[string] }

func newWriteLimiter(c Config) *writeLimiter {
	return &writeLimiter{keyed: ratelimit.NewKeyed[string](c.WriteRate, c.WriteBurst, 0)}
}

// allow takes a token from user's bucket at now and reports whether there
// was one.
func (l *writeLimiter) allow(user string, now time.Time) bool { return l.keyed.Take(user, now) }

// size is the number of buckets held, for tests.
func (l *writeLimiter) size() int { return l.keyed.Len() }
