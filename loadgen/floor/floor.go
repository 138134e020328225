// Package floor is the fan-out floor: a fixture that holds the same
// websockets a node does and, per broadcast, writes one pre-encoded frame
// to each member of the room with one plain write system call per socket —
// the cost of a delivery with no server logic at all, the figure the node's
// fan-out is compared with (docs/benchmarks.md, "The floor").
//
// It speaks just enough of venueless' Rooms API for the load generator's
// rooms workload: authenticate (always accepted), room.enter, room.leave,
// room.react (answered, not aggregated) and room.schedule, whose request,
// without its id, is the push every member of the room receives — the same
// bytes a node sends. No tokens are checked, nothing is stored.
//
// After the websocket handshake a connection leaves Go's runtime: the
// fixture keeps a duplicate of its descriptor, reads every connection from
// one epoll loop and writes from the fan-out goroutines with raw system
// calls. Broadcasts queued while a fan-out writes are sent together by the
// next, concatenated, still one write per socket.
package floor

import (
	"errors"
	"flag"
	"fmt"
	"runtime"
)

// Config is the floor fixture's configuration.
type Config struct {
	Listen string
	// MaxConns bounds the websockets held (a process may open 20,000
	// files here; each connection is one). Upgrades racing each other may
	// pass it by a few.
	MaxConns int
	// Writers is the number of goroutines a fan-out is split among (0:
	// GOMAXPROCS), as the node splits a large room's.
	Writers int
	// MaxBacklog bounds the bytes a connection may owe (what its socket
	// did not take); beyond it the connection is closed.
	MaxBacklog int
	// MaxFrame bounds an inbound frame's payload.
	MaxFrame int
	// MaxQueued bounds the broadcasts waiting for a fan-out; beyond it a
	// broadcast is refused with an error reply.
	MaxQueued int
}

// RegisterFlags registers the flags of `roomring loadgen floor-server`.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8091", "listen address (loopback)")
	fs.IntVar(&c.MaxConns, "max-conns", 19_000, "websockets held at most (each is an open file)")
	fs.IntVar(&c.Writers, "writers", 0, "goroutines a fan-out is split among (0: GOMAXPROCS)")
	fs.IntVar(&c.MaxBacklog, "max-backlog", 1<<20, "bytes a connection may owe before it is closed")
	fs.IntVar(&c.MaxFrame, "max-frame", 64<<10, "largest inbound frame payload")
	fs.IntVar(&c.MaxQueued, "max-queued", 4096, "broadcasts waiting for a fan-out at most")
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	var errs []error
	if c.Listen == "" {
		errs = append(errs, errors.New("--listen is required"))
	}
	if c.MaxConns < 1 {
		errs = append(errs, errors.New("--max-conns must be at least 1"))
	}
	if c.Writers < 0 {
		errs = append(errs, errors.New("--writers must not be negative"))
	}
	if c.MaxBacklog < 1024 || c.MaxFrame < 1024 {
		errs = append(errs, errors.New("--max-backlog and --max-frame must be at least 1024"))
	}
	if c.MaxQueued < 1 {
		errs = append(errs, errors.New("--max-queued must be at least 1"))
	}
	return errors.Join(errs...)
}

func (c *Config) writers() int {
	if c.Writers > 0 {
		return c.Writers
	}
	return runtime.GOMAXPROCS(0)
}

// Stats are the fixture's counters since it started.
type Stats struct {
	Conns      int64 // connections held now
	Broadcasts int64 // broadcasts accepted
	FanOuts    int64 // fan-outs (each sends the broadcasts queued since the last)
	Deliveries int64 // broadcast frames handed to sockets (or to a backlog a socket owes)
	Writes     int64 // fan-out sends to a member: one write system call, or an append to its backlog
	Backlogged int64 // of those, the ones the socket did not take whole
	Dropped    int64 // connections closed for their backlog
}

func (s Stats) String() string {
	per := 0.0
	if s.Writes > 0 {
		per = float64(s.Deliveries) / float64(s.Writes)
	}
	return fmt.Sprintf("floor: %d connections, %d broadcasts in %d fan-outs, %d deliveries in %d writes (%.2f a write), %d short writes, %d dropped",
		s.Conns, s.Broadcasts, s.FanOuts, s.Deliveries, s.Writes, per, s.Backlogged, s.Dropped)
}
