// Package wsframe reads and writes the frames of RFC 6455 websockets: their
// headers, opcodes, masking and close payloads, for the node's connections
// and for the load generator alike.
//
// It does no I/O and allocates only when asked to append to a buffer too
// small: parsing works in place on the bytes read.
package wsframe

import (
	"encoding/binary"
	"errors"
)

// Opcode is a frame's type (RFC 6455 §5.2).
type Opcode = byte

// Opcodes.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// MaxControlPayload is the largest payload of a control frame (ping, pong,
// close; RFC 6455 §5.5).
const MaxControlPayload = 125

// MaxHeaderLen is the longest frame header: 2 bytes, an 8-byte length and a
// 4-byte masking key.
const MaxHeaderLen = 14

// Errors of Parse.
var (
	// ErrProtocol is a frame the peer must not send: reserved bits set, an
	// unknown opcode, a fragmented or long control frame, or a frame
	// masked when it must not be, or not masked when it must.
	ErrProtocol = errors.New("websocket protocol error")
	// ErrTooBig is a frame whose payload is longer than allowed.
	ErrTooBig = errors.New("websocket message too big")
)

// Header is a frame's header (RFC 6455 §5.2).
type Header struct {
	Fin    bool   // the last frame of a message
	RSV    byte   // the reserved bits (0x70 of the first byte); 0 without extensions
	Op     Opcode // the frame's type
	Masked bool   // the payload is masked with Key (a client's frames)
	Key    [4]byte
	Len    uint64 // the payload's length
}

// IsControl says whether op is a control frame's (close, ping, pong).
func IsControl(op Opcode) bool { return op >= OpClose }

// ParseHeader parses the header at the start of b and returns it and its
// length; or, when b holds less than the header, need > 0: the bytes the
// header needs in all.
func ParseHeader(b []byte) (h Header, size, need int) {
	if len(b) < 2 {
		return h, 0, 2
	}
	b0, b1 := b[0], b[1]
	h.Fin, h.RSV, h.Op, h.Masked = b0&0x80 != 0, b0&0x70, b0&0x0F, b1&0x80 != 0
	size, h.Len = 2, uint64(b1&0x7F)
	switch h.Len {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if h.Masked {
		size += 4
	}
	if len(b) < size {
		return h, 0, size
	}
	switch h.Len {
	case 126:
		h.Len = uint64(binary.BigEndian.Uint16(b[2:]))
	case 127:
		h.Len = binary.BigEndian.Uint64(b[2:])
	}
	if h.Masked {
		copy(h.Key[:], b[size-4:size])
	}
	return h, size, 0
}

// checkStart checks what the first two bytes of a frame tell: reserved
// bits, opcode, fragmented or long control frames, masking. masked says
// whether the frame must be masked (a server reading a client) or must not
// be (a client reading a server).
func checkStart(b0, b1 byte, masked bool) error {
	op, fin, plen := b0&0x0F, b0&0x80 != 0, b1&0x7F
	switch {
	case b0&0x70 != 0: // no extension is negotiated: RSV bits must be 0
		return ErrProtocol
	case (b1&0x80 != 0) != masked:
		return ErrProtocol
	case IsControl(op) && (plen > MaxControlPayload || !fin):
		return ErrProtocol
	case op > OpBinary && !IsControl(op), op > OpPong:
		return ErrProtocol
	}
	return nil
}

// Frame is one parsed frame: its header, and its payload (unmasked).
type Frame struct {
	Header
	Payload []byte
}

// Parse parses the frame at the start of b, unmasking its payload in place.
// It returns the frame and the bytes it took; or need > 0: the bytes the
// frame needs in all, when b holds less. masked says whether the frame must
// be masked (a server reading a client) or must not be (a client reading a
// server); other frames a peer must not send are ErrProtocol as soon as
// their first two bytes are in b. A payload longer than max is ErrTooBig
// before it is read.
func Parse(b []byte, masked bool, max int) (f Frame, n, need int, err error) {
	if len(b) < 2 {
		return f, 0, 2, nil
	}
	if err := checkStart(b[0], b[1], masked); err != nil {
		return f, 0, 0, err
	}
	h, size, need := ParseHeader(b)
	if need > 0 {
		return f, 0, need, nil
	}
	if h.Len > uint64(max) {
		return f, 0, 0, ErrTooBig
	}
	total := size + int(h.Len)
	if len(b) < total {
		return f, 0, total, nil
	}
	f.Header, f.Payload = h, b[size:total]
	if h.Masked {
		Mask(f.Payload, h.Key, 0)
	}
	return f, total, 0, nil
}

// AppendHeader appends h (its Len, and its Key when Masked) to dst.
func AppendHeader(dst []byte, h Header) []byte {
	b0 := h.Op | h.RSV&0x70
	if h.Fin {
		b0 |= 0x80
	}
	if !h.Masked {
		return appendStart(dst, b0, 0, h.Len)
	}
	return append(appendStart(dst, b0, 0x80, h.Len), h.Key[:]...)
}

// AppendTextHeader appends the header of a final, unmasked text frame (a
// server's) of n payload bytes: AppendHeader for the hot path of the
// node's writes.
func AppendTextHeader(dst []byte, n int) []byte {
	return appendStart(dst, 0x80|OpText, 0, uint64(n))
}

// TextHeaderLen is the length of AppendTextHeader's header for n payload
// bytes: 2, 4 or 10.
func TextHeaderLen(n int) int {
	switch {
	case n < 126:
		return 2
	case n <= 0xFFFF:
		return 4
	}
	return 10
}

// appendStart appends a header's first byte b0, then the payload length n
// in its shortest encoding with the mask bit m (0x80 or 0).
func appendStart(dst []byte, b0, m byte, n uint64) []byte {
	switch {
	case n < 126:
		return append(dst, b0, m|byte(n))
	case n <= 0xFFFF:
		return append(dst, b0, m|126, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint64(append(dst, b0, m|127), n)
}

// AppendFrame appends a frame of header h carrying payload: h.Len is set to
// the payload's length, and the payload is masked with h.Key when h.Masked
// (payload itself is not modified).
func AppendFrame(dst []byte, h Header, payload []byte) []byte {
	h.Len = uint64(len(payload))
	dst = AppendHeader(dst, h)
	start := len(dst)
	dst = append(dst, payload...)
	if h.Masked {
		Mask(dst[start:], h.Key, 0)
	}
	return dst
}

// Mask XORs b in place with the masking key, starting at key position pos
// (the payload offset of b[0]); masking twice unmasks.
func Mask(b []byte, key [4]byte, pos int) {
	for i := range b {
		b[i] ^= key[(pos+i)&3]
	}
}
