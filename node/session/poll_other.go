//go:build !linux

package session

import "errors"

// Poller is Linux only; elsewhere every connection has a reading goroutine.
type Poller struct{}

type pollLoop struct{}

// NewPoller fails: there is no epoll here.
func NewPoller(int) (*Poller, error) { return nil, errors.New("epoll is Linux only") }

// Close does nothing.
func (*Poller) Close() {}

// Start serves the connection like Serve but returns at once; done is
// called after h.Closed.
func (c *Conn) Start(h Handler, _ *Poller, done func()) {
	go func() {
		c.r.serve(h)
		done()
	}()
}

// closed is called once by the lifecycle's close.
func (r *reader) closed() {}
