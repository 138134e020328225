// Package peer links the nodes of a cluster: persistent, authenticated,
// multiplexed TCP connections that carry requests (with replies), one-way
// messages and replies between nodes.
//
// Every node dials one connection to every other node and sends all of its
// frames to that node over it — requests, one-way messages and replies to
// the other node's requests — so frames from one node to another arrive in
// the order they were sent. The connection a node accepts from a peer is
// read-only. Frames are length-prefixed; a writer goroutine per link
// batches whatever is queued into one write.
//
// Every queue is bounded. A frame for a peer whose queue is full is
// refused at once (ErrQueueFull), a peer whose link is down fails requests
// at once (ErrUnavailable), and a peer that stops reading is cut off after
// WriteTimeout: a slow or dead peer costs its own frames, never another
// peer's. On the receiving side, frames are dispatched by lane (the sender
// picks the lane, e.g. a hash of a room id) to a fixed set of workers, so
// one lane's frames are handled in order while different lanes proceed in
// parallel.
package peer

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"time"
)

// Errors returned by Request and Send.
var (
	// ErrUnavailable means there is no working link to the peer: it is not
	// known, or its link is down and reconnecting.
	ErrUnavailable = errors.New("peer unavailable")
	// ErrQueueFull means the link's send queue is full: the peer (or the
	// network to it) is slower than the traffic for it.
	ErrQueueFull = errors.New("peer send queue full")
	// ErrOverloaded means the peer received the request but its worker
	// queue was full, so it did not execute it.
	ErrOverloaded = errors.New("peer overloaded")
	// ErrClosed means the Mesh is closed.
	ErrClosed = errors.New("peer mesh closed")
)

// Config tunes peer links. Every limit is per link.
type Config struct {
	// ListenAddr is the peer listener, HOST:PORT; port 0 picks a free port.
	ListenAddr string
	// AdvertiseAddr is the address other nodes dial, HOST:PORT; empty means
	// ListenAddr (which then must name a host, not 0.0.0.0).
	AdvertiseAddr string
	// QueueLen is the number of frames that may wait for a link's writer.
	QueueLen int
	// BatchBytes is the size a writer aims for when it batches queued frames
	// into one write (a single larger frame is written alone).
	BatchBytes int
	// MaxFrameBytes is the largest frame accepted; a peer that sends a
	// bigger one is disconnected.
	MaxFrameBytes int
	// Lanes is the number of workers per inbound connection; frames of one
	// lane are handled in order by one worker.
	Lanes int
	// LaneQueueLen is the number of frames that may wait for a worker.
	// Beyond it, requests are answered ErrOverloaded and messages dropped.
	LaneQueueLen int
	// MaxHandshakes bounds the inbound connections not yet authenticated
	// (anyone who reaches the port can open them); beyond it new ones are
	// closed at once.
	MaxHandshakes int
	// DialTimeout bounds a connection attempt, HandshakeTimeout the
	// authentication that follows.
	DialTimeout      time.Duration
	HandshakeTimeout time.Duration
	// WriteTimeout bounds one batched write: a peer that does not read for
	// that long is disconnected.
	WriteTimeout time.Duration
	// ReconnectMin and ReconnectMax bound the backoff between connection
	// attempts; it doubles from the minimum after each failure.
	ReconnectMin time.Duration
	ReconnectMax time.Duration
}

// DefaultConfig returns the default limits.
func DefaultConfig() Config {
	return Config{
		QueueLen:         4096,
		BatchBytes:       64 << 10,
		MaxFrameBytes:    16 << 20,
		Lanes:            8,
		LaneQueueLen:     1024,
		MaxHandshakes:    16,
		DialTimeout:      time.Second,
		HandshakeTimeout: 2 * time.Second,
		WriteTimeout:     5 * time.Second,
		ReconnectMin:     50 * time.Millisecond,
		ReconnectMax:     2 * time.Second,
	}
}

// RegisterFlags registers the peer-link settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.StringVar(&c.ListenAddr, "peer-addr", "", "peer-link listener HOST:PORT (default: the gossip host, gossip port + 1)")
	fs.StringVar(&c.AdvertiseAddr, "peer-advertise-addr", "", "peer-link address other nodes dial, HOST:PORT (default: --peer-addr)")
	fs.IntVar(&c.QueueLen, "peer-queue", d.QueueLen, "frames queued per peer link; beyond it frames for that peer are refused")
	fs.IntVar(&c.BatchBytes, "peer-batch-bytes", d.BatchBytes, "bytes a peer link's writer batches into one write")
	fs.IntVar(&c.MaxFrameBytes, "peer-max-frame-bytes", d.MaxFrameBytes, "largest frame accepted from a peer")
	fs.IntVar(&c.Lanes, "peer-lanes", d.Lanes, "workers per inbound peer connection (frames of one room are handled in order)")
	fs.IntVar(&c.LaneQueueLen, "peer-lane-queue", d.LaneQueueLen, "frames waiting per worker; beyond it requests are refused as overloaded")
	fs.IntVar(&c.MaxHandshakes, "peer-max-handshakes", d.MaxHandshakes, "inbound peer connections not yet authenticated; beyond it new ones are closed at once")
	fs.DurationVar(&c.DialTimeout, "peer-dial-timeout", d.DialTimeout, "peer connection attempt timeout")
	fs.DurationVar(&c.HandshakeTimeout, "peer-handshake-timeout", d.HandshakeTimeout, "peer authentication timeout")
	fs.DurationVar(&c.WriteTimeout, "peer-write-timeout", d.WriteTimeout, "a peer that does not read for this long is disconnected")
	fs.DurationVar(&c.ReconnectMin, "peer-reconnect-min", d.ReconnectMin, "first pause before reconnecting a peer link")
	fs.DurationVar(&c.ReconnectMax, "peer-reconnect-max", d.ReconnectMax, "longest pause between peer reconnection attempts")
}

// Validate reports settings the links cannot work with.
func (c *Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		errs = append(errs, fmt.Errorf("peer-addr: %w", err))
	}
	if c.AdvertiseAddr != "" {
		if host, _, err := net.SplitHostPort(c.AdvertiseAddr); err != nil || unspecified(host) {
			errs = append(errs, fmt.Errorf("peer-advertise-addr %q must be a reachable HOST:PORT", c.AdvertiseAddr))
		}
	} else if host, _, err := net.SplitHostPort(c.ListenAddr); err == nil && unspecified(host) {
		errs = append(errs, errors.New("peer-addr binds every interface: set --peer-advertise-addr"))
	}
	if c.QueueLen < 1 || c.Lanes < 1 || c.LaneQueueLen < 1 || c.MaxHandshakes < 1 {
		errs = append(errs, errors.New("peer-queue, peer-lanes, peer-lane-queue and peer-max-handshakes must be at least 1"))
	}
	if c.BatchBytes < 1024 || c.MaxFrameBytes < 64<<10 {
		errs = append(errs, errors.New("peer-batch-bytes must be at least 1024 and peer-max-frame-bytes at least 64 KiB"))
	}
	if c.DialTimeout <= 0 || c.HandshakeTimeout <= 0 || c.WriteTimeout <= 0 || c.ReconnectMin <= 0 || c.ReconnectMax < c.ReconnectMin {
		errs = append(errs, errors.New("peer timeouts must be positive and peer-reconnect-max >= peer-reconnect-min"))
	}
	return errors.Join(errs...)
}

func unspecified(host string) bool {
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// Handler serves what peers send.
//
// The Mesh calls it from the workers of the receiving connection: calls for
// frames of one lane from one peer are sequential and in the order sent;
// other lanes and other peers are served concurrently. A call that blocks
// holds up its lane, whose queue then fills and refuses further frames, so
// handlers should return promptly. Payloads are the handler's to keep.
type Handler interface {
	// HandleRequest serves a request and returns the reply payload.
	HandleRequest(from string, payload []byte) []byte
	// HandleMessage serves a one-way message.
	HandleMessage(from string, payload []byte)
	// LinkUp is called when this node's link to peer has (re)connected and
	// authenticated. Frames sent to the peer before may have been lost.
	// It is called from the link's goroutine and must not block.
	LinkUp(peer string)
	// LinkRefused is called when a connection attempt to peer was refused:
	// its host answered, but nothing listens at its peer address — after a
	// crash, the process is gone (a cut network or a stopped process does
	// not refuse, it stays silent). It is called from the link's goroutine,
	// once per refused attempt, and must not block.
	LinkRefused(peer string)
}
