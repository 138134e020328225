package session

import (
	"encoding/binary"
	"errors"
)

// Client frames, read by the session itself when its connections are read
// from a Poller (RFC 6455 §5): a client's frames are masked; a message may
// be fragmented; control frames (ping, pong, close) may come between the
// fragments of a message.

// Opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// Errors of the frame reader; each closes the connection.
var (
	errTooBig   = errors.New("websocket message too big")
	errProtocol = errors.New("websocket protocol error")
)

// clientFrame is one parsed frame; payload is unmasked in place.
type clientFrame struct {
	fin     bool
	op      byte
	payload []byte
}

// parseFrame parses the frame at the start of b. It returns the frame and
// the bytes it took, or need > 0: the bytes the frame needs in all, when b
// holds less. A payload beyond max is errTooBig before it is read.
func parseFrame(b []byte, max int) (f clientFrame, n, need int, err error) {
	if len(b) < 2 {
		return f, 0, 2, nil
	}
	b0, b1 := b[0], b[1]
	if b0&0x70 != 0 { // no extension is negotiated: RSV bits must be 0
		return f, 0, 0, errProtocol
	}
	if b1&0x80 == 0 { // a client's frames are masked
		return f, 0, 0, errProtocol
	}
	f.fin, f.op = b0&0x80 != 0, b0&0x0F
	hlen, plen := 2+4, uint64(b1&0x7F)
	switch plen {
	case 126:
		hlen += 2
	case 127:
		hlen += 8
	}
	if len(b) < hlen {
		return f, 0, hlen, nil
	}
	switch plen {
	case 126:
		plen = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		plen = binary.BigEndian.Uint64(b[2:])
	}
	control := f.op >= opClose
	switch {
	case control && (plen > 125 || !f.fin):
		return f, 0, 0, errProtocol
	case f.op > opBinary && !control, f.op > opPong:
		return f, 0, 0, errProtocol
	case plen > uint64(max):
		return f, 0, 0, errTooBig
	}
	total := hlen + int(plen)
	if len(b) < total {
		return f, 0, total, nil
	}
	var key [4]byte
	copy(key[:], b[hlen-4:hlen])
	f.payload = b[hlen:total]
	for i := range f.payload {
		f.payload[i] ^= key[i&3]
	}
	return f, total, 0, nil
}
