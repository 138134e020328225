// Package socketio is the Socket.IO dialect of a node: the Engine.IO and
// Socket.IO packet codec (websocket transport only) and the connection
// handler that serves Valu's Resource Reaction API on top of the same engine
// as the venueless dialect.
//
// Two protocol generations are spoken, chosen by the EIO query parameter of
// the handshake:
//
//   - EIO=3 (socket.io-client 2.x, Socket.IO protocol 4): the client sends
//     ping "2" every ping interval and the server answers pong "3"; the
//     server connects the default namespace by itself ("40" right after the
//     open packet).
//   - EIO=4 (socket.io-client 3.x/4.x, Socket.IO protocol 5): the server
//     sends ping "2" every ping interval and the client must answer "3"
//     within the ping timeout; the client asks for the default namespace
//     ("40") and the server answers 40{"sid": ...}.
//
// Over the websocket transport every websocket message carries exactly one
// Engine.IO packet: a type digit followed by its payload. A message packet
// ("4") carries one Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// See docs/socketio.md for what the node implements of it.
package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/roomring/roomring/node/protocol/payload"
)

// Engine.IO packet types, as the digit that starts a websocket message.
const (
	EIOOpen    byte = '0'
	EIOClose   byte = '1'
	EIOPing    byte = '2'
	EIOPong    byte = '3'
	EIOMessage byte = '4'
	EIOUpgrade byte = '5'
	EIONoop    byte = '6'
)

// PacketType is a Socket.IO packet type.
type PacketType byte

// Socket.IO packet types. ConnectError is called ERROR in protocol 4 (EIO=3);
// the number is the same.
const (
	Connect PacketType = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

// Limits of the decoder, fixed by the protocol's use rather than tunable.
const (
	// MaxAttachments is the largest binary attachment count a packet may
	// announce; the node accepts no binary payloads, it only skips them.
	MaxAttachments = 16
	// maxIDDigits keeps ack ids within JavaScript's safe integers.
	maxIDDigits = 15
	// maxNamespaceLen bounds a namespace name.
	maxNamespaceLen = 256
)

// ErrPacket is wrapped by every decoding error.
var ErrPacket = errors.New("invalid socket.io packet")

// Packet is a decoded Socket.IO packet.
type Packet struct {
	Type PacketType
	// Attachments is the number of binary frames that follow a BinaryEvent
	// or BinaryAck packet.
	Attachments int
	// Namespace is "/" unless the packet named another.
	Namespace string
	// ID is the acknowledgement id; valid when HasID.
	ID    int64
	HasID bool
	// Data is the JSON payload as sent, nil when absent.
	Data json.RawMessage

	// name and args are an event's, split once by DecodePacket.
	name string
	args []json.RawMessage
}

// SplitEngine splits a websocket text message into its Engine.IO packet
// type and payload.
func SplitEngine(msg []byte) (typ byte, payload []byte, err error) {
	if len(msg) == 0 {
		return 0, nil, fmt.Errorf("%w: empty engine.io packet", ErrPacket)
	}
	if msg[0] < EIOOpen || msg[0] > EIONoop {
		return 0, nil, fmt.Errorf("%w: unknown engine.io packet type %q", ErrPacket, msg[0])
	}
	return msg[0], msg[1:], nil
}

// DecodePacket parses the payload of an Engine.IO message packet.
func DecodePacket(b []byte) (Packet, error) {
	p := Packet{Namespace: "/"}
	if len(b) == 0 {
		return p, fmt.Errorf("%w: empty packet", ErrPacket)
	}
	if b[0] < '0' || b[0] > '6' {
		return p, fmt.Errorf("%w: unknown packet type %q", ErrPacket, b[0])
	}
	p.Type = PacketType(b[0] - '0')
	i := 1
	if p.Type == BinaryEvent || p.Type == BinaryAck {
		j := bytes.IndexByte(b[i:], '-')
		if j < 1 || j > 2 {
			return p, fmt.Errorf("%w: binary packet without attachment count", ErrPacket)
		}
		n, err := strconv.Atoi(string(b[i : i+j]))
		if err != nil || n < 0 || n > MaxAttachments {
			return p, fmt.Errorf("%w: attachment count must be 0 to %d", ErrPacket, MaxAttachments)
		}
		p.Attachments = n
		i += j + 1
	}
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		end := i + j
		if j < 0 {
			end = len(b)
		}
		if end-i > maxNamespaceLen {
			return p, fmt.Errorf("%w: namespace longer than %d bytes", ErrPacket, maxNamespaceLen)
		}
		p.Namespace = string(b[i:end])
		// Protocol 4 clients append the query to a namespace ("/nsp?x=1").
		if q := strings.IndexByte(p.Namespace, '?'); q >= 0 {
			p.Namespace = p.Namespace[:q]
		}
		i = end
		if j >= 0 {
			i++ // the comma
		}
	}
	start := i
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	if i > start {
		if i-start > maxIDDigits {
			return p, fmt.Errorf("%w: ack id longer than %d digits", ErrPacket, maxIDDigits)
		}
		id, err := strconv.ParseInt(string(b[start:i]), 10, 64)
		if err != nil {
			return p, fmt.Errorf("%w: ack id: %v", ErrPacket, err)
		}
		p.ID, p.HasID = id, true
	}
	if rest := bytes.TrimSpace(b[i:]); len(rest) > 0 {
		if !json.Valid(rest) {
			return p, fmt.Errorf("%w: payload is not valid JSON", ErrPacket)
		}
		p.Data = json.RawMessage(rest)
	}
	err := p.validate() // before p is copied out: it records the event's split
	return p, err
}

// validate checks the payload shape each packet type requires.
func (p *Packet) validate() error {
	switch p.Type {
	case Event, BinaryEvent:
		name, args, err := p.EventArgs()
		if err != nil {
			return err
		}
		p.name, p.args = name, args
	case Ack, BinaryAck:
		if !p.HasID {
			return fmt.Errorf("%w: ack without id", ErrPacket)
		}
		if len(p.Data) == 0 || p.Data[0] != '[' {
			return fmt.Errorf("%w: ack payload must be an array", ErrPacket)
		}
	case Connect:
		if len(p.Data) > 0 && p.Data[0] != '{' {
			return fmt.Errorf("%w: connect payload must be an object", ErrPacket)
		}
	}
	return nil
}

// EventArgs returns an event packet's name and arguments. The arguments
// are the raw JSON elements of the event array, not decoded yet: each
// endpoint decodes its argument once, into its own type.
func (p *Packet) EventArgs() (name string, args []json.RawMessage, err error) {
	if p.name != "" {
		return p.name, p.args, nil
	}
	if len(p.Data) == 0 || p.Data[0] != '[' {
		return "", nil, fmt.Errorf("%w: event payload must be an array", ErrPacket)
	}
	all, err := payload.Elements(make([]json.RawMessage, 0, 4), p.Data)
	if err != nil {
		return "", nil, fmt.Errorf("%w: event payload: %v", ErrPacket, err)
	}
	if len(all) == 0 {
		return "", nil, fmt.Errorf("%w: event without a name", ErrPacket)
	}
	if s, ok := payload.Plain(all[0]); ok {
		if ep, known := endpoints[string(s)]; known {
			name = ep.name // no copy for the names the node serves
		} else {
			name = string(s)
		}
	} else {
		name, _ = payload.String(all[0])
	}
	if name == "" {
		return "", nil, fmt.Errorf("%w: the event name must be a non-empty string", ErrPacket)
	}
	return name, all[1:], nil
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every payload the node builds is JSON-encodable; reaching this is a bug.
		panic(fmt.Sprintf("socketio: encode %T: %v", v, err))
	}
	return b
}

// EncodeEvent encodes an event on the default namespace as a websocket
// message: 42["name",args...].
func EncodeEvent(name string, args ...any) []byte {
	return append([]byte("42"), marshal(append([]any{name}, args...))...)
}

// EncodeAck encodes the acknowledgement of ack id: 43<id>[args...].
func EncodeAck(id int64, args ...any) []byte {
	b := strconv.AppendInt([]byte("43"), id, 10)
	if args == nil {
		args = []any{}
	}
	return append(b, marshal(args)...)
}

// EncodeConnect encodes the server's namespace connect packet: "40" in
// protocol 4 (EIO=3), 40{"sid":sid} in protocol 5 (EIO=4).
func EncodeConnect(eio int, sid string) []byte {
	if eio == 3 {
		return []byte("40")
	}
	return append([]byte("40"), marshal(struct {
		SID string `json:"sid"`
	}{sid})...)
}

// EncodeConnectError refuses a namespace: 44/nsp,"message" in protocol 4,
// 44/nsp,{"message":...} in protocol 5.
func EncodeConnectError(eio int, namespace, message string) []byte {
	b := []byte("44")
	if namespace != "/" {
		b = append(append(b, namespace...), ',')
	}
	if eio == 3 {
		return append(b, marshal(message)...)
	}
	return append(b, marshal(struct {
		Message string `json:"message"`
	}{message})...)
}

// EncodeDisconnect is the server's disconnect of the default namespace.
func EncodeDisconnect() []byte { return []byte("41") }

// Open is the Engine.IO handshake data of the open packet.
type Open struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	// MaxPayload exists in EIO=4 only.
	MaxPayload int64 `json:"maxPayload,omitempty"`
}

// EncodeOpen encodes the open packet: 0{"sid":...,"upgrades":[],...}.
func EncodeOpen(o Open) []byte {
	if o.Upgrades == nil {
		o.Upgrades = []string{}
	}
	return append([]byte{EIOOpen}, marshal(o)...)
}
