//go:build !linux

package floor

import "errors"

// Server is the floor fixture; it needs Linux (epoll, raw descriptors).
type Server struct{}

// New reports that the fixture needs Linux.
func New(Config) (*Server, error) { return nil, errors.New("floor: needs Linux") }

// Addr is the bound address.
func (*Server) Addr() string { return "" }

// Serve serves until Close.
func (*Server) Serve() error { return nil }

// Close stops the server.
func (*Server) Close() error { return nil }

// Stats returns the counters.
func (*Server) Stats() Stats { return Stats{} }
