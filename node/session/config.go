// Package session is one client websocket connection with every limit a
// connection needs: a maximum frame size, a per-connection rate limit, an
// authentication deadline, keep-alive pings and a bounded write queue with a
// slow-consumer policy. It knows nothing of the frames' dialect: a Handler
// does.
package session

import (
	"errors"
	"flag"
	"time"
)

// Config holds the per-connection limits. Every field is a documented node
// flag (see docs/limits.md).
type Config struct {
	// MaxFrameBytes is the largest inbound frame; a bigger one closes the
	// connection with 1009 (message too big).
	MaxFrameBytes int
	// RateLimit is the sustained number of inbound frames per second a
	// connection may send — every frame: messages, malformed or not, and
	// pings and pongs; RateBurst frames may arrive at once. Frames over
	// the limit are not executed: the first RateAnswers of them (a count
	// that drains at RateLimit per second) are answered with the dialect's
	// rate-limited error, the rest dropped silently, so answering cannot
	// itself fill the write queue. A connection with more than RateFlood
	// frames over the limit (draining likewise) keeps flooding and is
	// closed with 1008 ("rate limit exceeded").
	RateLimit   float64
	RateBurst   int
	RateAnswers int
	RateFlood   int
	// WriteQueueLen is the number of outbound frames a connection may have
	// queued, WriteQueueBytes their bytes. A client that falls this far
	// behind is a slow consumer and is closed (a 1008 close frame is
	// attempted, then the TCP connection is dropped) so it cannot hold
	// memory or delay others.
	WriteQueueLen   int
	WriteQueueBytes int
	// WriteTimeout is the deadline for progress: a frame queued for a
	// connection must be written within it, however the socket takes it
	// (a trickle reader does not renew it), or the connection is closed
	// as a slow consumer (1008).
	WriteTimeout time.Duration
	// AuthTimeout closes connections that have not authenticated in time.
	AuthTimeout time.Duration
	// PingInterval is how often the server sends a websocket ping; a
	// connection that sends nothing (not even a pong) for 2×PingInterval is closed.
	PingInterval time.Duration
	// Epoll reads connections from epoll loops (Linux): an idle connection
	// has no goroutine and no read buffer. Off: a reading goroutine each.
	Epoll bool
}

// DefaultConfig returns the default limits.
func DefaultConfig() Config {
	return Config{
		MaxFrameBytes:   64 << 10,
		RateLimit:       20,
		RateBurst:       40,
		RateAnswers:     64,
		RateFlood:       1000,
		WriteQueueLen:   256,
		WriteQueueBytes: 1 << 20,
		WriteTimeout:    10 * time.Second,
		AuthTimeout:     30 * time.Second,
		PingInterval:    25 * time.Second,
		Epoll:           true,
	}
}

// RegisterFlags registers the limits on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.IntVar(&c.MaxFrameBytes, "max-frame-bytes", d.MaxFrameBytes, "largest inbound websocket frame; bigger frames close the connection with 1009")
	fs.Float64Var(&c.RateLimit, "rate-limit", d.RateLimit, "sustained inbound frames per second per connection")
	fs.IntVar(&c.RateBurst, "rate-burst", d.RateBurst, "inbound frames a connection may send in a burst")
	fs.IntVar(&c.RateAnswers, "rate-limited-answers", d.RateAnswers, "frames over the rate limit answered with a rate-limited error (draining at --rate-limit per second); the rest are dropped silently")
	fs.IntVar(&c.RateFlood, "rate-flood", d.RateFlood, "frames over the rate limit (draining at --rate-limit per second) after which the connection is closed with 1008")
	fs.IntVar(&c.WriteQueueLen, "write-queue", d.WriteQueueLen, "outbound frames queued per connection before it is closed as a slow consumer (1008)")
	fs.IntVar(&c.WriteQueueBytes, "write-queue-bytes", d.WriteQueueBytes, "outbound bytes queued per connection before it is closed as a slow consumer (1008)")
	fs.DurationVar(&c.WriteTimeout, "write-timeout", d.WriteTimeout, "time a queued outbound frame may wait to be written before the connection is closed as a slow consumer (1008); not renewed by partial progress")
	fs.DurationVar(&c.AuthTimeout, "auth-timeout", d.AuthTimeout, "time a connection has to authenticate")
	fs.DurationVar(&c.PingInterval, "ping-interval", d.PingInterval, "websocket ping period; silent connections are closed after twice this")
	fs.BoolVar(&c.Epoll, "epoll", d.Epoll, "read client connections from epoll loops (Linux): no goroutine or read buffer per idle connection; off: a reading goroutine each")
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.MaxFrameBytes < 512:
		return errors.New("max-frame-bytes must be at least 512")
	case c.RateLimit <= 0 || c.RateBurst < 1:
		return errors.New("rate-limit must be > 0 and rate-burst >= 1")
	case c.RateAnswers < 0 || c.RateFlood < c.RateAnswers:
		return errors.New("rate-limited-answers must be >= 0 and rate-flood >= rate-limited-answers")
	case c.WriteQueueLen < 1:
		return errors.New("write-queue must be at least 1")
	case c.WriteQueueBytes < c.MaxFrameBytes:
		return errors.New("write-queue-bytes must be at least max-frame-bytes")
	case c.WriteTimeout <= 0 || c.AuthTimeout <= 0 || c.PingInterval <= 0:
		return errors.New("write-timeout, auth-timeout and ping-interval must be positive")
	}
	return nil
}
