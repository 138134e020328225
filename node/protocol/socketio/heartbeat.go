package socketio

import (
	"time"

	"github.com/roomring/roomring/node/session"
)

// heartbeat enforces Engine.IO's liveness rules until the connection closes.
//
// EIO=4: the server sends ping "2" PingInterval after the previous pong and
// closes the connection when the pong "3" does not come within PingTimeout.
// The client, which expects a ping every PingInterval+PingTimeout, thus
// always gets one in time.
//
// EIO=3: the client pings every PingInterval and the server answers (in
// HandleFrame); a client silent for PingInterval+PingTimeout is gone and the
// connection is closed.
func (h *Handler) heartbeat() {
	interval, timeout := h.d.Config.PingInterval, h.d.Config.PingTimeout
	closing := h.conn.Closing()
	t := time.NewTimer(interval)
	defer t.Stop()
	if h.hs.EIO == 3 {
		for {
			t.Reset(interval + timeout)
			select {
			case <-closing:
				return
			case <-h.beats:
			case <-t.C:
				h.conn.Close(session.CloseNormal, "ping timeout")
				return
			}
		}
	}
	for {
		select {
		case <-closing:
			return
		case <-t.C:
		}
		select { // a stray pong must not answer the next ping
		case <-h.beats:
		default:
		}
		h.conn.Send([]byte{EIOPing})
		t.Reset(timeout)
		select {
		case <-closing:
			return
		case <-h.beats:
			t.Reset(interval)
		case <-t.C:
			h.conn.Close(session.CloseNormal, "pong timeout")
			return
		}
	}
}
