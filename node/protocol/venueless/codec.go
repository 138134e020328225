// Package venueless is the codec and connection handler of venueless' Rooms
// API: JSON-array frames over a plain websocket.
//
// Client frames are [action, id, payload] (or [action, payload] for ping
// and authenticate); replies are ["success", id, data] and
// ["error", id, {"code", "message"}]; pushes are [event, data].
package venueless

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/protocol/payload"
)

// Frame is a decoded client frame. ID and Body alias the decoded bytes:
// they are valid while those are.
type Frame struct {
	// Action is the frame's action as sent.
	Action string
	// ID is the raw JSON id (any JSON value) when the frame had three
	// elements, nil otherwise.
	ID json.RawMessage
	// Body is the payload as sent (ping's echo), nil when absent.
	Body json.RawMessage
	// Op is the operation of an engine action, decoded from Body (an
	// op.Invalid when Body did not fit); nil for ping, authenticate and
	// unknown actions.
	Op op.Operation
	// Credentials are authenticate's payload; nil when it did not decode.
	Credentials *op.Credentials
}

// HasID reports whether the frame carried an id.
func (f *Frame) HasID() bool { return f.ID != nil }

// ErrFrame is wrapped by every decoding error.
var ErrFrame = errors.New("invalid frame")

// Decode parses one client frame, payload included, in one pass: the
// array is split into its raw elements, then the action picks the type its
// payload is decoded into.
func Decode(b []byte) (Frame, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '[' {
		return Frame{}, fmt.Errorf("%w: expected a JSON array", ErrFrame)
	}
	if !json.Valid(b) {
		return Frame{}, fmt.Errorf("%w: not valid JSON", ErrFrame)
	}
	var buf [3]json.RawMessage
	parts, err := payload.Elements(buf[:0], b)
	if err != nil || len(parts) < 1 || len(parts) > 3 {
		return Frame{}, fmt.Errorf("%w: expected [action, id, payload]", ErrFrame)
	}
	var f Frame
	var act action
	if name, ok := payload.Plain(parts[0]); ok {
		act, ok = actions[string(name)]
		f.Action = act.name
		if !ok {
			f.Action = string(name)
		}
	} else if f.Action, ok = payload.String(parts[0]); ok {
		act = actions[f.Action]
	}
	if f.Action == "" {
		return Frame{}, fmt.Errorf("%w: the action must be a non-empty string", ErrFrame)
	}
	switch len(parts) {
	case 2:
		f.Body = parts[1]
	case 3:
		f.ID = parts[1]
		f.Body = parts[2]
	}
	switch {
	case act.decode != nil:
		f.Op = act.decode(f.Body)
	case f.Action == actionAuthenticate:
		f.Credentials = decodeCredentials(f.Body)
	}
	return f, nil
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Every payload the node builds is JSON-encodable; reaching this is a bug.
		panic(fmt.Sprintf("venueless: encode %T: %v", v, err))
	}
	return b
}

// Success encodes ["success", id, data] (or ["success", data] without id).
func Success(id json.RawMessage, data any) []byte {
	if data == nil {
		data = struct{}{}
	}
	if id == nil {
		return marshal([]any{"success", data})
	}
	return marshal([]any{"success", id, data})
}

type errorBody struct {
	Code    op.Code `json:"code"`
	Message string  `json:"message,omitempty"`
}

// Error encodes ["error", id, {"code", "message"}] (id omitted when nil).
func Error(id json.RawMessage, e *op.Error) []byte {
	body := errorBody{Code: e.Code, Message: e.Message}
	if id == nil {
		return marshal([]any{"error", body})
	}
	return marshal([]any{"error", id, body})
}

// Push encodes a server push [event, data].
func Push(kind string, data any) []byte { return marshal([]any{kind, data}) }
