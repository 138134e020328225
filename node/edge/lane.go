package edge

import (
	"sync"

	"github.com/roomring/roomring/node/op"
)

// laneMax bounds the events a room's lane holds: a caller of Deliver waits
// while it is full. laneBatch is the most events one fan-out takes.
const (
	laneMax   = 4096
	laneBatch = 64
)

// lane is a room's fan-out queue: it keeps the room's events in the order
// they were delivered, bounded by laneMax, and hands them out in batches
// of up to laneBatch, one batch at a time.
//
// Concurrency: a lane has one lock, its own, and takes no other. Any
// goroutine may add; the one whose add finds the lane idle becomes its
// runner and must call drain (itself, or on a goroutine of its own), which
// returns when the lane is empty and idle again. There is at most one
// runner at a time, so batches go out one after another, in order. An add
// to a full lane of a running room waits until the runner takes a batch:
// that is the back-pressure on whoever publishes the room's events.
//
// The zero lane is not ready: call init once before use (its room's
// record does, when it is made).
type lane struct {
	mu      sync.Mutex
	space   sync.Cond // on mu; signalled when the runner takes events
	pending []*op.Event
	spare   []*op.Event // the last batch's array, for the next one
	running bool
}

// init readies the lane.
func (ln *lane) init() { ln.space.L = &ln.mu }

// add queues ev, waiting while the lane is full; true means the lane was
// idle and the caller is now its runner.
func (ln *lane) add(ev *op.Event) bool {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	for ln.running && len(ln.pending) >= laneMax {
		ln.space.Wait()
	}
	ln.pending = append(ln.pending, ev)
	if ln.running {
		return false
	}
	ln.running = true
	return true
}

// drain is the runner's loop: it hands the queued events to fanOut, a
// batch at a time and in order, until the lane is empty. fanOut must not
// keep the batch, and is called without the lane's lock.
func (ln *lane) drain(fanOut func(batch []*op.Event)) {
	for batch := ln.next(nil); batch != nil; batch = ln.next(batch) {
		fanOut(batch)
	}
}

// next gives back a batch that has gone out and takes the next one, up to
// laneBatch events; nil means the lane is empty and idle again.
func (ln *lane) next(done []*op.Event) []*op.Event {
	ln.mu.Lock()
	defer ln.mu.Unlock()
	if done != nil {
		clear(done)
		ln.spare = done[:0]
	}
	if len(ln.pending) == 0 {
		ln.running = false
		return nil
	}
	n := min(len(ln.pending), laneBatch)
	batch := append(ln.spare, ln.pending[:n]...)
	ln.spare = nil
	rest := copy(ln.pending, ln.pending[n:])
	clear(ln.pending[rest:])
	ln.pending = ln.pending[:rest]
	ln.space.Broadcast()
	return batch
}
