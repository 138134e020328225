//go:build linux

package session

import (
	"time"
)

// The deadlines of polled connections — the keep-alive ping, the idle
// drop and the authentication deadline — are not timers: each is a time
// in the connection's reader, and one sweeper per poll loop looks at its
// connections every tick and acts on those due. An idle connection then
// holds three integers where it held three runtime timers and their
// closures (~400 bytes, docs/benchmarks.md).
//
// A deadline acts between its time and one tick later (plus scheduling):
// the tick is a tenth of the shortest ping interval or authentication
// timeout of the loop's connections, between minSweepTick and
// maxSweepTick — with the default limits (25 s, 30 s), one second.

const (
	minSweepTick = 10 * time.Millisecond
	maxSweepTick = time.Second
)

// sweepTick is the tick cfg's deadlines need.
func sweepTick(cfg *Config) time.Duration {
	return min(max(min(cfg.PingInterval, cfg.AuthTimeout)/10, minSweepTick), maxSweepTick)
}

// startDeadlines sets a new connection's deadlines and lowers the loop's
// tick to what its limits need.
func (r *reader) startDeadlines(l *pollLoop) {
	now, cfg := mono(), r.c.cfg
	r.dl.authAt.Store(now + int64(cfg.AuthTimeout))
	r.dl.idleAt.Store(now + int64(2*cfg.PingInterval))
	r.dl.pingAt = now + int64(cfg.PingInterval)
	want := int64(sweepTick(cfg))
	for {
		cur := l.tick.Load()
		if want >= cur {
			return
		}
		if l.tick.CompareAndSwap(cur, want) {
			select {
			case l.retick <- struct{}{}:
			default:
			}
			return
		}
	}
}

// touch renews the idle deadline: the peer sent something.
func (r *reader) touch() {
	r.dl.idleAt.Store(mono() + int64(2*r.c.cfg.PingInterval))
}

// sweep runs until stop is closed: every tick it acts on the deadlines due.
func (l *pollLoop) sweep(stop <-chan struct{}) {
	t := time.NewTimer(time.Duration(l.tick.Load()))
	defer t.Stop()
	var batch []*reader
	for {
		select {
		case <-stop:
			return
		case <-l.retick: // a shorter tick: sweep now and go on with it
		case <-t.C:
		}
		batch = l.sweepOnce(batch[:0])
		clear(batch)
		t.Reset(time.Duration(l.tick.Load()))
	}
}

// sweepOnce acts on the deadlines due among the loop's connections; it
// returns batch, filled with them (for reuse).
func (l *pollLoop) sweepOnce(batch []*reader) []*reader {
	l.mu.RLock()
	for _, r := range l.conns {
		batch = append(batch, r)
	}
	l.mu.RUnlock()
	now := mono()
	for _, r := range batch {
		r.due(now)
	}
	return batch
}

// due acts on r's deadlines that are due at now: on the sweeper's
// goroutine, which must not block — what may block runs in a goroutine
// of its own, as a timer's function would.
func (r *reader) due(now int64) {
	if at := r.dl.authAt.Load(); at != 0 && now >= at && r.dl.authAt.CompareAndSwap(at, 0) {
		if !r.c.life.authed.Load() {
			r.c.life.close(ClosePolicy, "authentication timeout") // does not block
		}
	}
	if at := r.dl.idleAt.Load(); now >= at && r.dl.idleAt.CompareAndSwap(at, never) {
		go func() {
			r.c.life.close(CloseNormal, "")
			r.teardown() // waits for the writer's close frame
		}()
	}
	if now >= r.dl.pingAt {
		r.dl.pingAt = now + int64(r.c.cfg.PingInterval)
		r.c.w.pingNow()
	}
}
