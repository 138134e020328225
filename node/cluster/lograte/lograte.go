// Package lograte keeps log lines that strangers can provoke (garbage
// connections, undecryptable packets) from flooding the log: it lets at
// most one line of each kind through per interval and says how many it
// held back.
package lograte

import (
	"sync"
	"time"
)

// maxKinds bounds the kinds a Limiter tracks, Overflow included.
const maxKinds = 64

// Overflow is the kind that kinds beyond the first maxKinds share.
const Overflow = "other"

// Limiter decides which log lines to write. It is safe for concurrent use.
type Limiter struct {
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	kinds map[string]*kindState
}

type kindState struct {
	last       time.Time
	suppressed int
}

// New returns a Limiter letting one line per kind through every interval.
func New(every time.Duration) *Limiter {
	return &Limiter{every: every, now: time.Now, kinds: map[string]*kindState{}}
}

// Allow reports whether a line of kind may be written now and, if so, how
// many lines of the kind were held back since the last one written (to be
// logged with it). Kinds should come from a small fixed set; past maxKinds
// distinct kinds, new ones are counted as Overflow.
func (l *Limiter) Allow(kind string) (ok bool, suppressed int) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.kinds[kind]
	if s == nil {
		if len(l.kinds) >= maxKinds-1 {
			kind = Overflow
			s = l.kinds[kind]
		}
		if s == nil {
			s = &kindState{}
			l.kinds[kind] = s
			s.last = now.Add(-l.every)
		}
	}
	if now.Sub(s.last) < l.every {
		s.suppressed++
		return false, 0
	}
	n := s.suppressed
	s.last, s.suppressed = now, 0
	return true, n
}
