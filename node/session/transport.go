package session

// Transport is a connection as a protocol handler sees it: frames to send,
// a close, and the two limits a handler applies (authentication, rate).
// The handler depends on it, not on *Conn, so a dialect can be driven by
// a fake in its tests.
//
// Concurrency: every method but Allow is safe for concurrent use and never
// blocks; Allow is the reader's — call it from HandleFrame only.
type Transport interface {
	// Send queues a text frame that answers the connection's own frames.
	// When the connection's bounded write queue is full it is closed as
	// a slow consumer. The frame may be shared with other connections and
	// must not be modified afterwards.
	Send(frame []byte)
	// SendFrames is Send for several frames, in order; when nothing is
	// queued they go out with one system call.
	SendFrames(frames [][]byte)
	// Push is Send for a frame that does not answer the connection's own
	// frames (a room's fan-out, a world event): it is not held back while
	// the reader's replies are gathered.
	Push(frame []byte)
	// PushFrames is SendFrames as Push.
	PushFrames(frames [][]byte)
	// Close starts closing the connection with a close code and reason:
	// the queued frames, then the close frame. Calls after the first do
	// nothing.
	Close(code int, reason string)
	// Closing is closed once Close was called.
	Closing() <-chan struct{}
	// MarkAuthenticated lifts the authentication deadline.
	MarkAuthenticated()
	// Allow takes one token of the inbound rate limit; false means the
	// frame is over the limit.
	Allow() bool
}

// Handler handles a connection's inbound frames. HandleFrame is called from
// the connection's reader, one frame at a time; Closed once, after the last
// HandleFrame. t is the connection.
type Handler interface {
	HandleFrame(t Transport, frame []byte)
	Closed(t Transport)
}
