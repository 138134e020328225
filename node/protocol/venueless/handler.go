package venueless

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime/debug"

	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/engine"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/session"
)

// Observer receives protocol-level events for metrics. Its methods must be
// safe for concurrent use and fast.
type Observer interface {
	FrameIn(action string)
	Error(code op.Code)
	// Panicked counts a panic recovered in one connection's handling.
	Panicked(where string)
}

// Handler serves one venueless connection. Create one per connection with
// NewHandler and pass it to session.Conn.Serve.
type Handler struct {
	eng    *engine.Engine
	obs    Observer
	log    *slog.Logger
	conn   session.Transport
	client *engine.Client // set once authenticated; read goroutine only
	uid    string
	src    netip.Addr // the client's address, for per-address limits
}

// NewHandler returns the handler of one connection from src (the zero
// Addr when unknown).
func NewHandler(eng *engine.Engine, conn session.Transport, src netip.Addr, obs Observer, log *slog.Logger) *Handler {
	return &Handler{eng: eng, obs: obs, log: log, conn: conn, src: src}
}

var _ engine.Sink = (*Handler)(nil)

// UserID implements edge.Subscriber.
func (h *Handler) UserID() string { return h.uid }

// Dialect implements edge.Subscriber.
func (h *Handler) Dialect() edge.Dialect { return edge.Venueless }

// Send implements edge.Subscriber.
func (h *Handler) Send(frame []byte) { h.conn.Push(frame) }

// SendFrames implements edge.Subscriber.
func (h *Handler) SendFrames(frames [][]byte) { h.conn.PushFrames(frames) }

// SendPersonal implements edge.Subscriber.
// It builds the session's own payload on a fan-out goroutine: a panic there
// closes this connection (1011) and leaves the fan-out and the node alone.
func (h *Handler) SendPersonal(ev *op.Event) {
	defer func() {
		if r := recover(); r != nil {
			h.obs.Panicked("fanout")
			h.log.Error("panic building a personal event; closing the connection", "event", ev.Kind,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			h.conn.Close(session.CloseInternalError, "internal error")
		}
	}()
	switch d := ev.Data.(type) {
	case op.WorldUpdated:
		h.conn.Push(h.client.EncodedWorld()) // shared bytes, as the edge's shared events
	case op.RoomCreated:
		if r, ok := h.client.Room(d.ID); ok {
			h.conn.Push(Push(string(ev.Kind), newRoomConfig(r)))
		}
	case op.UserCount:
		// Only for rooms the session may view, as venueless filters it.
		if h.client.CanView(d.Room) {
			h.conn.Push(Push(string(ev.Kind), userCount{Room: d.Room, Users: d.Users}))
		}
	default:
		if f, ok := EncodeEvent(ev); ok {
			h.conn.Push(f)
		}
	}
}

// Replaced implements engine.Sink: a newer connection of the same user took
// this one's place.
func (h *Handler) Replaced() {
	h.conn.Push(Error(nil, &op.Error{Code: op.CodeConnectionReplaced, Message: "Connection replaced"}))
	h.conn.Close(session.CloseNormal, "connection replaced")
}

// WorldClosed implements engine.Sink: the connection's world was deleted;
// an error frame (world.closed), then the socket closes.
func (h *Handler) WorldClosed() {
	h.conn.Push(Error(nil, &op.Error{Code: op.CodeWorldClosed, Message: "World closed"}))
	h.conn.Close(session.CloseNormal, "world closed")
}

func (h *Handler) fail(id json.RawMessage, e *op.Error) {
	h.obs.Error(e.Code)
	h.conn.Send(Error(id, e))
}

// HandleFrame implements session.Handler.
func (h *Handler) HandleFrame(c session.Transport, raw []byte) {
	f, err := Decode(raw)
	if err != nil {
		h.obs.FrameIn("invalid")
		h.fail(nil, &op.Error{Code: op.CodeBadRequest, Message: err.Error()})
		return
	}
	h.obs.FrameIn(metricAction(f.Action))
	if f.Action == actionPing {
		// venueless echoes the frame's second element: the payload of
		// ["ping", x], the id of a three-element ping.
		echo := f.Body
		if f.HasID() {
			echo = f.ID
		}
		h.conn.Send(Push("pong", echo))
		return
	}
	ctx := context.Background()
	if h.client == nil {
		if f.Action != actionAuthenticate {
			h.fail(f.ID, op.Errorf(op.CodeUnauthenticated, "authenticate first"))
			return
		}
		h.authenticate(ctx, f)
		return
	}
	if f.Op == nil {
		h.fail(f.ID, op.Errorf(op.CodeUnknownCommand, "unknown command %q", f.Action))
		return
	}
	res, oerr := h.client.Do(ctx, f.Op)
	if oerr != nil {
		h.fail(f.ID, oerr)
		return
	}
	h.conn.Send(Reply(f.ID, res))
}

// RateLimited implements session.Handler: a frame over the connection's
// rate limit is answered with protocol.rate_limited (with the frame's id
// when it has one) and not executed.
func (h *Handler) RateLimited(_ session.Transport, raw []byte) {
	f, err := Decode(raw)
	if err != nil {
		h.obs.FrameIn("invalid")
	} else {
		h.obs.FrameIn(metricAction(f.Action))
	}
	h.fail(f.ID, op.Errorf(op.CodeRateLimited, "too many frames; slow down"))
}

func (h *Handler) authenticate(ctx context.Context, f Frame) {
	if f.Credentials == nil {
		h.fail(f.ID, op.Errorf(op.CodeMissingToken, "authenticate needs an object with a token or a client_id"))
		return
	}
	cred := *f.Credentials
	cred.Source = h.src
	u, err := h.eng.Authenticate(ctx, cred)
	if err != nil {
		h.fail(f.ID, err)
		return
	}
	h.uid = u.ID
	client := h.eng.NewClient(u, h)
	h.conn.Send(welcome(u, client.EncodedWorld()))
	h.client = client
	h.conn.MarkAuthenticated()
	client.Start()
}

// Closed implements session.Handler: disconnecting leaves every room, like
// room.leave.
func (h *Handler) Closed(session.Transport) {
	if h.client != nil {
		h.client.Close(context.Background())
	}
}

// metricAction bounds the label values of the frames-in metric.
func metricAction(a string) string {
	if _, ok := actions[a]; ok || a == actionPing || a == actionAuthenticate {
		return a
	}
	return "other"
}
