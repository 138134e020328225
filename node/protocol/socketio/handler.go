package socketio

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"

	"github.com/roomring/roomring/node/auth"
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
}

// Deps are what every connection's handler shares.
type Deps struct {
	Engine   *engine.Engine
	Config   *Config
	Replays  *Replays
	Observer Observer
	Logger   *slog.Logger
	// MaxPayload is announced to EIO=4 clients as maxPayload: the
	// connection's largest inbound frame (session.Config.MaxFrameBytes).
	MaxPayload int
}

// Handler serves one Socket.IO connection. Create it with NewHandler, call
// Open, then pass it to session.Conn.Serve.
type Handler struct {
	d    Deps
	conn session.Transport
	hs   Handshake
	sid  string // Engine.IO session id; also the namespace sid in EIO=4

	// hb is the Engine.IO heartbeat (heartbeat.go): started by Open, told
	// of the client's pings and pongs by HandleFrame, stopped by Closed.
	hb heartbeat

	// Read goroutine only.
	connected bool
	client    *engine.Client
	skip      int // binary attachment frames still to discard

	uid string // set before the client starts; read by the edge
}

// NewHandler returns the handler of one connection.
func NewHandler(d Deps, conn session.Transport, hs Handshake) *Handler {
	h := &Handler{d: d, conn: conn, hs: hs, sid: newSID()}
	h.hb.init(conn, d.Config, hs.EIO)
	return h
}

func newSID() string {
	b := make([]byte, 15)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Open sends the Engine.IO open packet, connects the default namespace
// right away for EIO=3 clients (protocol 4 does not ask for it) and starts
// the heartbeat. Call it once, before Serve.
func (h *Handler) Open() {
	h.conn.Send(EncodeOpen(Open{
		SID:          h.sid,
		PingInterval: h.d.Config.PingInterval.Milliseconds(),
		PingTimeout:  h.d.Config.PingTimeout.Milliseconds(),
		MaxPayload:   h.maxPayload(),
	}))
	h.hb.start()
	if h.hs.EIO == 3 {
		h.connect(h.hs.SessionID)
	}
}

func (h *Handler) maxPayload() int64 {
	if h.hs.EIO == 3 {
		return 0
	}
	return int64(h.d.MaxPayload)
}

var _ engine.Sink = (*Handler)(nil)

// UserID implements edge.Subscriber.
func (h *Handler) UserID() string { return h.uid }

// Dialect implements edge.Subscriber.
func (h *Handler) Dialect() edge.Dialect { return edge.SocketIO }

// Send implements edge.Subscriber.
func (h *Handler) Send(frame []byte) { h.conn.Push(frame) }

// SendFrames implements edge.Subscriber.
func (h *Handler) SendFrames(frames [][]byte) { h.conn.PushFrames(frames) }

// SendPersonal implements edge.Subscriber: Valu clients receive no personal
// (world configuration) events.
func (h *Handler) SendPersonal(*op.Event) {}

// Replaced implements engine.Sink: a newer connection of the same user took
// this one's place; the server disconnects the namespace.
func (h *Handler) Replaced() {
	h.conn.Send(EncodeDisconnect())
	h.conn.Close(session.CloseNormal, "connection replaced")
}

// WorldClosed implements engine.Sink: the connection's world was deleted;
// the server disconnects the namespace.
func (h *Handler) WorldClosed() {
	h.conn.Send(EncodeDisconnect())
	h.conn.Close(session.CloseNormal, "world closed")
}

// connect answers the namespace connection and then tells the client who it
// is (user_info) or that its session is invalid (invalidConnection, then a
// server-side disconnect).
func (h *Handler) connect(sessionID string) {
	h.connected = true
	h.conn.Send(EncodeConnect(h.hs.EIO, h.sid))
	ctx := context.Background()
	u, err := h.authenticate(ctx, sessionID)
	if err != nil {
		h.d.Observer.Error(err.Code)
		h.conn.Send(EncodeEvent(EvInvalidConnection, Fail(err)))
		h.conn.Send(EncodeDisconnect())
		h.conn.Close(session.CloseNormal, "invalid session")
		return
	}
	h.uid = u.ID
	client := h.d.Engine.NewClient(u, h)
	h.conn.Send(EncodeEvent(EvUserInfo, OK(struct {
		User UserSimple `json:"user"`
	}{NewUserSimple(u.ID, u.Profile)})))
	h.client = client
	h.conn.MarkAuthenticated()
	client.Start()
}

func (h *Handler) authenticate(ctx context.Context, sessionID string) (*auth.User, *op.Error) {
	if sessionID == "" {
		return nil, op.Errorf(op.CodeMissingToken, "missing sessionId")
	}
	return h.d.Engine.Authenticate(ctx, op.Credentials{Token: sessionID})
}

// HandleFrame implements session.Handler.
func (h *Handler) HandleFrame(_ session.Transport, frame []byte) {
	if h.skip > 0 { // a binary attachment of a refused packet
		h.skip--
		return
	}
	typ, payload, err := SplitEngine(frame)
	if err != nil {
		h.d.Observer.FrameIn("invalid")
		h.d.Logger.Debug("socket.io: bad engine.io packet", "err", err)
		return
	}
	switch typ {
	case EIOPing:
		h.hb.beat()
		h.conn.Send(append([]byte{EIOPong}, payload[:min(len(payload), MaxPingEcho)]...))
	case EIOPong:
		h.hb.beat()
	case EIOClose:
		h.conn.Close(session.CloseNormal, "client closed")
	case EIOMessage:
		h.handlePacket(payload)
	}
}

// MaxPingEcho bounds the payload of an Engine.IO ping echoed in its pong
// (clients send none, or "probe"); the rest of a longer one is not echoed.
const MaxPingEcho = 32

// RateLimited implements session.Handler: a frame over the connection's
// rate limit is not executed; an event that asked for an ack is answered
// with a 429 error ack, anything else is dropped (heartbeats still count
// as signs of life).
func (h *Handler) RateLimited(_ session.Transport, frame []byte) {
	if h.skip > 0 {
		h.skip--
		return
	}
	typ, payload, err := SplitEngine(frame)
	if err != nil {
		h.d.Observer.FrameIn("invalid")
		return
	}
	switch typ {
	case EIOPing, EIOPong:
		h.hb.beat()
		return
	case EIOMessage:
	default:
		return
	}
	p, err := DecodePacket(payload)
	if err != nil {
		h.d.Observer.FrameIn("invalid")
		return
	}
	h.skip = p.Attachments
	if p.Type == Event || p.Type == BinaryEvent {
		h.d.Observer.FrameIn("other")
		h.fail(p, op.Errorf(op.CodeRateLimited, "too many requests; slow down"))
	}
}

func (h *Handler) handlePacket(b []byte) {
	p, err := DecodePacket(b)
	if err != nil {
		h.d.Observer.FrameIn("invalid")
		if p.Type == Event && p.HasID && p.Namespace == "/" && h.client != nil {
			h.ack(p.ID, op.Errorf(op.CodeBadRequest, "%s", err.Error()))
		}
		return
	}
	h.skip = p.Attachments
	if p.Namespace != "/" {
		if p.Type == Connect {
			h.conn.Send(EncodeConnectError(h.hs.EIO, p.Namespace, "Invalid namespace"))
		}
		return
	}
	switch p.Type {
	case Connect:
		if !h.connected {
			h.connect(h.sessionFromAuth(p.Data))
		}
	case Disconnect:
		h.conn.Close(session.CloseNormal, "client disconnected")
	case Event, BinaryEvent:
		h.event(p)
	}
}

// sessionFromAuth returns the handshake's sessionId or, when it had none,
// the sessionId of an EIO=4 CONNECT packet's auth object.
func (h *Handler) sessionFromAuth(data json.RawMessage) string {
	if h.hs.SessionID != "" || len(data) == 0 {
		return h.hs.SessionID
	}
	var a struct {
		SessionID string `json:"sessionId"`
	}
	_ = json.Unmarshal(data, &a) // DecodePacket checked it is an object
	return a.SessionID
}

func (h *Handler) event(p Packet) {
	name, args, _ := p.EventArgs() // DecodePacket validated events
	ep, known := endpoints[name]
	if known {
		h.d.Observer.FrameIn(name)
	} else {
		h.d.Observer.FrameIn("other")
	}
	if h.client == nil {
		h.fail(p, op.Errorf(op.CodeUnauthenticated, "not connected"))
		return
	}
	if p.Type == BinaryEvent {
		h.fail(p, op.Errorf(op.CodeBadRequest, "binary payloads are not supported"))
		return
	}
	if !known {
		h.fail(p, op.Errorf(op.CodeUnknownCommand, "unknown endpoint %q", name))
		return
	}
	req, rerr := decodeRequest(ep, args)
	if rerr != nil {
		h.fail(p, rerr)
		return
	}
	var ticket *Ticket
	if req.EventID != "" && !ep.read {
		// The node's replay cache serves every world: the same uid in two
		// worlds is two users.
		owner := h.d.Engine.WorldID() + "\x00" + h.uid
		ack, t := h.d.Replays.Claim(owner, replayKey(owner, h.hs.DeviceID, name, req.EventID), h.conn.Closing())
		if t == nil {
			if ack != nil && p.HasID {
				h.conn.Send(EncodeAck(p.ID, json.RawMessage(ack)))
			}
			return
		}
		ticket = t
	}
	res, oerr := h.client.Do(context.Background(), req.Op)
	reply := OK(resultData(res))
	if oerr != nil {
		h.d.Observer.Error(oerr.Code)
		reply = Fail(oerr)
	}
	enc := marshal(reply)
	if ticket != nil {
		ticket.Finish(enc, oerr == nil || !transient(oerr.Code))
	}
	if p.HasID {
		h.conn.Send(EncodeAck(p.ID, json.RawMessage(enc)))
	}
}

// transient codes are not remembered for replay: a retry should execute.
func transient(c op.Code) bool {
	return c == op.CodeRateLimited || c == op.CodeInternal || c == op.CodeUnavailable
}

// replayKey is the idempotency key of a request: the device (user id and
// the handshake's deviceId), the endpoint and event.id.
func replayKey(uid, device, endpoint, eventID string) string {
	return uid + "\x00" + device + "\x00" + endpoint + "\x00" + eventID
}

// fail answers a request with an error ack when it asked for one.
func (h *Handler) fail(p Packet, e *op.Error) {
	h.d.Observer.Error(e.Code)
	if p.HasID {
		h.ack(p.ID, e)
	}
}

func (h *Handler) ack(id int64, e *op.Error) {
	h.conn.Send(EncodeAck(id, Fail(e)))
}

// Closed implements session.Handler: the heartbeat stops and
// disconnecting leaves every room, like room:leave.
func (h *Handler) Closed(session.Transport) {
	h.hb.stop()
	if h.client != nil {
		h.client.Close(context.Background())
	}
}
