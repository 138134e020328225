package wsframe

import (
	"bytes"
	"errors"
	"testing"
)

func clientFrame(fin bool, op Opcode, payload []byte) []byte {
	return AppendFrame(nil, Header{Fin: fin, Op: op, Masked: true, Key: [4]byte{1, 2, 3, 4}}, payload)
}

func TestTextHeader(t *testing.T) {
	for n, want := range map[int][]byte{
		0:     {0x81, 0},
		125:   {0x81, 125},
		126:   {0x81, 126, 0, 126},
		65535: {0x81, 126, 0xFF, 0xFF},
		65536: {0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0},
	} {
		if got := AppendTextHeader(nil, n); !bytes.Equal(got, want) {
			t.Errorf("header of %d bytes = %x, want %x", n, got, want)
		}
		if got := TextHeaderLen(n); got != len(want) {
			t.Errorf("TextHeaderLen(%d) = %d, want %d", n, got, len(want))
		}
	}
}

func TestAppendHeader(t *testing.T) {
	key := [4]byte{9, 8, 7, 6}
	for _, tc := range []struct {
		h    Header
		want []byte
	}{
		{Header{Op: OpText}, []byte{0x01, 0}},
		{Header{Fin: true, Op: OpPong, Len: 3}, []byte{0x8A, 3}},
		{Header{Fin: true, Op: OpBinary, Masked: true, Key: key, Len: 126}, []byte{0x82, 0x80 | 126, 0, 126, 9, 8, 7, 6}},
		{Header{Fin: true, Op: OpClose, Masked: true, Key: key, Len: 1 << 32}, []byte{0x88, 0x80 | 127, 0, 0, 0, 1, 0, 0, 0, 0, 9, 8, 7, 6}},
	} {
		got := AppendHeader(nil, tc.h)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%+v: %x, want %x", tc.h, got, tc.want)
		}
		h, size, need := ParseHeader(got)
		if need != 0 || size != len(got) || h != tc.h {
			t.Errorf("%x parsed: %+v size %d need %d", got, h, size, need)
		}
	}
}

// TestParse: frames of each length encoding, cut anywhere, ask for more
// bytes; whole, they parse (unmasked); bad frames are protocol errors; an
// oversized frame is ErrTooBig before its payload is read.
func TestParse(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 70_000)
	for _, p := range [][]byte{nil, []byte("hi"), bytes.Repeat([]byte("y"), 126), big} {
		b := clientFrame(true, OpText, p)
		for cut := 0; cut < len(b); cut += max(1, len(b)/7) {
			if _, n, need, err := Parse(b[:cut], true, 1<<20); err != nil || n != 0 || need <= cut {
				t.Fatalf("%d of %d bytes: n %d need %d err %v", cut, len(b), n, need, err)
			}
		}
		f, n, need, err := Parse(append(b, 0x81), true, 1<<20)
		if err != nil || need != 0 || n != len(b) || !f.Fin || f.Op != OpText || !bytes.Equal(f.Payload, p) {
			t.Fatalf("%d-byte frame: n %d need %d err %v, payload %d bytes", len(p), n, need, err, len(f.Payload))
		}
	}
	for name, b := range map[string][]byte{
		"unmasked":             {0x81, 0x02, 'h', 'i'},
		"reserved bit":         {0xC1, 0x80, 0, 0, 0, 0},
		"unknown opcode":       {0x83, 0x80, 0, 0, 0, 0},
		"opcode above pong":    {0x8B, 0x80, 0, 0, 0, 0},
		"fragmented control":   {0x09, 0x80, 0, 0, 0, 0},
		"long control payload": append([]byte{0x89, 0x80 | 126, 0, 200}, make([]byte, 4+200)...),
	} {
		if _, _, _, err := Parse(b, true, 1<<20); !errors.Is(err, ErrProtocol) {
			t.Errorf("%s: %v, want a protocol error", name, err)
		}
	}
	if _, _, _, err := Parse(clientFrame(true, OpText, []byte("hi")), false, 1<<20); !errors.Is(err, ErrProtocol) {
		t.Errorf("masked frame from a server: %v, want a protocol error", err)
	}
	if f, n, _, err := Parse([]byte{0x89, 2, 'h', 'i'}, false, 1<<20); err != nil || n != 4 || f.Op != OpPing || string(f.Payload) != "hi" {
		t.Errorf("server ping: %+v n %d err %v", f, n, err)
	}
	if _, _, _, err := Parse(clientFrame(true, OpText, big)[:20], true, 1000); !errors.Is(err, ErrTooBig) {
		t.Errorf("oversized frame: %v, want ErrTooBig before its payload is read", err)
	}
}

func TestMask(t *testing.T) {
	key := [4]byte{0xA, 0xB, 0xC, 0xD}
	p := []byte("hello, websocket")
	b := bytes.Clone(p)
	Mask(b[:5], key, 0)
	Mask(b[5:], key, 5) // in two pieces, as a frame read in two reads
	whole := bytes.Clone(p)
	Mask(whole, key, 0)
	if !bytes.Equal(b, whole) {
		t.Fatalf("masked in pieces %x, at once %x", b, whole)
	}
	Mask(b, key, 0)
	if !bytes.Equal(b, p) {
		t.Fatalf("unmasked %q, want %q", b, p)
	}
}

func TestClosePayload(t *testing.T) {
	if got := ClosePayload(CloseMessageTooBig, "frame too big"); !bytes.Equal(got, append([]byte{0x03, 0xF1}, "frame too big"...)) {
		t.Errorf("close payload %x", got)
	}
	if got := ClosePayload(CloseNoStatus, "x"); got == nil || len(got) != 0 {
		t.Errorf("no-status close payload %x, want empty", got)
	}
}

// FuzzParse: whatever the bytes, Parse does not panic and takes no more
// than it was given; a frame it parses builds back (in the shortest length
// encoding) to bytes that parse to the same frame.
func FuzzParse(f *testing.F) {
	f.Add(clientFrame(true, OpText, []byte("hello")), true)
	f.Add(clientFrame(false, OpContinuation, bytes.Repeat([]byte("z"), 300)), true)
	f.Add([]byte{0x89, 2, 'h', 'i'}, false)
	f.Add([]byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}, false)
	f.Fuzz(func(t *testing.T, b []byte, masked bool) {
		orig := bytes.Clone(b)
		fr, n, need, err := Parse(b, masked, 1<<16)
		switch {
		case err != nil:
			return
		case need > 0:
			if n != 0 || need <= len(b) {
				t.Fatalf("need %d with %d bytes (n %d)", need, len(b), n)
			}
			return
		case n > len(b):
			t.Fatalf("took %d of %d bytes", n, len(b))
		}
		payload := bytes.Clone(fr.Payload)
		back := AppendFrame(nil, fr.Header, payload)
		again, m, _, err := Parse(back, masked, 1<<16)
		if err != nil || m != len(back) || again.Header != fr.Header || !bytes.Equal(again.Payload, payload) {
			t.Fatalf("%x built back as %x: %+v, %v", orig[:n], back, again, err)
		}
	})
}

// TestNoAllocations: parsing a frame and framing a header into a buffer
// with room allocate nothing (the node does both per frame).
func TestNoAllocations(t *testing.T) {
	b := clientFrame(true, OpText, bytes.Repeat([]byte("p"), 300))
	hdr := make([]byte, 0, MaxHeaderLen)
	if n := testing.AllocsPerRun(100, func() {
		if _, _, _, err := Parse(b, true, 1<<20); err != nil {
			t.Fatal(err)
		}
		hdr = AppendTextHeader(hdr[:0], 70_000)
	}); n != 0 {
		t.Errorf("%v allocations per frame, want 0", n)
	}
}
