package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/roomring/roomring/node/wsframe"
)

// The load generator speaks websocket (RFC 6455) itself: one small read
// buffer per connection that grows only for the odd large message, no
// per-message allocation, frames masked in place. That keeps its own memory
// and CPU per connection low, so the machine's cores go to the server
// under test rather than to the client.

const (
	// readBufSmall is a connection's resting read buffer: every push of the
	// protocols fits it; larger messages (the authenticated payload) grow
	// it for as long as they are read.
	readBufSmall = 2048
	// maxMessage bounds one inbound message; a larger one is an error.
	maxMessage = 4 << 20
	wsGUID     = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
)

// errClosed is returned by readMessage once the server closed the websocket.
var errClosed = errors.New("websocket closed by the server")

// wsConn is a client websocket connection. readMessage is for one reader
// goroutine; writeText is safe for concurrent use.
type wsConn struct {
	c net.Conn

	buf        []byte // read buffer; buf[r:w] is unread
	r, w       int
	msg        []byte // reassembled fragmented message
	fragmented bool   // msg holds the start of a fragmented message
	need       int    // unread bytes the frame being parsed needs (poller)
	lastLarge  bool   // the buffer or msg grew for a large message
	controlOut [2 + 125 + 4]byte

	wmu  sync.Mutex
	wbuf []byte
	mask [4]byte
}

// dialWS opens a websocket to host (host:port) for the request URI path
// from the local address src (nil: any).
func dialWS(ctx context.Context, host, path string, src net.IP, timeout time.Duration) (*wsConn, error) {
	d := net.Dialer{Timeout: timeout}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	c, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", host, err)
	}
	ws, err := handshake(c, host, path, timeout)
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return ws, nil
}

func handshake(c net.Conn, host, path string, timeout time.Duration) (*wsConn, error) {
	var key [16]byte
	_, _ = rand.Read(key[:])
	k := base64.StdEncoding.EncodeToString(key[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + k +
		"\r\nSec-WebSocket-Version: 13\r\n\r\n"
	_ = c.SetDeadline(time.Now().Add(timeout))
	if _, err := io.WriteString(c, req); err != nil {
		return nil, fmt.Errorf("websocket handshake: %w", err)
	}
	ws := &wsConn{c: c, buf: make([]byte, readBufSmall)}
	_, _ = rand.Read(ws.mask[:])
	end := -1
	for end < 0 {
		if ws.w == len(ws.buf) {
			return nil, errors.New("websocket handshake: response header too large")
		}
		n, err := c.Read(ws.buf[ws.w:])
		if err != nil {
			return nil, fmt.Errorf("websocket handshake: %w", err)
		}
		ws.w += n
		end = bytes.Index(ws.buf[:ws.w], []byte("\r\n\r\n"))
	}
	head := ws.buf[:end]
	status, rest, _ := bytes.Cut(head, []byte("\r\n"))
	if !bytes.HasPrefix(status, []byte("HTTP/1.1 101")) {
		return nil, fmt.Errorf("websocket handshake: %s", status)
	}
	sum := sha1.Sum([]byte(k + wsGUID))
	want := base64.StdEncoding.EncodeToString(sum[:])
	ok := false
	for line := range bytes.SplitSeq(rest, []byte("\r\n")) {
		name, val, _ := bytes.Cut(line, []byte(":"))
		if bytes.EqualFold(bytes.TrimSpace(name), []byte("Sec-WebSocket-Accept")) {
			ok = string(bytes.TrimSpace(val)) == want
		}
	}
	if !ok {
		return nil, errors.New("websocket handshake: bad Sec-WebSocket-Accept")
	}
	ws.r = end + 4
	_ = c.SetDeadline(time.Time{})
	return ws, nil
}

// close drops the TCP connection.
func (ws *wsConn) close() error { return ws.c.Close() }

// makeRoom prepares the buffer for n unread bytes and more to come:
// compacts it, and grows it when n does not fit.
func (ws *wsConn) makeRoom(n int) {
	if ws.r > 0 && (ws.r == ws.w || len(ws.buf)-ws.r < n || ws.w == len(ws.buf)) {
		ws.w = copy(ws.buf, ws.buf[ws.r:ws.w])
		ws.r = 0
	}
	if n > len(ws.buf) || ws.w == len(ws.buf) {
		nb := make([]byte, max(n, 2*len(ws.buf)))
		ws.w = copy(nb, ws.buf[ws.r:ws.w])
		ws.r = 0
		ws.buf = nb
		ws.lastLarge = true
	}
}

// shrink gives back a buffer grown for a large message once it is read.
func (ws *wsConn) shrink() {
	if ws.lastLarge && ws.r == ws.w {
		ws.buf, ws.r, ws.w, ws.lastLarge = make([]byte, readBufSmall), 0, 0, false
		ws.msg = nil
	}
}

// fill reads (blocking) until at least n bytes are unread.
func (ws *wsConn) fill(n int) error {
	for ws.w-ws.r < n {
		ws.makeRoom(n)
		m, err := ws.c.Read(ws.buf[ws.w:])
		ws.w += m
		if err != nil && ws.w-ws.r < n {
			return err
		}
	}
	return nil
}

// readMessage returns the next text or binary message, reading from the
// socket as needed (blocking). The returned slice is valid until the next
// call. Pings are answered; a close frame ends the connection with
// errClosed.
func (ws *wsConn) readMessage() ([]byte, error) {
	ws.shrink()
	for {
		msg, need, err := ws.next()
		if err != nil || need == 0 {
			return msg, err
		}
		if err := ws.fill(need); err != nil {
			return nil, err
		}
	}
}

// next returns the next message from the bytes already read, or need > 0:
// how many unread bytes the frame being parsed needs. Control frames are
// handled on the way. The message is valid until the next call.
func (ws *wsConn) next() (msg []byte, need int, err error) {
	for {
		f, n, need, err := wsframe.Parse(ws.buf[ws.r:ws.w], false, maxMessage)
		if err != nil || need > 0 {
			if err != nil {
				err = fmt.Errorf("websocket frame: %w", err)
			}
			return nil, need, err
		}
		ws.r += n
		p := f.Payload
		switch f.Op {
		case wsframe.OpPing:
			if err := ws.writeControl(wsframe.OpPong, p); err != nil {
				return nil, 0, err
			}
			continue
		case wsframe.OpPong:
			continue
		case wsframe.OpClose:
			_ = ws.writeControl(wsframe.OpClose, p[:min(len(p), 2)])
			return nil, 0, errClosed
		case wsframe.OpText, wsframe.OpBinary:
			if ws.fragmented {
				return nil, 0, errors.New("websocket: new message inside a fragmented one")
			}
			if f.Fin {
				return p, 0, nil
			}
			ws.fragmented = true
			ws.msg = append(ws.msg[:0], p...)
		default: // wsframe.OpContinuation: Parse lets no other opcode through
			if !ws.fragmented {
				return nil, 0, errors.New("websocket: continuation frame without a start")
			}
			ws.msg = append(ws.msg, p...)
			if len(ws.msg) > maxMessage {
				return nil, 0, errors.New("websocket: message too large")
			}
		}
		if f.Fin {
			ws.fragmented = false
			ws.lastLarge = ws.lastLarge || cap(ws.msg) > readBufSmall
			return ws.msg, 0, nil
		}
	}
}

// writeControl writes a control frame from the reader goroutine.
func (ws *wsConn) writeControl(op byte, payload []byte) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	f := appendFrame(ws.controlOut[:0], op, payload, ws.mask)
	_, err := ws.c.Write(f)
	return err
}

// writeText writes one text message.
func (ws *wsConn) writeText(payload []byte) error {
	ws.wmu.Lock()
	defer ws.wmu.Unlock()
	ws.wbuf = appendFrame(ws.wbuf[:0], wsframe.OpText, payload, ws.mask)
	_, err := ws.c.Write(ws.wbuf)
	if cap(ws.wbuf) > 4096 {
		ws.wbuf = nil
	}
	return err
}

// appendFrame appends a final, masked client frame carrying payload.
func appendFrame(dst []byte, op byte, payload []byte, mask [4]byte) []byte {
	return wsframe.AppendFrame(dst, wsframe.Header{Fin: true, Op: op, Masked: true, Key: mask}, payload)
}
