package edge

import (
	"runtime"
	"sync"

	"github.com/roomring/roomring/node/op"
)

// The fan-out proper: an event encoded at most once per dialect present,
// written to a copy of its audience's subscriptions without any lock held,
// by up to GOMAXPROCS goroutines when the audience is big. A room's
// fan-outs are run by its lane's runner, one batch at a time; a world
// event's by the goroutine that delivers it.

// recipient is a session being fanned out to.
type recipient struct {
	s           Subscriber
	m           *membership // nil for world events
	d           Dialect     // s.Dialect(), asked once
	seesViewers bool
}

// fanOutRoom sends a batch of the room's events to its local sessions:
// each event encoded once per dialect, each session's share of the batch
// in one SendFrames, in order. The sessions are those subscribed when the
// batch is taken, less those that part meanwhile.
func (e *Edge) fanOutRoom(r *localRoom, batch []*op.Event) {
	ms := getRecipients()
	defer putRecipients(ms)
	var present [numDialects]bool
	evs := e.subs.copyRoom(r, batch, ms, &present)
	if len(*ms) == 0 {
		return
	}
	frames := make([][numDialects][]byte, len(evs))
	for i, ev := range evs {
		frames[i] = e.encode(ev, &present)
	}
	parallel(*ms, func(part []recipient) {
		out := make([][]byte, 0, len(evs))
		for _, m := range part {
			if m.m.gone.Load() {
				continue
			}
			out = out[:0]
			d := m.d
			for i, ev := range evs {
				if ev.Audience == op.ToRoomViewers && (!m.seesViewers || m.s.UserID() == ev.Subject) {
					continue
				}
				if ev.Personal {
					send(m.s, out)
					out = out[:0]
					m.s.SendPersonal(ev)
				} else if f := frames[i][d]; f != nil {
					out = append(out, f)
				}
			}
			send(m.s, out)
		}
	})
}

// fanOutWorld sends a world event to every session attached to its world
// (those attached when it starts).
func (e *Edge) fanOutWorld(ev *op.Event) {
	ms := getRecipients()
	defer putRecipients(ms)
	var present [numDialects]bool
	e.subs.copyWorld(ev.World, ms, &present)
	if len(*ms) == 0 {
		return
	}
	frames := e.encode(ev, &present)
	parallel(*ms, func(part []recipient) {
		for _, m := range part {
			if ev.Personal {
				m.s.SendPersonal(ev)
			} else if f := frames[m.d]; f != nil {
				m.s.Send(f)
			}
		}
	})
}

// encode encodes ev once for each dialect present (none for a personal
// event: each session encodes its own).
func (e *Edge) encode(ev *op.Event, present *[numDialects]bool) (frames [numDialects][]byte) {
	if ev.Personal {
		return frames
	}
	for d, enc := range e.encoders {
		if present[d] && enc != nil {
			if f, ok := enc(ev); ok {
				frames[d] = f
			}
		}
	}
	return frames
}

// send hands a session its frames of a batch.
func send(s Subscriber, frames [][]byte) {
	switch len(frames) {
	case 0:
	case 1:
		s.Send(frames[0])
	default:
		s.SendFrames(frames)
	}
}

// fanoutChunk is the least number of sessions a fan-out goroutine serves:
// a fan-out to more than twice as many is written to the sockets by
// several goroutines at once (up to GOMAXPROCS), since each delivery is a
// system call.
const fanoutChunk = 1024

// recipients recycles the copies of subscriptions fan-outs work on.
var recipients = sync.Pool{New: func() any { s := make([]recipient, 0, 64); return &s }}

func getRecipients() *[]recipient { return recipients.Get().(*[]recipient) }

func putRecipients(ms *[]recipient) {
	clear(*ms)
	*ms = (*ms)[:0]
	recipients.Put(ms)
}

// parallel runs fn over ms, split among goroutines when ms is big, and
// returns when every part is done.
func parallel(ms []recipient, fn func([]recipient)) {
	workers := min(runtime.GOMAXPROCS(0), len(ms)/fanoutChunk)
	if workers < 2 {
		fn(ms)
		return
	}
	var wg sync.WaitGroup
	per := (len(ms) + workers - 1) / workers
	for len(ms) > per {
		part := ms[:per]
		ms = ms[per:]
		wg.Go(func() { fn(part) })
	}
	fn(ms)
	wg.Wait()
}
