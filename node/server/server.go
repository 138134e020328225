// Package server is a node's HTTP listener: the venueless websocket
// endpoint, health and readiness probes, Prometheus metrics, invite links
// and the embedded demo page. It owns the set of open client connections
// and closes them on shutdown.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"mime"
	"net"
	"net/netip"
	"path"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/fasthttp/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/roomring/roomring/node/demo"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/metrics"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/socketio"
	"github.com/roomring/roomring/node/protocol/venueless"
	"github.com/roomring/roomring/node/session"
)

// Config is the listener's configuration.
type Config struct {
	// HTTP bounds both listeners' HTTP connections (not websockets).
	HTTP HTTPConfig
	// Conns caps the client websockets, node-wide and per address.
	Conns ConnLimits
	// Surface chooses where /metrics and the demo page are served.
	Surface Surface
	Session session.Config
	// SocketIO configures the Socket.IO endpoint at /socket/.
	SocketIO socketio.Config
	// Internal serves /internal/ (the admin API of node/admin) when set:
	// on the client listener, or only on the admin listener (ServeAdmin)
	// when SeparateAdmin is set.
	Internal fasthttp.RequestHandler
	// SeparateAdmin keeps /internal/ off the client listener (404 there).
	SeparateAdmin bool
	// Ready, when set, must also hold for /readyz to report ready (a
	// cluster node: it has joined the cluster).
	Ready func() bool
	// BeforeFrame, when set, is called with each client frame before its
	// handler, under the same panic recovery: a test hook (nil in
	// production).
	BeforeFrame func(frame []byte)
}

// readBufferSize is a websocket connection's read buffer when a goroutine
// reads it; polledReadBufferSize when the session's poller does (the
// websocket library's minimum, the largest control frame).
const (
	readBufferSize       = 1024
	polledReadBufferSize = 128
)

// Worlds finds the engine of a world: Engine returns nil for a world the
// node does not serve; Builtin is the node's built-in world's.
type Worlds interface {
	Engine(id string) *engine.Engine
	Builtin() *engine.Engine
	// InviteRedirect is where the invite link of code sends a browser
	// from source (the route of the code's world); auth.denied for a code
	// that is unknown or expired.
	InviteRedirect(ctx context.Context, source netip.Addr, code string) (string, *op.Error)
}

// Server serves one node's HTTP and websocket traffic.
type Server struct {
	cfg     Config
	worlds  Worlds
	metrics *metrics.Metrics
	log     *slog.Logger
	hooks   session.Hooks

	http     *fasthttp.Server
	admin    *fasthttp.Server // serves /internal/ only; nil without SeparateAdmin
	upgrader websocket.FastHTTPUpgrader
	promh    fasthttp.RequestHandler
	static   fs.FS

	ready atomic.Bool

	mu       sync.Mutex
	conns    map[*session.Conn]struct{}
	draining bool
	wg       sync.WaitGroup

	shutdownOnce sync.Once
	shutdownErr  error

	// replays answers repeated Socket.IO event ids across the node's connections.
	replays *socketio.Replays

	// caps counts client websockets against cfg.Conns.
	caps *connCounter

	// poller reads the client connections (nil: a goroutine reads each).
	poller *session.Poller
}

// New returns a Server. gatherer serves /metrics.
func New(cfg Config, worlds Worlds, m *metrics.Metrics, gatherer prometheus.Gatherer, log *slog.Logger) *Server {
	static, err := fs.Sub(demo.Files, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	s := &Server{cfg: cfg, worlds: worlds, metrics: m, log: log, conns: map[*session.Conn]struct{}{}, static: static}
	s.replays = socketio.NewReplays(cfg.SocketIO)
	s.caps = newConnCounter(cfg.Conns)
	s.hooks = session.Hooks{SlowConsumer: m.SlowConsumers.Inc, FrameOut: m.FramesOut.Inc}
	// Per-connection memory is what limits a node (docs/benchmarks.md):
	// a small read buffer (client frames are small; larger ones are read
	// in several steps), write buffers taken from a pool only while a
	// frame is written, and fasthttp's request read buffer given back
	// before the connection is hijacked (ReduceMemoryUsage) instead of
	// staying under the websocket for its whole life; the request's
	// context goes back too (KeepHijackedConns, see serve).
	rbs := readBufferSize
	if cfg.Session.Epoll {
		p, err := session.NewPoller(runtime.GOMAXPROCS(0))
		if err != nil {
			log.Warn("connections are read by a goroutine each", "err", err)
		} else {
			// The session reads polled connections itself: the websocket
			// library's read buffer is never used, so keep it at its minimum.
			s.poller, rbs = p, polledReadBufferSize
		}
	}
	s.upgrader = websocket.FastHTTPUpgrader{
		ReadBufferSize:  rbs,
		WriteBufferSize: 4096,
		WriteBufferPool: &sync.Pool{},
		CheckOrigin:     func(*fasthttp.RequestCtx) bool { return true },
	}
	s.promh = fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(gatherer, promhttp.HandlerOpts{}))
	s.http = &fasthttp.Server{
		Handler:            s.route,
		Name:               "roomring",
		MaxRequestBodySize: maxBodySize,
		ReadBufferSize:     8192,
		ReduceMemoryUsage:  true,
		KeepHijackedConns:  true,
		// fasthttp clears the read and write deadlines when a websocket
		// hijacks the connection.
		ReadTimeout:  cfg.HTTP.ReadTimeout,
		WriteTimeout: cfg.HTTP.WriteTimeout,
		IdleTimeout:  cfg.HTTP.IdleTimeout,
		Logger:       slogAdapter{log},
		ErrorHandler: s.requestError,
	}
	if cfg.SeparateAdmin {
		s.admin = &fasthttp.Server{
			Handler:            s.routeAdmin,
			Name:               "roomring-admin",
			MaxRequestBodySize: maxBodySize,
			ReduceMemoryUsage:  true,
			ReadTimeout:        cfg.HTTP.ReadTimeout,
			WriteTimeout:       cfg.HTTP.WriteTimeout,
			IdleTimeout:        cfg.HTTP.IdleTimeout,
			Logger:             slogAdapter{log},
			ErrorHandler:       s.requestError,
		}
	}
	return s
}

// ServeAdmin serves the admin API on ln until Shutdown; it needs
// SeparateAdmin.
func (s *Server) ServeAdmin(ln net.Listener) error {
	if s.admin == nil {
		return errors.New("serve admin: the admin API is served on the client listener (no SeparateAdmin)")
	}
	if err := s.admin.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve admin: %w", err)
	}
	return nil
}

// Serve accepts connections on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	s.ready.Store(true)
	if err := s.http.Serve(ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("serve http: %w", err)
	}
	return nil
}

// Shutdown stops accepting, closes every client connection with code (1001
// going away for a node stopping, 1012 for one leaving a cluster) and waits
// for the connections to finish, or for ctx. It is idempotent.
func (s *Server) Shutdown(ctx context.Context, code int) error {
	s.shutdownOnce.Do(func() {
		s.ready.Store(false)
		s.mu.Lock()
		s.draining = true
		for c := range s.conns {
			c.Close(code, "server shutting down")
		}
		s.mu.Unlock()
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
			if s.poller != nil {
				s.poller.Close()
			}
		case <-ctx.Done():
			s.shutdownErr = fmt.Errorf("connections still open: %w", ctx.Err())
		}
		if err := s.http.ShutdownWithContext(ctx); err != nil && s.shutdownErr == nil {
			s.shutdownErr = fmt.Errorf("shutdown http: %w", err)
		}
		if s.admin != nil {
			if err := s.admin.ShutdownWithContext(ctx); err != nil && s.shutdownErr == nil {
				s.shutdownErr = fmt.Errorf("shutdown admin: %w", err)
			}
		}
	})
	return s.shutdownErr
}

func (s *Server) route(ctx *fasthttp.RequestCtx) {
	p := string(ctx.Path())
	switch {
	case p == "/healthz":
		ctx.SetBodyString("ok")
	case p == "/readyz":
		if !s.ready.Load() || s.cfg.Ready != nil && !s.cfg.Ready() {
			ctx.Error("not ready", fasthttp.StatusServiceUnavailable)
			return
		}
		ctx.SetBodyString("ready")
	case p == "/metrics" && !s.cfg.Surface.MetricsOnAdmin:
		s.promh(ctx)
	case p == "/ws" || p == "/ws/" || strings.HasPrefix(p, "/ws/world/"):
		s.serveVenueless(ctx, p)
	case p == "/socket" || p == "/socket/":
		s.serveSocketIO(ctx)
	case strings.HasPrefix(p, "/internal/"):
		if s.cfg.Internal == nil || s.cfg.SeparateAdmin {
			ctx.Error("not found", fasthttp.StatusNotFound)
			return
		}
		s.cfg.Internal(ctx)
	case strings.HasPrefix(p, "/i/"):
		s.serveInvite(ctx, p)
	case !s.cfg.Surface.Demo:
		ctx.Error("not found", fasthttp.StatusNotFound)
	case strings.HasPrefix(p, "/standalone/"):
		// venueless' invite route (the default --invite-redirect): the
		// demo page redeems the invite in the fragment.
		s.serveStatic(ctx, "/")
	default:
		s.serveStatic(ctx, p)
	}
}

// routeAdmin serves the admin listener: /internal/, and /metrics with
// Surface.MetricsOnAdmin.
func (s *Server) routeAdmin(ctx *fasthttp.RequestCtx) {
	if s.cfg.Surface.MetricsOnAdmin && string(ctx.Path()) == "/metrics" {
		s.promh(ctx)
		return
	}
	if !strings.HasPrefix(string(ctx.Path()), "/internal/") || s.cfg.Internal == nil {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	s.cfg.Internal(ctx)
}

func (s *Server) serveVenueless(ctx *fasthttp.RequestCtx, p string) {
	eng := s.worlds.Builtin()
	if strings.HasPrefix(p, "/ws/world/") {
		world := strings.Trim(strings.TrimPrefix(p, "/ws/world/"), "/")
		if eng = s.worlds.Engine(world); eng == nil {
			ctx.Error(fmt.Sprintf("unknown world %q", world), fasthttp.StatusNotFound)
			return
		}
	}
	if !websocket.FastHTTPIsWebSocketUpgrade(ctx) {
		ctx.Error("this endpoint speaks websocket only", fasthttp.StatusBadRequest)
		return
	}
	addr, ok := s.admit(ctx)
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusTooManyRequests)
		ctx.SetBodyString("too many connections, try again later")
		return
	}
	err := s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		c := session.New(ws, &s.cfg.Session, &s.hooks)
		s.serve(c, "venueless", eng, venueless.NewHandler(eng, c, addr, s.metrics, s.log), addr)
	})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
	}
}

// serveSocketIO serves Valu's Socket.IO clients: websocket transport only,
// Engine.IO 3 and 4. Refused handshakes get a 400 with an Engine.IO style
// JSON body.
func (s *Server) serveSocketIO(ctx *fasthttp.RequestCtx) {
	args := ctx.QueryArgs()
	hs, herr := socketio.ParseHandshake(func(k string) string { return string(args.Peek(k)) },
		websocket.FastHTTPIsWebSocketUpgrade(ctx))
	if herr != nil {
		ctx.SetStatusCode(herr.HTTPStatus)
		ctx.SetContentType("application/json")
		ctx.SetBody(herr.Body())
		return
	}
	eng := s.worlds.Builtin()
	if w := args.Peek("world"); len(w) > 0 {
		if eng = s.worlds.Engine(string(w)); eng == nil {
			ctx.SetStatusCode(fasthttp.StatusNotFound)
			ctx.SetContentType("application/json")
			ctx.SetBody((&socketio.HandshakeError{Code: 3, Message: fmt.Sprintf("unknown world %q", w)}).Body())
			return
		}
	}
	addr, ok := s.admit(ctx)
	if !ok {
		ctx.SetStatusCode(fasthttp.StatusTooManyRequests)
		ctx.SetContentType("application/json")
		ctx.SetBody((&socketio.HandshakeError{Code: 3, Message: "too many connections, try again later"}).Body())
		return
	}
	err := s.upgrader.Upgrade(ctx, func(ws *websocket.Conn) {
		c := session.New(ws, &s.cfg.Session, &s.hooks)
		h := socketio.NewHandler(socketio.Deps{Engine: eng, Config: &s.cfg.SocketIO, Replays: s.replays,
			Observer: s.metrics, Logger: s.log, MaxPayload: s.cfg.Session.MaxFrameBytes}, c, hs)
		h.Open()
		s.serve(c, "socketio", eng, h, addr)
	})
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
	}
}

// serve starts a connection and returns at once: fasthttp
// (KeepHijackedConns) then releases the request's context and the
// upgrade's goroutine instead of keeping them for the connection's life;
// the connection is read by the poller, or by a goroutine of its own.
// The connection is counted against the caps here, where it is sure to be
// released: one that passed admit but finds a cap reached (connections
// admitted meanwhile) is closed with 1013 try again later.
func (s *Server) serve(c *session.Conn, dialect string, eng *engine.Engine, h session.Handler, addr netip.Addr) {
	if !s.track(c) {
		// Upgraded while the server shuts down: never started, so closed
		// here — by the session, which owns the socket.
		c.Abandon(session.CloseGoingAway, "server shutting down")
		return
	}
	counted, which := s.caps.acquire(addr)
	if !counted {
		s.metrics.ConnsRefused.WithLabelValues(which).Inc()
		c.Close(closeTryAgainLater, "too many connections, try again later")
	}
	admitted := counted && eng.Admit()
	if counted && !admitted {
		s.metrics.ConnsRefused.WithLabelValues("world").Inc()
		c.Close(closeTryAgainLater, "this world has too many connections, try again later")
	}
	g := s.metrics.Connections.WithLabelValues(dialect, eng.WorldID())
	g.Inc()
	h = &guard{h: h, before: s.cfg.BeforeFrame, panics: s.metrics.Panics, log: s.log}
	c.Start(h, s.poller, func() {
		g.Dec()
		if counted {
			s.caps.release(addr)
		}
		if admitted {
			eng.Release()
		}
		s.untrack(c)
	})
}

// track registers a connection; false means the server is draining, and
// the connection is not registered: Shutdown may be waiting for the
// registered ones already (a WaitGroup must not grow from zero then) or
// have closed the poller.
func (s *Server) track(c *session.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.draining {
		return false
	}
	s.wg.Add(1)
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) untrack(c *session.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) serveStatic(ctx *fasthttp.RequestCtx, p string) {
	name := strings.TrimPrefix(path.Clean(p), "/")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(s.static, name)
	if err != nil {
		ctx.Error("not found", fasthttp.StatusNotFound)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		ctx.SetContentType(ct)
	}
	ctx.Response.Header.Set("Cache-Control", "no-cache")
	ctx.SetBody(b)
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Printf(format string, args ...any) { a.l.Debug(fmt.Sprintf(format, args...)) }
