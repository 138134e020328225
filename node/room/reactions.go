package room

import (
	"time"

	"github.com/roomring/roomring/node/op"
)

// Reactions: a user's repeat of the same reaction within the debounce is
// not counted; the counts of each room are published once per window.

// React counts reaction by userID in room unless the same user sent the
// same reaction within the debounce period. It reports whether it counted.
func (m *Manager) React(roomID, userID, reaction string) bool {
	s := m.room(roomID)
	now := m.now()
	s.mu.Lock()
	key := debounceKey{userID, reaction}
	if t, ok := s.debounce[key]; ok && now.Sub(t) < m.cfg.ReactionDebounce {
		s.mu.Unlock()
		return false
	}
	s.debounce[key] = now
	s.counts[reaction]++
	s.mu.Unlock()
	m.mu.Lock()
	m.dirty[s] = struct{}{}
	m.mu.Unlock()
	return true
}

func (m *Manager) run() {
	defer close(m.done)
	t := time.NewTicker(m.cfg.ReactionWindow)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
			m.flush()
		}
	}
}

// flush publishes the window's counts of every room that had reactions and
// prunes expired debounce entries.
func (m *Manager) flush() {
	m.mu.Lock()
	batch := m.dirty
	m.dirty = make(map[*state]struct{}, len(batch))
	m.mu.Unlock()
	now := m.now()
	for s := range batch {
		s.mu.Lock()
		if len(s.counts) > 0 && !s.closed {
			counts := s.counts
			s.counts = map[string]int{}
			if edges := s.edgeList(); len(edges) > 0 {
				m.pub.Publish(edges, op.NewReaction(s.id, counts))
			}
		}
		for k, t := range s.debounce {
			if now.Sub(t) >= m.cfg.ReactionDebounce {
				delete(s.debounce, k)
			}
		}
		keep := len(s.debounce) > 0 && !s.closed
		s.mu.Unlock()
		if keep {
			m.mu.Lock()
			m.dirty[s] = struct{}{}
			m.mu.Unlock()
		}
	}
}
