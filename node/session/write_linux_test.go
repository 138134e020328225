//go:build linux

package session

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"net"
	"syscall"
	"testing"

	"github.com/roomring/roomring/node/wsframe"
)

// TestTryWriteCuts: direct writes into a socket with little room, of
// small frames (framed end to end into one buffer, one write) and large
// ones (a vector of headers and payloads), are cut wherever the socket
// stops taking bytes — inside a header, inside a payload, between frames —
// and what went out plus the rest tryWrite returns is every frame framed,
// in order, byte for byte. (TCP takes a small write whole or not at all
// nearly always, so the cuts are mostly the vectors'; the accounting of a
// cut is the same code for both.)
func TestTryWriteCuts(t *testing.T) {
	p := tcpPair(t) // TCP takes part of a write when it has room for part (a unix socket would not)
	if err := syscall.SetsockoptInt(p[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	w := &writer{fd: int32(p[0])}
	rng := rand.New(rand.NewPCG(1, 2))
	var want, got bytes.Buffer
	buf := make([]byte, 64<<10)
	drain := func(most int) {
		for most > 0 {
			n, err := syscall.Read(p[1], buf[:min(most, len(buf))])
			if errors.Is(err, syscall.EAGAIN) || n <= 0 {
				return
			}
			got.Write(buf[:n])
			most -= n
		}
	}
	writeAll := func(b []byte) { // as the writer goroutine writes a rest
		for len(b) > 0 {
			n, err := syscall.Write(p[0], b)
			if n > 0 {
				b = b[n:]
			}
			if err != nil && !errors.Is(err, syscall.EAGAIN) {
				t.Fatal(err)
			}
			drain(len(buf))
		}
	}
	cuts := 0
	for round := range 400 {
		frames := make([][]byte, 1+rng.IntN(8))
		for i := range frames {
			size := rng.IntN(300) // a broadcast's size: the flat path
			if round%4 == 0 {
				size = rng.IntN(70_000) // beyond flatMax, some beyond 64 KiB: the vector path, 10-byte headers
			}
			frames[i] = make([]byte, size)
			for j := range frames[i] {
				frames[i][j] = byte(round + i + j)
			}
			want.Write(wsframe.AppendTextHeader(nil, size))
			want.Write(frames[i])
		}
		for len(frames) > 0 {
			whole, rest := w.tryWrite(frames)
			frames = frames[whole:]
			if rest != nil {
				cuts++
				writeAll(rest)
				frames = frames[1:]
			}
			drain(rng.IntN(3000)) // leave the socket some room, or none
		}
	}
	drain(1 << 30)
	if cuts == 0 {
		t.Fatal("no write was cut: the test did not exercise what it is for")
	}
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("read %d bytes, want %d; first difference at %d", got.Len(), want.Len(), firstDiff(got.Bytes(), want.Bytes()))
	}
}

// tcpPair returns the non-blocking descriptors of both ends of a loopback
// TCP connection; the test closes them.
func tcpPair(t *testing.T) [2]int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var p [2]int
	for i, conn := range []net.Conn{s, c} {
		f, err := conn.(*net.TCPConn).File() // a duplicate, in blocking mode
		if err != nil {
			t.Fatal(err)
		}
		p[i], err = syscall.Dup(int(f.Fd()))
		_ = f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.SetNonblock(p[i], true); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { _ = syscall.Close(p[0]); _ = syscall.Close(p[1]) })
	return p
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
