package session

import (
	"net"

	"github.com/fasthttp/websocket"
	"github.com/roomring/roomring/node/wsframe"
)

// Close codes used by the node.
const (
	CloseNormal         = wsframe.CloseNormal
	CloseGoingAway      = wsframe.CloseGoingAway       // node shutting down
	ClosePolicy         = wsframe.ClosePolicyViolation // slow consumer, auth timeout
	CloseTooBig         = wsframe.CloseMessageTooBig
	CloseInternalError  = wsframe.CloseInternalError  // a panic in the connection's handling
	CloseServiceRestart = wsframe.CloseServiceRestart // node leaving a cluster
)

// Hooks are optional observers of connection events (metrics).
type Hooks struct {
	SlowConsumer func()
	FrameOut     func()
}

// Conn is a websocket connection: the facade over its three parts, each
// with one job and its own concurrency rules —
//
//   - the reader (reader.go; activate_linux.go when read from a Poller)
//     reads frames, enforces the frame-size and rate limits, and hands
//     messages to the Handler, one at a time;
//   - the writer (writer.go) writes frames from a bounded queue: directly
//     and without blocking when nothing is queued, else from a writer
//     goroutine started on demand; it holds a reader's replies while corked;
//   - the lifecycle (lifecycle.go) closes the connection, once: close code
//     and reason, the authentication deadline, the slow-consumer drop, and
//     the end of Serve.
//
// Conn is the Transport its Handler is given: see Transport for the
// concurrency rules of its methods.
//
// An idle connection costs one goroutine (the reader; none when read from
// a Poller) and no buffers: the write queue grows only as frames are
// queued, and a writer goroutine runs only while there is something to
// write that could not be written at once — frames, a keep-alive ping, a
// pong or the close frame.
//
// The parts share the limits and the hooks, set once by New, and reach
// one another through the Conn: one pointer each, which keeps an idle
// connection small. The socket is the writer's (socket.go): Go's TCP
// connection, or — once a connection is polled (Start) — only its
// descriptor.
type Conn struct {
	ws    *websocket.Conn // the library's connection: Serve reads with it; nil once polled (Start)
	cfg   *Config
	hooks *Hooks

	life lifecycle
	w    writer
	r    reader
}

// New wraps an upgraded websocket. The session owns its socket from then
// on and closes it: a fasthttp server must keep hijacked connections
// (KeepHijackedConns), or it closes them when the upgrade's handler
// returns, which Start does at once.
func New(ws *websocket.Conn, cfg *Config, hooks *Hooks) *Conn {
	ws.SetReadLimit(int64(cfg.MaxFrameBytes))
	raw := ws.UnderlyingConn()
	// fasthttp hands out a wrapper of the hijacked connection (its reads
	// go through the request's buffered reader); keep the TCP connection.
	if u, ok := raw.(interface{ UnsafeConn() net.Conn }); ok {
		raw = u.UnsafeConn()
	}
	c := &Conn{ws: ws, cfg: cfg, hooks: hooks}
	c.life.init(c)
	c.w.init(c, raw)
	c.r.init(c)
	return c
}

// Send queues a text frame. It never blocks: when the queue is full the
// connection is closed as a slow consumer. The frame may be shared with
// other connections and must not be modified afterwards.
func (c *Conn) Send(frame []byte) {
	one := [1][]byte{frame}
	c.w.send(one[:], false)
}

// SendFrames queues text frames, in order, like Send; when nothing is
// queued they go out with one system call.
func (c *Conn) SendFrames(frames [][]byte) { c.w.send(frames, false) }

// Push is Send for a frame that does not answer the connection's own
// frames — a room's fan-out, a world event: a running activation's cork
// does not hold it back (the writer takes what is queued at once).
func (c *Conn) Push(frame []byte) {
	one := [1][]byte{frame}
	c.w.send(one[:], true)
}

// PushFrames is SendFrames as Push.
func (c *Conn) PushFrames(frames [][]byte) { c.w.send(frames, true) }

// Close starts closing the connection with code and reason: a close frame is
// sent after the queued frames and the socket is closed. It is idempotent.
func (c *Conn) Close(code int, reason string) { c.life.close(code, reason) }

// Closing is closed once Close was called.
func (c *Conn) Closing() <-chan struct{} { return c.life.closingChan() }

// MarkAuthenticated lifts the authentication deadline. The handler calls
// it while it handles a frame (the reading side), as Transport says.
func (c *Conn) MarkAuthenticated() {
	c.life.authed.Store(true)
	c.r.authDone()
}

// Abandon closes a connection that is never to be started (Start or
// Serve): what was queued and the close frame with code and reason are
// written (within the write timeout), then its socket is closed. It
// returns when done. No Handler is told.
func (c *Conn) Abandon(code int, reason string) {
	c.life.close(code, reason)
	c.w.wait()
	c.w.closeSocket()
}

// Serve runs the connection until it closes: it reads in the calling
// goroutine; writes happen in a writer goroutine started on demand. It
// returns after h.Closed.
func (c *Conn) Serve(h Handler) { c.r.serve(h) }

var _ Transport = (*Conn)(nil)
