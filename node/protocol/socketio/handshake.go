package socketio

import (
	"net/http"
	"strconv"
)

// Handshake is what the websocket upgrade request of a Socket.IO client
// tells the node.
type Handshake struct {
	// EIO is the Engine.IO protocol version: 3 (socket.io-client 2.x) or 4.
	EIO int
	// SessionID is Valu's session token (the same JWT as venueless'
	// authenticate token). EIO=4 clients may send it in the CONNECT
	// packet's auth object instead.
	SessionID string
	// DeviceID optionally names the client device; idempotency keys are
	// per user and device.
	DeviceID string
}

// MaxDeviceIDBytes bounds the deviceId query parameter.
const MaxDeviceIDBytes = 128

// HandshakeError is a refused handshake: an HTTP status and an Engine.IO
// style JSON body {"code": n, "message": "..."}.
type HandshakeError struct {
	HTTPStatus int
	Code       int // Engine.IO error code: 0 transport unknown, 1 session id unknown, 3 bad request, 5 unsupported protocol version
	Message    string
}

func (e *HandshakeError) Error() string { return e.Message }

// Body is the JSON response body.
func (e *HandshakeError) Body() []byte {
	return marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{e.Code, e.Message})
}

func badRequest(code int, msg string) *HandshakeError {
	return &HandshakeError{HTTPStatus: http.StatusBadRequest, Code: code, Message: msg}
}

// ParseHandshake checks a handshake's query parameters (get returns a
// parameter's value, "" when absent) and whether the request is a websocket
// upgrade. Only the websocket transport is served: polling requests get a
// 400 that says so.
func ParseHandshake(get func(string) string, isUpgrade bool) (Handshake, *HandshakeError) {
	var hs Handshake
	switch t := get("transport"); t {
	case "websocket":
	case "polling":
		return hs, badRequest(3, "Bad request: this server speaks Socket.IO over the websocket transport only; connect with transports: ['websocket']")
	default:
		return hs, badRequest(0, "Transport unknown: "+strconv.Quote(t)+"; this server speaks Socket.IO over the websocket transport only")
	}
	switch get("EIO") {
	case "3":
		hs.EIO = 3
	case "4":
		hs.EIO = 4
	default:
		return hs, badRequest(5, "Unsupported protocol version: EIO must be 3 (socket.io-client 2.x) or 4 (3.x/4.x)")
	}
	if get("sid") != "" {
		return hs, badRequest(1, "Session ID unknown: there is no polling session to upgrade; connect with transports: ['websocket']")
	}
	if !isUpgrade {
		return hs, badRequest(3, "Bad request: expected a websocket upgrade")
	}
	hs.SessionID = get("sessionId")
	hs.DeviceID = get("deviceId")
	if len(hs.DeviceID) > MaxDeviceIDBytes {
		return hs, badRequest(3, "Bad request: deviceId longer than "+strconv.Itoa(MaxDeviceIDBytes)+" bytes")
	}
	return hs, nil
}
