package session

// Transport is a connection as a protocol handler sees it: frames to send,
// a close, and the authentication deadline it lifts.
// The handler depends on it, not on *Conn, so a dialect can be driven by
// a fake in its tests.
//
// Concurrency: every method is safe for concurrent use and never blocks.
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
	// MarkAuthenticated lifts the authentication deadline. It is called
	// from HandleFrame (the connection's reading side).
	MarkAuthenticated()
}

// Handler handles a connection's inbound messages. The connection's reader
// calls HandleFrame with a message within the rate limit and RateLimited
// with one over it that is to be answered with the dialect's rate-limited
// error (and not executed); they are called one message at a time, and
// Closed once, after the last. Messages over the limit beyond those
// answered reach neither. t is the connection.
type Handler interface {
	HandleFrame(t Transport, frame []byte)
	RateLimited(t Transport, frame []byte)
	Closed(t Transport)
}
