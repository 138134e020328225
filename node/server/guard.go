package server

import (
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/roomring/roomring/node/session"
)

// guard keeps a panic in one connection's handling to that connection: it
// wraps the connection's Handler (the frame handler and the engine
// operations it calls, the rate-limited answer, and Closed), and a recovered panic is logged with
// its stack, counted in roomring_panics_total{where} and closes the
// connection with 1011; the node and its other connections carry on. It
// is called from the connection's reader, like the Handler it wraps.
type guard struct {
	h      session.Handler
	before func(frame []byte) // Config.BeforeFrame: a test hook, nil in production
	panics *prometheus.CounterVec
	log    *slog.Logger
}

func (g *guard) HandleFrame(t session.Transport, frame []byte) {
	defer g.recover(t, "frame")
	if g.before != nil {
		g.before(frame)
	}
	g.h.HandleFrame(t, frame)
}

func (g *guard) RateLimited(t session.Transport, frame []byte) {
	defer g.recover(t, "rate_limited")
	g.h.RateLimited(t, frame)
}

func (g *guard) Closed(t session.Transport) {
	defer g.recover(t, "closed")
	g.h.Closed(t)
}

// recover must be deferred directly.
func (g *guard) recover(t session.Transport, where string) {
	r := recover()
	if r == nil {
		return
	}
	g.panics.WithLabelValues(where).Inc()
	g.log.Error("panic in a connection's handling; closing it", "where", where,
		"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
	t.Close(session.CloseInternalError, "internal error")
}
