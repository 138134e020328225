package peer

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Frame types.
const (
	frameRequest byte = 1 // expects a reply with the same id
	frameReply   byte = 2
	frameMessage byte = 3 // one-way
)

// Reply statuses.
const (
	statusOK         byte = 0
	statusOverloaded byte = 1 // the receiver's lane queue was full; not executed
)

// headerLen is the size of a frame header after its 4-byte length:
// type u8 | status u8 | lane u32 | id u64.
const headerLen = 1 + 1 + 4 + 8

// frame is one decoded frame.
type frame struct {
	typ     byte
	status  byte
	lane    uint32
	id      uint64
	payload []byte
}

// encodeFrame returns the wire form of a frame: a big-endian u32 length of
// the rest, the header, the payload.
func encodeFrame(typ, status byte, lane uint32, id uint64, payload []byte) []byte {
	b := make([]byte, 4+headerLen+len(payload))
	binary.BigEndian.PutUint32(b, uint32(headerLen+len(payload)))
	b[4], b[5] = typ, status
	binary.BigEndian.PutUint32(b[6:], lane)
	binary.BigEndian.PutUint64(b[10:], id)
	copy(b[4+headerLen:], payload)
	return b
}

// readFrame reads one frame of at most maxBytes (header included).
func readFrame(r io.Reader, maxBytes int) (frame, error) {
	var lb [4]byte
	if _, err := io.ReadFull(r, lb[:]); err != nil {
		return frame{}, err
	}
	n := int(binary.BigEndian.Uint32(lb[:]))
	if n < headerLen || n > maxBytes {
		return frame{}, fmt.Errorf("frame of %d bytes (limit %d)", n, maxBytes)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return frame{}, err
	}
	f := frame{typ: b[0], status: b[1], lane: binary.BigEndian.Uint32(b[2:]), id: binary.BigEndian.Uint64(b[6:]), payload: b[headerLen:]}
	if f.typ < frameRequest || f.typ > frameMessage {
		return frame{}, fmt.Errorf("unknown frame type %d", f.typ)
	}
	return f, nil
}
