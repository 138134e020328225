package venueless

import (
	"log/slog"
	"net/netip"
	"sync"
	"testing"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/session"
)

// closer is a session.Transport that records its close.
type closer struct {
	mu     sync.Mutex
	code   int
	frames int
}

func (c *closer) Send([]byte)              { c.count(1) }
func (c *closer) SendFrames(f [][]byte)    { c.count(len(f)) }
func (c *closer) Push([]byte)              { c.count(1) }
func (c *closer) PushFrames(f [][]byte)    { c.count(len(f)) }
func (c *closer) Closing() <-chan struct{} { return nil }
func (c *closer) MarkAuthenticated()       {}
func (c *closer) Close(code int, _ string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.code == 0 {
		c.code = code
	}
}
func (c *closer) count(n int) { c.mu.Lock(); c.frames += n; c.mu.Unlock() }

type panicObserver struct{ panics []string }

func (o *panicObserver) FrameIn(string)        {}
func (o *panicObserver) Error(op.Code)         {}
func (o *panicObserver) Panicked(where string) { o.panics = append(o.panics, where) }

var _ session.Transport = (*closer)(nil)

// TestPanicInPersonalEventClosesTheConnection: a panic while a fan-out
// builds one session's personal event (here: a handler whose client is
// not there) closes that connection with 1011 and is counted; it does
// not reach the fan-out goroutine.
func TestPanicInPersonalEventClosesTheConnection(t *testing.T) {
	tr, obs := &closer{}, &panicObserver{}
	h := NewHandler(nil, tr, netip.Addr{}, obs, slog.New(testkit.Logger(t).Handler()))
	h.SendPersonal(op.NewWorldUpdated(""))
	if tr.code != session.CloseInternalError || len(obs.panics) != 1 || obs.panics[0] != "fanout" {
		t.Fatalf("close code %d, panics %v; want 1011 and one fanout panic", tr.code, obs.panics)
	}
}
