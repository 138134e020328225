//go:build linux

package floor

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/wsframe"
)

// client is a minimal websocket client for the fixture's tests.
type client struct {
	c  net.Conn
	br *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	// RFC 6455's example key and its accept value.
	if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("upgrade: %s %v", resp.Status, resp.Header)
	}
	return &client{c: c, br: br}
}

func (cl *client) send(t *testing.T, payload string) {
	t.Helper()
	f := wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}},
		[]byte(payload))
	if _, err := cl.c.Write(f); err != nil {
		t.Fatal(err)
	}
}

func (cl *client) read(t *testing.T) string {
	t.Helper()
	_ = cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var hdr [wsframe.MaxHeaderLen]byte
	if _, err := io.ReadFull(cl.br, hdr[:2]); err != nil {
		t.Fatal(err)
	}
	h, _, need := wsframe.ParseHeader(hdr[:2])
	if need > 0 {
		if _, err := io.ReadFull(cl.br, hdr[2:need]); err != nil {
			t.Fatal(err)
		}
		h, _, _ = wsframe.ParseHeader(hdr[:need])
	}
	p := make([]byte, h.Len)
	if _, err := io.ReadFull(cl.br, p); err != nil {
		t.Fatal(err)
	}
	return string(p)
}

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func config() Config {
	return Config{Listen: "127.0.0.1:0", MaxConns: 10, MaxBacklog: 64 << 10, MaxFrame: 64 << 10, MaxQueued: 16}
}

// TestRequestsAndBroadcast: each request gets its venueless answer, and a
// room.schedule reaches the room's members as the request without its id,
// in order, and not a member of another room.
func TestRequestsAndBroadcast(t *testing.T) {
	s := start(t, config())
	a, b, other := dial(t, s.Addr()), dial(t, s.Addr()), dial(t, s.Addr())
	for _, cl := range []*client{a, b, other} {
		cl.send(t, `["authenticate",{"token":"x"}]`)
		if got := cl.read(t); got != `["authenticated",{}]` {
			t.Fatalf("authenticate: %s", got)
		}
	}
	a.send(t, `["room.enter",1,{"room":"big"}]`)
	b.send(t, `["room.enter",7,{"room":"big"}]`)
	other.send(t, `["room.enter",2,{"room":"small"}]`)
	for cl, want := range map[*client]string{a: `["success",1,{}]`, b: `["success",7,{}]`, other: `["success",2,{}]`} {
		if got := cl.read(t); got != want {
			t.Fatalf("room.enter: %s, want %s", got, want)
		}
	}
	a.send(t, `["nonsense",3,{}]`)
	if got := a.read(t); got != `["error",3,{"code":"floor.unknown_action"}]` {
		t.Fatalf("unknown action: %s", got)
	}
	for i := range 3 {
		b.send(t, fmt.Sprintf(`["room.schedule",%d,{"room":"big","schedule_data":{"title":"lg:%d"}}]`, 10+i, i))
	}
	var fromB []string
	for range 6 { // three replies and three pushes, interleaved
		fromB = append(fromB, b.read(t))
	}
	for i := range 3 {
		push := fmt.Sprintf(`["room.schedule",{"room":"big","schedule_data":{"title":"lg:%d"}}]`, i)
		if got := a.read(t); got != push {
			t.Fatalf("push %d to a: %s", i, got)
		}
		if !strings.Contains(strings.Join(fromB, "\n"), push) ||
			!strings.Contains(strings.Join(fromB, "\n"), fmt.Sprintf(`["success",%d,{}]`, 10+i)) {
			t.Fatalf("b got %q", fromB)
		}
	}
	other.send(t, `["room.leave",4,{"room":"small"}]`)
	if got := other.read(t); got != `["success",4,{}]` {
		t.Fatalf("room.leave: %s (a push of another room?)", got)
	}
	testkit.Eventually(t, 5*time.Second, "the fixture's counters", func() bool {
		st := s.Stats()
		return st.Conns == 3 && st.Broadcasts == 3 && st.Deliveries == 6 && st.Dropped == 0
	})
}

// TestSlowMemberIsDropped: a member that never reads is owed what its
// socket does not take, up to MaxBacklog; beyond it the connection is
// closed, and the other members keep receiving.
func TestSlowMemberIsDropped(t *testing.T) {
	s := start(t, config())
	slow, mod := dial(t, s.Addr()), dial(t, s.Addr())
	slow.send(t, `["room.enter",1,{"room":"r"}]`)
	if got := slow.read(t); got != `["success",1,{}]` {
		t.Fatalf("enter: %s", got)
	}
	mod.send(t, `["room.enter",1,{"room":"r"}]`)
	if got := mod.read(t); got != `["success",1,{}]` {
		t.Fatalf("enter: %s", got)
	}
	title := strings.Repeat("x", 60<<10)
	for i := 0; s.Stats().Dropped == 0; i++ {
		if i > 2000 {
			t.Fatalf("not dropped after %d broadcasts of 60 KiB: %v", i, s.Stats())
		}
		mod.send(t, fmt.Sprintf(`["room.schedule",%d,{"room":"r","schedule_data":{"title":"%s"}}]`, i+2, title))
		// The moderator reads its reply and its own push: it is not slow.
		for range 2 {
			if got := mod.read(t); !strings.HasPrefix(got, `["success",`) && !strings.HasPrefix(got, `["room.schedule",`) {
				t.Fatalf("moderator got %.60s", got)
			}
		}
	}
	st := s.Stats()
	if st.Backlogged == 0 || st.Dropped != 1 {
		t.Fatalf("stats %v: want short writes and one dropped connection", st)
	}
	testkit.Eventually(t, 5*time.Second, "the slow member closed", func() bool { return s.Stats().Conns == 1 })
	_ = slow.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, slow.br); err != nil && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("slow member's socket: %v", err)
	}
}
