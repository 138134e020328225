package socketio

import (
	"sync"
	"time"

	"github.com/roomring/roomring/node/session"
)

// heartbeat enforces Engine.IO's liveness rules until the connection closes.
//
// EIO=4: the server sends ping "2" PingInterval after the previous pong and
// closes the connection when the pong "3" does not come within PingTimeout.
// The client, which expects a ping every PingInterval+PingTimeout, thus
// always gets one in time. A pong that answers no ping (a stray one, while
// the server waits out the interval) is ignored: it never answers the next
// ping.
//
// EIO=3: the client pings every PingInterval and the server answers (in
// HandleFrame); a client silent for PingInterval+PingTimeout is gone and the
// connection is closed.
//
// It holds no goroutine: one timer, whose callback (fire) moves a small
// state machine guarded by mu. An idle connection read by the session's
// poller thus costs no goroutine at all (docs/benchmarks.md, "Idle memory
// per connection").
//
// Who calls what: start once, from the goroutine that opens the connection
// (Handler.Open), before the connection is served; beat from the read
// goroutine (HandleFrame), one call at a time; fire from the timer's own
// goroutine; stop from Handler.Closed, after the last HandleFrame. All of
// them may run concurrently with one another except start, which comes
// first.
type heartbeat struct {
	conn              heartbeatConn
	interval, timeout time.Duration
	eio3              bool

	mu sync.Mutex
	t  *time.Timer // runs fire; nil before start
	// due is when the timer was last armed to fire. A callback that runs
	// before it is stale: the timer was armed again (by beat) after that
	// callback was already on its way, and will run fire again when due.
	due time.Time
	// awaiting: EIO=4 only, a ping was sent and its pong has not come.
	awaiting bool
	// stopped: the connection closes; nothing acts any more.
	stopped bool
}

// heartbeatConn is what the heartbeat needs of its connection
// (its session.Transport; a fake in unit tests).
type heartbeatConn interface {
	Send(frame []byte)
	Close(code int, reason string)
	Closing() <-chan struct{}
}

func (hb *heartbeat) init(conn heartbeatConn, cfg *Config, eio int) {
	hb.conn, hb.interval, hb.timeout, hb.eio3 = conn, cfg.PingInterval, cfg.PingTimeout, eio == 3
}

// start arms the first deadline: EIO=4, the first ping one interval from
// now; EIO=3, the first client ping within interval + timeout.
func (hb *heartbeat) start() {
	d := hb.interval
	if hb.eio3 {
		d += hb.timeout
	}
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.stopped {
		return
	}
	hb.due = time.Now().Add(d)
	hb.t = time.AfterFunc(d, hb.fire)
}

// arm makes the timer run fire d from now. hb.mu is held.
func (hb *heartbeat) arm(d time.Duration) {
	// due is taken before Reset computes the timer's own deadline (on the
	// same monotonic clock), so a callback of this arming never sees
	// time.Now() before due.
	hb.due = time.Now().Add(d)
	hb.t.Reset(d)
}

// beat records a heartbeat from the client: a ping (EIO=3) or a pong
// (EIO=4). Read goroutine only.
func (hb *heartbeat) beat() {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.stopped || hb.t == nil {
		return
	}
	switch {
	case hb.eio3:
		hb.arm(hb.interval + hb.timeout)
	case hb.awaiting:
		hb.awaiting = false
		hb.arm(hb.interval)
	}
	// EIO=4 and no ping outstanding: a stray pong, ignored.
}

// fire is the timer's callback: a deadline has passed.
func (hb *heartbeat) fire() {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	if hb.stopped {
		return
	}
	select {
	case <-hb.conn.Closing():
		hb.stopped = true
		return
	default:
	}
	if time.Now().Before(hb.due) {
		return // stale: re-armed meanwhile; fire runs again when due
	}
	switch {
	case hb.eio3:
		hb.stopped = true
		hb.conn.Close(session.CloseNormal, "ping timeout")
	case hb.awaiting:
		hb.stopped = true
		hb.conn.Close(session.CloseNormal, "pong timeout")
	default:
		hb.conn.Send([]byte{EIOPing})
		hb.awaiting = true
		hb.arm(hb.timeout)
	}
}

// stop ends the heartbeat for good: the timer is stopped and a callback
// already on its way does nothing. Handler.Closed calls it.
func (hb *heartbeat) stop() {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	hb.stopped = true
	if hb.t != nil {
		hb.t.Stop()
	}
}
