package announce

import (
	"sync"
	"time"
)

// Timer is a pending call of a Clock's AfterFunc.
type Timer interface {
	// Stop cancels the call if it has not started (time.Timer.Stop).
	Stop() bool
}

// Clock schedules calls (time.AfterFunc in production, a fake in tests).
// AfterFunc must be safe for concurrent use and call f on a goroutine of
// its own, never inside AfterFunc.
type Clock interface {
	AfterFunc(d time.Duration, f func()) Timer
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// coalescer runs push at most once per window, however often it is asked
// to. The first request of a quiet period pushes at once, on the caller's
// goroutine; requests during the window that follows are folded into one
// push when the window ends, which opens the next window; a window with no
// request ends the burst. So every request is followed by a push that
// starts after it (a push must therefore read what it sends when it runs),
// and there is never more than one push at a time: the window is timed
// from the end of the previous push.
//
// request and close are safe for concurrent use; push is called from one
// goroutine at a time, without the coalescer's lock held.
type coalescer struct {
	window time.Duration
	clock  Clock
	push   func()

	mu      sync.Mutex
	busy    bool // a push runs or a window is open
	pending bool // asked during the window: push when it ends
	closed  bool
	timer   Timer
}

// request asks for a push: now if the coalescer is quiet (or its window is
// 0), else when the current window ends.
func (c *coalescer) request() {
	c.mu.Lock()
	if c.window <= 0 && !c.closed {
		c.mu.Unlock()
		c.push() // no window: every request pushes, as they come
		return
	}
	if c.closed || c.busy {
		c.pending = !c.closed
		c.mu.Unlock()
		return
	}
	c.busy = true
	c.mu.Unlock()
	c.push()
	c.arm()
}

// arm opens the window that follows a push.
func (c *coalescer) arm() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.timer = c.clock.AfterFunc(c.window, c.fire)
}

// fire ends a window: the pending push, and another window after it, or
// quiet.
func (c *coalescer) fire() {
	c.mu.Lock()
	c.timer = nil
	if c.closed || !c.pending {
		c.busy = false
		c.mu.Unlock()
		return
	}
	c.pending = false
	c.mu.Unlock()
	c.push()
	c.arm()
}

// close stops the coalescer: a pending push is dropped, later requests do
// nothing (the sessions they were for are closing).
func (c *coalescer) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed, c.pending = true, false
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}
