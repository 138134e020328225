package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Client states.
const (
	stDialing int32 = iota
	stReady
	stClosed
)

// Request kinds, for matching replies.
const (
	reqNone uint8 = iota
	reqReact
	reqBroadcast
	reqLeave
	reqEnter
	reqFlood
)

// pendingSlots bounds the requests one connection has in flight; a reply
// whose slot was reused is counted as unmatched.
const pendingSlots = 64

type pending struct {
	id   int64
	kind uint8
	at   int64 // unix ns
}

// client is one load generator connection.
type client struct {
	w         *worker
	index     int // global connection index; moderators are negative
	uid       string
	room      string
	moderator bool
	target    string
	src       net.IP

	ws       *wsConn
	state    atomic.Int32
	flooding atomic.Bool

	// Read by the poller (poll_linux.go).
	slot int        // index in the worker's table of clients
	fd   int        // the socket, while registered
	rmu  sync.Mutex // serialises reading with closing

	mu      sync.Mutex
	nextID  int64
	pending [pendingSlots]pending
	emoji   int
	scratch []byte
}

// dialect is one wire protocol as the load generator speaks it.
type dialect interface {
	// path is the request URI of the websocket upgrade.
	path(c *client) (string, error)
	// setup authenticates and enters the client's room, reading replies
	// synchronously.
	setup(c *client) error
	// handle processes one inbound message after setup.
	handle(c *client, msg []byte, now int64)
	// request appends the frame of a request of kind with id; stamp is the
	// broadcast's send time (unix ns).
	request(c *client, dst []byte, kind uint8, id int64, stamp int64) []byte
}

var errStopped = errors.New("stopped")

// run dials and sets up the connection, then reads it until it ends or
// ctx is done — from the worker's poller when there is one (run returns
// once the connection is handed over), else in this goroutine. It calls
// setupDone once the connection is set up or has failed.
func (c *client) run(ctx context.Context, setupDone func()) {
	w := c.w
	w.live.attempted.Add(1)
	w.live.dialing.Add(1)
	fail := func(counter *atomic.Int64, what string, err error) {
		w.live.dialing.Add(-1)
		setupDone()
		c.state.Store(stClosed)
		if ctx.Err() == nil {
			counter.Add(1)
			w.live.fail(what + errCause(err))
		}
	}
	path, err := w.dialect.path(c)
	if err != nil {
		fail(&w.live.setupErrors, "setup: ", err)
		return
	}
	ws, err := dialWS(ctx, c.target, path, c.src, w.cfg.DialTimeout)
	if err != nil {
		fail(&w.live.dialErrors, "dial: ", err)
		return
	}
	c.ws = ws
	stopSetup := context.AfterFunc(ctx, func() { _ = ws.close() })
	_ = ws.c.SetDeadline(time.Now().Add(w.cfg.DialTimeout))
	err = w.dialect.setup(c)
	if !stopSetup() || err != nil {
		_ = ws.close()
		if err == nil {
			err = errStopped
		}
		fail(&w.live.setupErrors, "setup: ", err)
		return
	}
	_ = ws.c.SetDeadline(time.Time{})
	w.live.dialing.Add(-1)
	setupDone()
	w.live.open.Add(1)
	c.state.Store(stReady)
	w.readyConn(c)
	if w.poll != nil {
		if err := w.poll.add(c); err != nil {
			c.closeConn(err, false)
		}
		return
	}
	stop := context.AfterFunc(ctx, func() { c.closeConn(nil, true) })
	defer stop()
	for {
		msg, err := ws.readMessage()
		if err != nil {
			c.closeConn(err, ctx.Err() != nil)
			return
		}
		c.received(msg, time.Now().UnixNano())
	}
}

// received handles one inbound message.
func (c *client) received(msg []byte, now int64) {
	c.w.live.msgsIn.Add(1)
	c.w.live.bytesIn.Add(int64(len(msg)))
	c.w.dialect.handle(c, msg, now)
}

// closeConn ends a set-up connection once: cause is why (nil when the run
// stops it), stopping says whether the run is ending (not a drop).
func (c *client) closeConn(cause error, stopping bool) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.closeLocked(cause, stopping)
}

// closeLocked is closeConn with c.rmu held.
func (c *client) closeLocked(cause error, stopping bool) {
	if !c.state.CompareAndSwap(stReady, stClosed) {
		return
	}
	if c.w.poll != nil {
		c.w.poll.remove(c)
	}
	// Not under a write: a descriptor closed during one could be reused by
	// another connection before the write reaches it.
	c.ws.wmu.Lock()
	_ = c.ws.close()
	c.ws.wmu.Unlock()
	c.w.live.open.Add(-1)
	if !stopping {
		c.w.live.drops.Add(1)
		c.w.live.firstDrop.CompareAndSwap(0, time.Now().UnixNano())
		c.w.live.fail("drop: " + errCause(cause))
	}
}

// errCause shortens an error to a bounded label: the last part of its
// message, which names the cause (connection refused, reset, ...).
func errCause(err error) string {
	if err == nil {
		return "closed"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		s = s[i+2:]
	}
	if len(s) > 80 {
		s = s[:80]
	}
	return s
}

// send writes a request of kind and tracks it for its reply.
func (c *client) send(kind uint8, stamp int64) error {
	if c.state.Load() != stReady {
		return errStopped
	}
	c.mu.Lock()
	c.nextID++
	id := c.nextID
	c.pending[id%pendingSlots] = pending{id: id, kind: kind, at: time.Now().UnixNano()}
	c.scratch = c.w.dialect.request(c, c.scratch[:0], kind, id, stamp)
	err := c.ws.writeText(c.scratch)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.w.live.requests.Add(1)
	c.w.live.msgsOut.Add(1)
	return nil
}

// sendSetup writes a setup request (no reply tracking).
func (c *client) sendSetup(frame []byte) error {
	if err := c.ws.writeText(frame); err != nil {
		return err
	}
	c.w.live.msgsOut.Add(1)
	return nil
}

// readSetup reads messages until match accepts one; the others are counted
// and handled as pushes.
func (c *client) readSetup(match func(msg []byte) (done bool, err error)) error {
	for {
		msg, err := c.ws.readMessage()
		if err != nil {
			return err
		}
		c.w.live.msgsIn.Add(1)
		c.w.live.bytesIn.Add(int64(len(msg)))
		done, err := match(msg)
		if err != nil || done {
			return err
		}
	}
}

// reply matches a reply to its request: it returns the request, or false
// when none with id is in flight.
func (c *client) reply(id int64) (pending, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := &c.pending[((id%pendingSlots)+pendingSlots)%pendingSlots]
	if p.id != id || p.kind == reqNone {
		return pending{}, false
	}
	out := *p
	*p = pending{}
	return out, true
}

// replied records the outcome of a request; code is "" for success.
func (c *client) replied(id int64, code string, now int64) {
	w := c.w
	p, ok := c.reply(id)
	if !ok {
		w.live.unmatched.Add(1)
		return
	}
	if code != "" {
		w.live.errReplies.Add(1)
		w.live.fail(code)
	} else {
		w.live.replies.Add(1)
	}
	lat := time.Duration(now - p.at)
	switch p.kind {
	case reqReact, reqFlood:
		w.rtt.Record(lat)
		if p.kind == reqFlood {
			w.flooded(c)
		}
	case reqBroadcast:
		w.sched.Record(lat)
		if code == "" {
			w.live.broadcastOK.Add(1)
		}
	case reqEnter:
		if code == "" {
			w.live.churnDone.Add(1)
		}
	}
}

// delivered records a stamped broadcast found in msg.
func (c *client) delivered(msg []byte, now int64) bool {
	ts, ok := findStamp(msg)
	if !ok {
		return false
	}
	c.w.live.deliveries.Add(1)
	c.w.delivery.Record(time.Duration(now - ts))
	return true
}

// stampMarker starts the send timestamp a broadcast carries: "lg:<unix ns>",
// in room.schedule's schedule_data.title (venueless) or the reaction string
// of resource:setReaction (Socket.IO).
const stampMarker = `"lg:`

func appendStamp(dst []byte, ts int64) []byte {
	dst = append(dst, "lg:"...)
	return strconv.AppendInt(dst, ts, 10)
}

// findStamp returns the timestamp of a message carrying one.
func findStamp(msg []byte) (int64, bool) {
	i := bytes.Index(msg, []byte(stampMarker))
	if i < 0 {
		return 0, false
	}
	i += len(stampMarker)
	j := i
	for j < len(msg) && msg[j] >= '0' && msg[j] <= '9' {
		j++
	}
	if j == i || j-i > 19 {
		return 0, false
	}
	ts, err := strconv.ParseInt(string(msg[i:j]), 10, 64)
	return ts, err == nil
}

// nextEmoji cycles through the default reactions, so a user's repeats are
// not debounced.
func (c *client) nextEmoji() string {
	c.emoji++
	return reactions[c.emoji%len(reactions)]
}

// reactions are venueless' default allowed reactions.
var reactions = []string{"👏", "❤️", "👍", "🤣", "😮"}

// jsonString appends s as a JSON string (the ids and names the load
// generator sends need no escaping beyond quotes and backslashes).
func jsonString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			dst = append(dst, '\\')
		}
		dst = append(dst, s[i])
	}
	return append(dst, '"')
}

// parseInt reads the decimal integer at the start of b.
func parseInt(b []byte) (int64, int, bool) {
	neg := len(b) > 0 && b[0] == '-'
	i := 0
	if neg {
		i = 1
	}
	start := i
	var n int64
	for i < len(b) && b[i] >= '0' && b[i] <= '9' && i-start < 18 {
		n = n*10 + int64(b[i]-'0')
		i++
	}
	if i == start {
		return 0, 0, false
	}
	if neg {
		n = -n
	}
	return n, i, true
}

// stringAfter returns the JSON string value that follows key (e.g.
// `"code":"`) in msg, without unescaping.
func stringAfter(msg []byte, key string) string { return valueAfter(msg, key, `"`) }

// valueAfter returns the bytes that follow key in msg up to the first of
// stops ("" when key or a stop is missing).
func valueAfter(msg []byte, key, stops string) string {
	i := bytes.Index(msg, []byte(key))
	if i < 0 {
		return ""
	}
	rest := msg[i+len(key):]
	j := bytes.IndexAny(rest, stops)
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}

func setupError(what string, msg []byte) error {
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return fmt.Errorf("%s: %s", what, msg)
}
