package peer

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// The handshake authenticates both ends of a new connection with the
// cluster's peer key, by HMAC over fresh nonces (neither the key nor
// anything replayable crosses the wire):
//
//	dialer   → acceptor: magic, dialer name, dialer's advertised address, nonce D
//	acceptor → dialer:   magic, acceptor name, nonce A, HMAC(k, "acceptor" ‖ D ‖ A ‖ names)
//	dialer   → acceptor: HMAC(k, "dialer" ‖ A ‖ D ‖ names)
//	acceptor → dialer:   one byte, accepted
//
// Each side checks the other's MAC before trusting a single frame; the
// dialer also checks that it reached the node it meant to (an address can
// be reused by another node after a restart).
const (
	magic      = "RRPL\x01"
	nonceLen   = 32
	maxName    = 255
	acceptByte = 0xAC
)

// ErrAuth is a handshake that failed authentication: the other side does
// not hold the cluster key, or is not the node that was expected.
var ErrAuth = errors.New("peer authentication failed")

type hello struct {
	name, addr string
	nonce      []byte
}

func writeString(w *bytes.Buffer, s string) {
	w.WriteByte(byte(len(s)))
	w.WriteString(s)
}

func readString(r io.Reader) (string, error) {
	var n [1]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return "", err
	}
	b := make([]byte, n[0])
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func readMagic(r io.Reader) error {
	b := make([]byte, len(magic))
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	if string(b) != magic {
		return fmt.Errorf("%w: not a roomring peer (bad magic)", ErrAuth)
	}
	return nil
}

func nonce() ([]byte, error) {
	b := make([]byte, nonceLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("handshake nonce: %w", err)
	}
	return b, nil
}

// proof is the MAC one side sends: role, both nonces (own peer's first)
// and both names, each length-prefixed so no two inputs concatenate alike.
func proof(key []byte, role string, first, second []byte, dialer, acceptor string) []byte {
	h := hmac.New(sha256.New, key)
	for _, part := range [][]byte{[]byte(role), first, second, []byte(dialer), []byte(acceptor)} {
		var l [4]byte
		binary.BigEndian.PutUint32(l[:], uint32(len(part)))
		h.Write(l[:])
		h.Write(part)
	}
	return h.Sum(nil)
}

// dialHandshake authenticates an outbound connection to the node named
// want, announcing self and selfAddr.
func dialHandshake(c net.Conn, key []byte, self, selfAddr, want string, timeout time.Duration) error {
	_ = c.SetDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	nd, err := nonce()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.WriteString(magic)
	writeString(&b, self)
	writeString(&b, selfAddr)
	b.Write(nd)
	if _, err := c.Write(b.Bytes()); err != nil {
		return fmt.Errorf("send hello: %w", err)
	}
	if err := readMagic(c); err != nil {
		return err
	}
	name, err := readString(c)
	if err != nil {
		return fmt.Errorf("read acceptor name: %w", err)
	}
	na := make([]byte, nonceLen)
	mac := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, na); err != nil {
		return fmt.Errorf("read acceptor nonce: %w", err)
	}
	if _, err := io.ReadFull(c, mac); err != nil {
		return fmt.Errorf("read acceptor proof: %w", err)
	}
	if !hmac.Equal(mac, proof(key, "acceptor", nd, na, self, name)) {
		return fmt.Errorf("%w: acceptor %q does not hold the cluster key", ErrAuth, name)
	}
	if name != want {
		return fmt.Errorf("%w: reached %q, wanted %q", ErrAuth, name, want)
	}
	if _, err := c.Write(proof(key, "dialer", na, nd, self, name)); err != nil {
		return fmt.Errorf("send proof: %w", err)
	}
	var ok [1]byte
	if _, err := io.ReadFull(c, ok[:]); err != nil || ok[0] != acceptByte {
		return fmt.Errorf("%w: %q refused this node's proof", ErrAuth, name)
	}
	return nil
}

// acceptHandshake authenticates an inbound connection and returns the
// dialer's name and advertised address.
func acceptHandshake(c net.Conn, key []byte, self string, timeout time.Duration) (hello, error) {
	_ = c.SetDeadline(time.Now().Add(timeout))
	defer func() { _ = c.SetDeadline(time.Time{}) }()
	if err := readMagic(c); err != nil {
		return hello{}, err
	}
	var h hello
	var err error
	if h.name, err = readString(c); err != nil {
		return hello{}, fmt.Errorf("read dialer name: %w", err)
	}
	if h.addr, err = readString(c); err != nil {
		return hello{}, fmt.Errorf("read dialer address: %w", err)
	}
	h.nonce = make([]byte, nonceLen)
	if _, err := io.ReadFull(c, h.nonce); err != nil {
		return hello{}, fmt.Errorf("read dialer nonce: %w", err)
	}
	na, err := nonce()
	if err != nil {
		return hello{}, err
	}
	var b bytes.Buffer
	b.WriteString(magic)
	writeString(&b, self)
	b.Write(na)
	b.Write(proof(key, "acceptor", h.nonce, na, h.name, self))
	if _, err := c.Write(b.Bytes()); err != nil {
		return hello{}, fmt.Errorf("send challenge: %w", err)
	}
	mac := make([]byte, sha256.Size)
	if _, err := io.ReadFull(c, mac); err != nil {
		return hello{}, fmt.Errorf("%w: %q sent no proof: %v", ErrAuth, h.name, err)
	}
	if !hmac.Equal(mac, proof(key, "dialer", na, h.nonce, h.name, self)) {
		return hello{}, fmt.Errorf("%w: dialer %q does not hold the cluster key", ErrAuth, h.name)
	}
	if _, err := c.Write([]byte{acceptByte}); err != nil {
		return hello{}, fmt.Errorf("send accept: %w", err)
	}
	return h, nil
}
