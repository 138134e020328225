package socketio_test

import (
	"errors"
	"testing"

	"github.com/roomring/roomring/node/protocol/socketio"
)

func TestDecodePacket(t *testing.T) {
	for _, tc := range []struct {
		in        string
		typ       socketio.PacketType
		nsp       string
		id        int64
		hasID     bool
		attach    int
		data      string
		wantError bool
	}{
		{in: "0", typ: socketio.Connect, nsp: "/"},
		{in: `0{"token":"t"}`, typ: socketio.Connect, nsp: "/", data: `{"token":"t"}`},
		{in: "0/admin,", typ: socketio.Connect, nsp: "/admin"},
		{in: "0/admin?x=1", typ: socketio.Connect, nsp: "/admin"},
		{in: "1", typ: socketio.Disconnect, nsp: "/"},
		{in: `2["foo"]`, typ: socketio.Event, nsp: "/", data: `["foo"]`},
		{in: `212["foo",1]`, typ: socketio.Event, nsp: "/", id: 12, hasID: true, data: `["foo",1]`},
		{in: `2/admin,13["foo"]`, typ: socketio.Event, nsp: "/admin", id: 13, hasID: true, data: `["foo"]`},
		{in: `312[]`, typ: socketio.Ack, nsp: "/", id: 12, hasID: true, data: `[]`},
		{in: `51-14["foo",{"_placeholder":true,"num":0}]`, typ: socketio.BinaryEvent, nsp: "/", id: 14, hasID: true, attach: 1,
			data: `["foo",{"_placeholder":true,"num":0}]`},
		{in: "", wantError: true},
		{in: "7", wantError: true},
		{in: "2", wantError: true},
		{in: "2[]", wantError: true},
		{in: "2[1]", wantError: true},
		{in: `2{"a":1}`, wantError: true},
		{in: `2["a"`, wantError: true},
		{in: `3[]`, wantError: true},
		{in: `31{}`, wantError: true},
		{in: `5["a"]`, wantError: true},
		{in: `599-["a"]`, wantError: true},
		{in: `21234567890123456["a"]`, wantError: true},
		{in: `0"x"`, wantError: true},
	} {
		p, err := socketio.DecodePacket([]byte(tc.in))
		if tc.wantError {
			if !errors.Is(err, socketio.ErrPacket) {
				t.Errorf("%q: want ErrPacket, got %+v, %v", tc.in, p, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if p.Type != tc.typ || p.Namespace != tc.nsp || p.ID != tc.id || p.HasID != tc.hasID ||
			p.Attachments != tc.attach || string(p.Data) != tc.data {
			t.Errorf("%q: got %+v (data %s)", tc.in, p, p.Data)
		}
	}
}

func TestEncode(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{string(socketio.EncodeEvent("user_info", map[string]int{"a": 1})), `42["user_info",{"a":1}]`},
		{string(socketio.EncodeAck(7, map[string]any{"data": nil})), `437[{"data":null}]`},
		{string(socketio.EncodeAck(0)), `430[]`},
		{string(socketio.EncodeConnect(3, "x")), `40`},
		{string(socketio.EncodeConnect(4, "abc")), `40{"sid":"abc"}`},
		{string(socketio.EncodeConnectError(3, "/admin", "Invalid namespace")), `44/admin,"Invalid namespace"`},
		{string(socketio.EncodeConnectError(4, "/admin", "Invalid namespace")), `44/admin,{"message":"Invalid namespace"}`},
		{string(socketio.EncodeDisconnect()), `41`},
		{string(socketio.EncodeOpen(socketio.Open{SID: "s", PingInterval: 25000, PingTimeout: 20000})),
			`0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`},
		{string(socketio.EncodeOpen(socketio.Open{SID: "s", PingInterval: 1, PingTimeout: 2, MaxPayload: 3})),
			`0{"sid":"s","upgrades":[],"pingInterval":1,"pingTimeout":2,"maxPayload":3}`},
	} {
		if tc.got != tc.want {
			t.Errorf("got %s, want %s", tc.got, tc.want)
		}
	}
}
