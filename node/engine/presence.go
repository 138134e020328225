package engine

import "sync"

// userLocks serialises one user's presence changes across their connections
// on this node. The edge answers "was this the user's last session in the
// room?" and the owner is told accordingly; if another connection of the
// same user entered between that answer and the owner call, the owner would
// drop a user who is still present (a page reload does exactly this: the
// old socket's disconnect races the new socket's room.enter).
type userLocks struct {
	mu    sync.Mutex
	locks map[string]*userLock
}

type userLock struct {
	mu   sync.Mutex
	refs int
}

// lock locks uid's presence and returns the unlock function.
func (l *userLocks) lock(uid string) (unlock func()) {
	l.mu.Lock()
	if l.locks == nil {
		l.locks = map[string]*userLock{}
	}
	ul := l.locks[uid]
	if ul == nil {
		ul = &userLock{}
		l.locks[uid] = ul
	}
	ul.refs++
	l.mu.Unlock()
	ul.mu.Lock()
	return func() {
		ul.mu.Unlock()
		l.mu.Lock()
		if ul.refs--; ul.refs == 0 {
			delete(l.locks, uid)
		}
		l.mu.Unlock()
	}
}
