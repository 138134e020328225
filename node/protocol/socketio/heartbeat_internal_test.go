package socketio

import (
	"sync"
	"testing"
	"time"
)

// fakeConn records what the heartbeat does to its connection.
type fakeConn struct {
	mu      sync.Mutex
	log     []string // "ping" and "close: <reason>", in order
	closing chan struct{}
	once    sync.Once
	acted   chan string // every entry of log, as it happens
}

func newFakeConn() *fakeConn {
	return &fakeConn{closing: make(chan struct{}), acted: make(chan string, 1000)}
}

func (c *fakeConn) record(s string) {
	c.mu.Lock()
	c.log = append(c.log, s)
	c.mu.Unlock()
	c.acted <- s
}

func (c *fakeConn) Send(frame []byte) {
	select {
	case <-c.closing:
		c.record("send after close: " + string(frame))
	default:
		c.record("send " + string(frame))
	}
}

func (c *fakeConn) Close(_ int, reason string) {
	c.record("close: " + reason)
	c.once.Do(func() { close(c.closing) })
}

func (c *fakeConn) Closing() <-chan struct{} { return c.closing }

func (c *fakeConn) entries() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.log...)
}

// next waits for the heartbeat's next action.
func (c *fakeConn) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-c.acted:
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("the heartbeat did nothing; so far %q", c.entries())
		return ""
	}
}

func newTestHeartbeat(eio int, interval, timeout time.Duration) (*heartbeat, *fakeConn) {
	c := newFakeConn()
	hb := &heartbeat{}
	hb.init(c, &Config{PingInterval: interval, PingTimeout: timeout}, eio)
	return hb, c
}

func expect(t *testing.T, c *fakeConn, want string) {
	t.Helper()
	if got := c.next(t); got != want {
		t.Fatalf("heartbeat did %q, want %q; log %q", got, want, c.entries())
	}
}

// pending reports whether hb's timer is still scheduled (and stops it).
func pending(hb *heartbeat) bool {
	hb.mu.Lock()
	defer hb.mu.Unlock()
	return hb.t != nil && hb.t.Stop()
}

func TestHeartbeatEIO4(t *testing.T) {
	hb, c := newTestHeartbeat(4, 10*time.Millisecond, 500*time.Millisecond)
	hb.beat() // stray, before the first ping
	hb.start()
	for range 3 {
		expect(t, c, "send 2")
		hb.beat()
	}
	hb.beat() // stray: must not answer the next ping
	expect(t, c, "send 2")
	expect(t, c, "close: pong timeout")
	if pending(hb) {
		t.Fatal("timer still scheduled after the pong timeout")
	}
	hb.beat() // after close: nothing
	hb.stop()
	if got := c.entries(); len(got) != 5 {
		t.Fatalf("log %q: want four pings and one close", got)
	}
}

func TestHeartbeatEIO3(t *testing.T) {
	hb, c := newTestHeartbeat(3, 10*time.Millisecond, 10*time.Millisecond)
	hb.start()
	expect(t, c, "close: ping timeout")
	if pending(hb) {
		t.Fatal("timer still scheduled after the ping timeout")
	}

	// A client that pings is kept; beats re-arm the deadline.
	hb, c = newTestHeartbeat(3, time.Hour, time.Hour)
	hb.start()
	hb.beat()
	hb.mu.Lock()
	due := hb.due
	hb.mu.Unlock()
	if time.Until(due) < time.Hour {
		t.Fatalf("deadline %v after a ping, want interval + timeout", time.Until(due))
	}
	hb.stop()
	if pending(hb) {
		t.Fatal("timer still scheduled after stop")
	}
	if got := c.entries(); len(got) != 0 {
		t.Fatalf("log %q: want nothing", got)
	}
}

// TestHeartbeatStop checks that nothing acts once the heartbeat is stopped
// or the connection closes, and that stop leaves no timer scheduled.
func TestHeartbeatStop(t *testing.T) {
	for _, eio := range []int{3, 4} {
		hb, c := newTestHeartbeat(eio, time.Hour, time.Hour)
		hb.start()
		hb.stop()
		if pending(hb) {
			t.Fatalf("EIO=%d: timer still scheduled after stop", eio)
		}
		hb.mu.Lock()
		hb.due = time.Time{} // as if due: only stopped may hold it back
		hb.mu.Unlock()
		hb.fire()
		hb.beat()
		if got := c.entries(); len(got) != 0 {
			t.Fatalf("EIO=%d: log %q after stop, want nothing", eio, got)
		}

		// The connection closing (before Closed stops the heartbeat).
		hb, c = newTestHeartbeat(eio, time.Hour, time.Hour)
		hb.start()
		close(c.closing)
		hb.mu.Lock()
		hb.due = time.Time{}
		hb.mu.Unlock()
		hb.fire()
		if got := c.entries(); len(got) != 0 {
			t.Fatalf("EIO=%d: log %q after close, want nothing", eio, got)
		}
		hb.stop()
		if pending(hb) {
			t.Fatalf("EIO=%d: timer still scheduled after stop", eio)
		}
	}
	hb, _ := newTestHeartbeat(4, time.Hour, time.Hour)
	hb.stop() // before start (a connection closed before it opened)
	hb.start()
	if pending(hb) {
		t.Fatal("start after stop scheduled a timer")
	}
}

// TestHeartbeatStaleFire checks that a callback overtaken by a re-arming
// (a pong that came as the timeout expired) does nothing.
func TestHeartbeatStaleFire(t *testing.T) {
	hb, c := newTestHeartbeat(4, time.Hour, time.Hour)
	hb.start()
	hb.mu.Lock()
	hb.awaiting = true // a ping is out
	hb.mu.Unlock()
	hb.beat() // its pong re-arms the interval
	hb.fire() // the timeout's callback, late
	if got := c.entries(); len(got) != 0 {
		t.Fatalf("log %q: a stale callback acted", got)
	}
	hb.stop()
}

// TestHeartbeatRace beats many times against fast timers (for the race
// detector), then stops beating, waits for the close and checks the log is
// well-formed: pings, then one close, last.
func TestHeartbeatRace(t *testing.T) {
	for _, eio := range []int{3, 4} {
		hb, c := newTestHeartbeat(eio, time.Millisecond, time.Millisecond)
		hb.start()
		var wg sync.WaitGroup
		wg.Go(func() {
			for range 20000 {
				hb.beat()
			}
		})
		wg.Wait()
		select {
		case <-c.closing:
		case <-time.After(10 * time.Second):
			t.Fatalf("EIO=%d: not closed; log %q", eio, c.entries())
		}
		hb.stop()
		if pending(hb) {
			t.Fatalf("EIO=%d: timer still scheduled after stop", eio)
		}
		log := c.entries()
		for i, s := range log {
			if s != "send 2" && (i != len(log)-1 || s != "close: ping timeout" && s != "close: pong timeout") {
				t.Fatalf("EIO=%d: log %q: entry %d is %q", eio, log, i, s)
			}
		}
		if eio == 3 && len(log) != 1 {
			t.Fatalf("EIO=3: log %q: the server never pings", log)
		}
	}
}
