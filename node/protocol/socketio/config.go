package socketio

import (
	"errors"
	"flag"
	"time"
)

// Config holds the Socket.IO dialect's settings. Every field is a node flag
// (docs/socketio.md); the connection limits of session.Config apply too.
type Config struct {
	// PingInterval is the Engine.IO heartbeat period announced in the open
	// packet. EIO=4: the server pings this often. EIO=3: the client does.
	PingInterval time.Duration
	// PingTimeout is how long a pong may take (EIO=4: the server closes a
	// connection whose pong is late; EIO=3: the server closes a connection
	// that sent no ping for PingInterval+PingTimeout).
	PingTimeout time.Duration
	// IdempotencyEntries bounds the node's cache of answered event ids in
	// entries, IdempotencyBytes in bytes (keys and acks), and
	// IdempotencyUserBytes one user's share of it (all devices together).
	// A user's new entry evicts that user's least recently used ones, never
	// another user's (see Replays).
	IdempotencyEntries   int
	IdempotencyBytes     int
	IdempotencyUserBytes int
	// IdempotencyTTL is how long an answered event id is remembered.
	IdempotencyTTL time.Duration
}

// DefaultConfig returns the defaults: Socket.IO's 25 s ping interval and
// 20 s ping timeout, 10000 remembered event ids (64 MiB, 1 MiB per user)
// for 10 minutes.
func DefaultConfig() Config {
	return Config{
		PingInterval:         25 * time.Second,
		PingTimeout:          20 * time.Second,
		IdempotencyEntries:   10000,
		IdempotencyBytes:     64 << 20,
		IdempotencyUserBytes: 1 << 20,
		IdempotencyTTL:       10 * time.Minute,
	}
}

// RegisterFlags registers the settings on fs with their defaults.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultConfig()
	fs.DurationVar(&c.PingInterval, "sio-ping-interval", d.PingInterval, "Engine.IO heartbeat period (EIO=4: server pings; EIO=3: client pings)")
	fs.DurationVar(&c.PingTimeout, "sio-ping-timeout", d.PingTimeout, "time an Engine.IO pong may take before the connection is closed")
	fs.IntVar(&c.IdempotencyEntries, "sio-idempotency-entries", d.IdempotencyEntries, "answered Socket.IO event ids remembered per node for idempotent replay (LRU)")
	fs.IntVar(&c.IdempotencyBytes, "sio-idempotency-bytes", d.IdempotencyBytes, "bytes of answered Socket.IO event ids (keys and acks) remembered per node")
	fs.IntVar(&c.IdempotencyUserBytes, "sio-idempotency-user-bytes", d.IdempotencyUserBytes, "bytes of answered Socket.IO event ids remembered per user; a user's new entry evicts only that user's older ones")
	fs.DurationVar(&c.IdempotencyTTL, "sio-idempotency-ttl", d.IdempotencyTTL, "how long an answered Socket.IO event id is remembered")
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.PingInterval < 10*time.Millisecond || c.PingTimeout < 10*time.Millisecond {
		errs = append(errs, errors.New("sio-ping-interval and sio-ping-timeout must be at least 10ms"))
	}
	if c.IdempotencyEntries < 1 {
		errs = append(errs, errors.New("sio-idempotency-entries must be at least 1"))
	}
	if c.IdempotencyUserBytes < 4096 || c.IdempotencyBytes < c.IdempotencyUserBytes {
		errs = append(errs, errors.New("sio-idempotency-user-bytes must be at least 4096 and at most sio-idempotency-bytes"))
	}
	if c.IdempotencyTTL <= 0 {
		errs = append(errs, errors.New("sio-idempotency-ttl must be positive"))
	}
	return errors.Join(errs...)
}
