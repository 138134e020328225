package node

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// DebugConfig configures the profiling listener: net/http/pprof on a
// loopback address of its own, never on the client listener.
type DebugConfig struct {
	// Addr is host:port on a loopback address; empty: no profiling.
	Addr string
}

// RegisterFlags registers --debug-addr.
func (c *DebugConfig) RegisterFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "debug-addr", "", "serve Go profiles (net/http/pprof, /debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060 (empty: off)")
}

// Validate accepts an empty address or a loopback one.
func (c *DebugConfig) Validate() error {
	if c.Addr == "" {
		return nil
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("--debug-addr: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return errors.New("--debug-addr must be a loopback address (profiles expose the process)")
	}
	return nil
}

// debugServer serves the profiles.
type debugServer struct {
	ln  net.Listener
	srv *http.Server
}

// startDebug listens on cfg.Addr and serves the profiles until close.
func startDebug(cfg DebugConfig, log *slog.Logger) (*debugServer, error) {
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("debug listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	d := &debugServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}}
	go func() {
		if err := d.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("debug listener stopped", "err", err)
		}
	}()
	log.Info("profiles served", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return d, nil
}

func (d *debugServer) close() error {
	if d == nil {
		return nil
	}
	return d.srv.Close()
}

// DebugAddr is the profiling listener's address, "" when off.
func (n *Node) DebugAddr() string {
	if n.debug == nil {
		return ""
	}
	return n.debug.ln.Addr().String()
}
