//go:build linux

package floor

import (
	"sync"
)

// room is a room's members. Entering and leaving are the loop's; a fan-out
// copies the list under mu and writes without it.
type room struct {
	mu      sync.Mutex
	members []*member
}

func (r *room) add(m *member) {
	r.mu.Lock()
	r.members = append(r.members, m)
	r.mu.Unlock()
}

func (r *room) remove(m *member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, x := range r.members {
		if x == m {
			last := len(r.members) - 1
			r.members[i], r.members[last] = r.members[last], nil
			r.members = r.members[:last]
			return
		}
	}
}

func (r *room) snapshot(dst []*member) []*member {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(dst[:0], r.members...)
}

// job is one broadcast: its room and its frame, header included.
type job struct {
	room  *room
	frame []byte
}

// fanout writes broadcasts to their rooms' members: one goroutine takes
// every broadcast queued since its last fan-out, concatenates those of a
// room and writes them to each member with one system call, the members
// split among the configured writers. The queue is bounded (MaxQueued).
type fanout struct {
	s    *Server
	mu   sync.Mutex
	jobs []job
	wake chan struct{}
}

func newFanout(s *Server) *fanout {
	return &fanout{s: s, wake: make(chan struct{}, 1)}
}

// post queues a broadcast; false when the queue is full.
func (f *fanout) post(r *room, frame []byte) bool {
	f.mu.Lock()
	if len(f.jobs) >= f.s.cfg.MaxQueued {
		f.mu.Unlock()
		return false
	}
	f.jobs = append(f.jobs, job{r, frame})
	f.mu.Unlock()
	f.wakeUp()
	return true
}

func (f *fanout) wakeUp() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

func (f *fanout) run() {
	var jobs []job
	var members []*member
	for {
		select {
		case <-f.s.done:
			return
		case <-f.wake:
		}
		f.mu.Lock()
		jobs, f.jobs = f.jobs, jobs[:0]
		f.mu.Unlock()
		for len(jobs) > 0 {
			r := jobs[0].room
			var batch []byte
			n := 0
			rest := jobs[:0]
			for _, j := range jobs {
				if j.room == r {
					batch = append(batch, j.frame...)
					n++
				} else {
					rest = append(rest, j)
				}
			}
			jobs = rest
			members = r.snapshot(members)
			f.write(members, batch, n)
		}
		clear(jobs[:cap(jobs)])
	}
}

// write sends batch (n broadcasts) to members, split among the writers.
func (f *fanout) write(members []*member, batch []byte, n int) {
	s := f.s
	s.fanOuts.Add(1)
	w := min(s.cfg.writers(), max(1, len(members)/256))
	var wg sync.WaitGroup
	for k := range w {
		part := members[k*len(members)/w : (k+1)*len(members)/w]
		wg.Add(1)
		go func() {
			defer wg.Done()
			var writes, short, dropped int64
			for _, m := range part {
				switch m.send(batch, s.cfg.MaxBacklog) {
				case sentWhole:
					writes++
				case sentShort:
					writes++
					short++
				case sentDrop:
					dropped++
				}
			}
			s.writes.Add(writes)
			s.deliveries.Add(writes * int64(n))
			s.backlogged.Add(short)
			s.dropped.Add(dropped)
		}()
	}
	wg.Wait()
	clear(members)
}
