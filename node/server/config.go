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
