package server

import (
	"errors"
	"flag"
	"time"
)

// HTTPConfig bounds a listener's HTTP connections while they speak HTTP:
// requests, probes, scrapes, admin calls and websocket upgrades. A
// connection upgraded to a websocket leaves them behind (fasthttp clears its
// deadlines when it is hijacked); its limits are session.Config's. Every
// field is a documented node flag (docs/limits.md).
type HTTPConfig struct {
	// ReadTimeout bounds reading one request, headers and body: a
	// connection that opens and sends nothing, or sends a request too
	// slowly, is closed after it. (fasthttp arms it when the connection
	// opens and again when a request's first byte arrives.)
	ReadTimeout time.Duration
	// WriteTimeout bounds writing one response: a client that stops
	// reading (a slow reader holding a large reply, or one that pipelines
	// requests and reads nothing) is closed after it instead of holding the
	// connection, its buffers and a graceful shutdown. fasthttp
	// arms it after the handler returns, before the response is written,
	// and clears it (like ReadTimeout) before a websocket hijacks the
	// connection; websocket writes have session.Config.WriteTimeout.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends no next request
	// within it.
	IdleTimeout time.Duration
}

// DefaultHTTPConfig returns the default HTTP limits.
func DefaultHTTPConfig() HTTPConfig {
	return HTTPConfig{ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
}

// RegisterFlags registers the limits on fs with their defaults.
func (c *HTTPConfig) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultHTTPConfig()
	fs.DurationVar(&c.ReadTimeout, "http-read-timeout", d.ReadTimeout, "time to read one HTTP request (headers and body, the websocket upgrade included); a connection that sends nothing is closed after it")
	fs.DurationVar(&c.WriteTimeout, "http-write-timeout", d.WriteTimeout, "time to write one HTTP response (the websocket upgrade's included); a client that stops reading is closed after it (websockets have --write-timeout instead)")
	fs.DurationVar(&c.IdleTimeout, "http-idle-timeout", d.IdleTimeout, "how long a keep-alive HTTP connection may wait for its next request (websockets have --ping-interval instead)")
}

// Validate reports a configuration that cannot work.
func (c *HTTPConfig) Validate() error {
	if c.ReadTimeout <= 0 || c.WriteTimeout <= 0 || c.IdleTimeout <= 0 {
		return errors.New("--http-read-timeout, --http-write-timeout and --http-idle-timeout must be positive")
	}
	return nil
}

// Surface chooses which listener serves the node's non-client pages.
type Surface struct {
	// MetricsOnAdmin serves /metrics on the admin listener only (404 on
	// the client listener, which a LoadBalancer makes public). It needs an
	// admin listener (--admin-listen).
	MetricsOnAdmin bool
	// Demo serves the embedded demo page on the client listener, at / and
	// at venueless' invite route /standalone/... (the /i/ invite links are
	// served either way: they lead to the world's invite redirect).
	Demo bool
}

// DefaultSurface returns the defaults: everything on the client listener,
// as before these flags.
func DefaultSurface() Surface { return Surface{Demo: true} }

// RegisterFlags registers the choices on fs with their defaults.
func (c *Surface) RegisterFlags(fs *flag.FlagSet) {
	d := DefaultSurface()
	fs.BoolVar(&c.MetricsOnAdmin, "metrics-on-admin", d.MetricsOnAdmin, "serve /metrics on the admin listener (--admin-listen) instead of the client listener")
	fs.BoolVar(&c.Demo, "demo", d.Demo, "serve the demo page on the client listener (at / and at venueless' invite route /standalone/...; /i/ invite links are served either way)")
}

// Validate reports a configuration that cannot work; separateAdmin is
// whether the node has an admin listener.
func (c *Surface) Validate(separateAdmin bool) error {
	if c.MetricsOnAdmin && !separateAdmin {
		return errors.New("--metrics-on-admin needs an admin listener (--admin-listen)")
	}
	return nil
}
