// Package echo is a bare fasthttp/websocket echo server: the benchmark
// fixture that room.react ingest is compared with. It upgrades like a node
// (same library, same buffer sizes) and writes every message back at once
// from the connection's goroutine — no authentication, no parsing, no write
// queue — so its frames/s is the ceiling of the websocket stack on this
// machine with the same client.
package echo

import (
	"errors"
	"flag"
	"fmt"
	"net"

	"github.com/fasthttp/websocket"
	"github.com/valyala/fasthttp"
)

// Config is the echo server's configuration.
type Config struct {
	Listen string
	// BufferSize is the upgrader's read and write buffer size (the node's is 4096).
	BufferSize int
}

// RegisterFlags registers the flags of `roomring loadgen echo-server`.
func (c *Config) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Listen, "listen", "127.0.0.1:8090", "listen address (loopback)")
	fs.IntVar(&c.BufferSize, "buffer-size", 4096, "websocket read and write buffer size, as the node's")
}

// Validate reports a configuration that cannot work.
func (c *Config) Validate() error {
	if c.Listen == "" {
		return errors.New("--listen is required")
	}
	if c.BufferSize < 128 {
		return errors.New("--buffer-size must be at least 128")
	}
	return nil
}

// Server is a running echo server.
type Server struct {
	ln  net.Listener
	srv *fasthttp.Server
}

// New binds the listener.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("echo: listen: %w", err)
	}
	up := websocket.FastHTTPUpgrader{ReadBufferSize: cfg.BufferSize, WriteBufferSize: cfg.BufferSize,
		CheckOrigin: func(*fasthttp.RequestCtx) bool { return true }}
	s := &Server{ln: ln}
	s.srv = &fasthttp.Server{Name: "roomring-echo", Handler: func(ctx *fasthttp.RequestCtx) {
		err := up.Upgrade(ctx, func(ws *websocket.Conn) {
			for {
				mt, msg, err := ws.ReadMessage()
				if err != nil {
					return
				}
				if err := ws.WriteMessage(mt, msg); err != nil {
					return
				}
			}
		})
		if err != nil {
			ctx.Error("websocket only", fasthttp.StatusBadRequest)
		}
	}}
	return s, nil
}

// Addr is the bound address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Close.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("echo: serve: %w", err)
	}
	return nil
}

// Close stops accepting and closes the open connections.
func (s *Server) Close() error {
	return s.srv.Shutdown()
}
