package socketio

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/payload"
)

// endpoint is one of Valu's endpoints: its name and how its request
// decodes into an operation. Each is served by the same engine code as its
// venueless twin.
type endpoint struct {
	name   string
	decode func(arg []byte) (request, *op.Error)
	// read says a repeat may simply execute again: the endpoint changes
	// nothing (or nothing a repeat would change twice), so its event.id
	// gets no replay entry.
	read bool
}

// endpoints maps Valu's endpoint names to their decoders; the data types
// below carry Valu's field names.
var endpoints = byName(
	endpoint{"room:join", decodeAs[joinData](op.KindEnter), true},
	endpoint{"room:leave", decodeAs[leaveData](op.KindLeave), false},
	endpoint{"resource:setReaction", decodeAs[payload.ResourceSet](op.KindSetResourceReaction), false},
	endpoint{"resource:deleteReaction", decodeAs[payload.ResourceDelete](op.KindDeleteResourceReaction), false},
	endpoint{"resource:getReactions", decodeAs[payload.ResourceGet](op.KindGetResourceReactions), true},
	endpoint{"resource:getUserOwnReaction", decodeAs[payload.ResourceOwn](op.KindGetOwnResourceReaction), true},
)

func byName(list ...endpoint) map[string]endpoint {
	m := make(map[string]endpoint, len(list))
	for _, e := range list {
		m[e.name] = e
	}
	return m
}

// MaxEventIDBytes bounds event.id, which becomes part of an idempotency key.
const MaxEventIDBytes = 128

// request is the decoded argument of an endpoint: {"data": {...}, "event":
// {"id": string, "date": timestamp}}. Op is an op.Invalid when data did not
// fit the endpoint (the engine answers it after its own checks).
type request struct {
	Op      op.Operation
	EventID string
}

// operation is an endpoint's data type that becomes an operation once
// decoded.
type operation interface {
	Operation() op.Operation
}

// envelope is the argument of every endpoint, decoded in one pass: the
// fields record what they found and the checks run afterwards, in the
// order the errors are reported.
type envelope[D operation] struct {
	Data  data[D]   `json:"data"`
	Event eventMeta `json:"event"`
}

// data is an envelope's data member.
type data[D operation] struct {
	object bool // data was a JSON object
	v      D    // valid when object and err is nil
	err    *op.Error
}

// UnmarshalJSON implements json.Unmarshaler; it fails nothing so the
// envelope's checks keep their order.
func (d *data[D]) UnmarshalJSON(b []byte) error {
	if d.object = len(b) > 0 && b[0] == '{'; d.object {
		d.err = payload.Decode(b, &d.v)
	}
	return nil
}

// eventMeta is an envelope's event member: {"id": string, "date": timestamp}.
type eventMeta struct {
	present, object bool
	id              eventID
	date            eventDate
}

type eventID struct {
	set, ok bool
	s       string
}

type eventDate struct{ ok bool }

// UnmarshalJSON implements json.Unmarshaler.
func (e *eventMeta) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	e.present, e.object = true, b[0] == '{'
	if !e.object {
		return nil
	}
	var fields struct {
		ID   *eventID   `json:"id"`
		Date *eventDate `json:"date"`
	}
	fields.ID, fields.Date = &e.id, &e.date
	e.date.ok = true
	e.object = json.Unmarshal(b, &fields) == nil
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (i *eventID) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	i.set = true
	if s, ok := payload.Plain(b); ok {
		i.s, i.ok = string(s), true
		return nil
	}
	i.ok = json.Unmarshal(b, &i.s) == nil
	return nil
}

// UnmarshalJSON implements json.Unmarshaler: a timestamp is a string or a
// number.
func (d *eventDate) UnmarshalJSON(b []byte) error {
	d.ok = b[0] == '"' || (b[0] >= '0' && b[0] <= '9') || string(b) == "null"
	return nil
}

// decodeAs decodes an endpoint's argument with data of type D.
func decodeAs[D operation](kind op.Kind) func([]byte) (request, *op.Error) {
	return func(arg []byte) (request, *op.Error) {
		var env envelope[D]
		if len(arg) == 0 || arg[0] != '{' || json.Unmarshal(arg, &env) != nil {
			return request{}, op.Errorf(op.CodeBadRequest, `the request must be an object {"data": {...}, "event": {...}}`)
		}
		if !env.Data.object {
			return request{}, op.Errorf(op.CodeBadRequest, "data must be an object")
		}
		var r request
		if ev := env.Event; ev.present {
			if !ev.object {
				return request{}, op.Errorf(op.CodeBadRequest, "event must be an object {\"id\": string, \"date\": timestamp}")
			}
			if ev.id.set && !ev.id.ok {
				return request{}, op.Errorf(op.CodeBadRequest, "event.id must be a string")
			}
			if len(ev.id.s) > MaxEventIDBytes || !utf8.ValidString(ev.id.s) {
				return request{}, op.Errorf(op.CodeBadRequest, "event.id must be UTF-8 of at most %d bytes", MaxEventIDBytes)
			}
			if !ev.date.ok {
				return request{}, op.Errorf(op.CodeBadRequest, "event.date must be a timestamp (string or number)")
			}
			r.EventID = ev.id.s
		}
		if env.Data.err != nil {
			r.Op = op.Invalid{Op: kind, Err: env.Data.err}
		} else {
			r.Op = env.Data.v.Operation()
		}
		return r, nil
	}
}

// decodeRequest decodes the arguments of a call to ep.
func decodeRequest(ep endpoint, args []json.RawMessage) (request, *op.Error) {
	if len(args) == 0 {
		return request{}, op.Errorf(op.CodeBadRequest, `missing request: emit {"data": {...}, "event": {"id": ..., "date": ...}}`)
	}
	return ep.decode(args[0])
}

// roomData is the data of room:join and room:leave.
type roomData struct {
	Room string `json:"room"`
}

type (
	joinData  struct{ roomData }
	leaveData struct{ roomData }
)

func (d joinData) Operation() op.Operation  { return op.Enter{Room: d.Room} }
func (d leaveData) Operation() op.Operation { return op.Leave{Room: d.Room} }
