package session

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// blastHandler answers "go" with senders goroutines each sending count
// frames, and "end" with "end".
type blastHandler struct {
	senders, count int
	max            int  // the frames' largest size, beyond their 16-byte header
	push           bool // Push, not Send: the frames go out by direct writes whenever the writer is idle
	closed         chan struct{}
}

// blastFrame is frame seq of sender g: its header (g, seq), then bytes
// derived from both, 16 to 16+max bytes long so that sockets fill and
// writes are cut.
func blastFrame(g, seq, max int) []byte {
	n := 16 + (g*7919+seq*104729)%max
	f := make([]byte, n)
	binary.BigEndian.PutUint64(f, uint64(g))
	binary.BigEndian.PutUint64(f[8:], uint64(seq))
	for i := 16; i < n; i++ {
		f[i] = byte(g + seq + i)
	}
	return f
}

func (h *blastHandler) HandleFrame(c Transport, frame []byte) {
	switch string(frame) {
	case "go":
		var wg sync.WaitGroup
		for g := range h.senders {
			wg.Go(func() {
				// Sender 0 sends one frame at a time; sender g, g+1
				// frames per SendFrames.
				for seq := 0; seq < h.count; {
					if g == 0 {
						if h.push {
							c.Push(blastFrame(g, seq, h.max))
						} else {
							c.Send(blastFrame(g, seq, h.max))
						}
						seq++
						continue
					}
					var batch [][]byte
					for ; seq < h.count && len(batch) <= g; seq++ {
						batch = append(batch, blastFrame(g, seq, h.max))
					}
					if h.push {
						c.PushFrames(batch)
					} else {
						c.SendFrames(batch)
					}
				}
			})
		}
		wg.Wait()
	case "end":
		c.Send([]byte("end"))
	}
}

func (h *blastHandler) RateLimited(Transport, []byte) {}
func (h *blastHandler) Closed(Transport)              { close(h.closed) }

// TestSendUnderPressure: frames sent by several goroutines at once (one
// by one, and in batches of SendFrames) while
// the client is not reading — so direct writes are cut by full socket
// buffers and the writer takes over — reach the client whole and in each
// sender's order, and the pongs the client's pings ask for are not mixed
// into them; with the epoll read path and with a reading goroutine.
// Against the session before direct writes, this passes too: it guards the
// hand-over from Send's direct write to the writer.
//
// Long: the senders, the full socket buffers and the ping stream have to
// run together; the setup and the check of every frame belong to one place.
func TestSendUnderPressure(t *testing.T) {
	// Large frames (up to 96 KiB) are written as vectors; small ones (up
	// to 2 KiB: a broadcast's size) are framed end to end into one buffer
	// and written with one write — both must survive cuts. Pushed frames
	// are not held by the cork of the activation that sends them: they go
	// out by direct writes whenever nothing is queued.
	for _, tc := range []struct {
		polled, push bool
		max, count   int
	}{
		{polled: true, max: 96 << 10, count: 150}, {polled: false, max: 96 << 10, count: 150},
		{polled: true, push: true, max: 2 << 10, count: 3000}, {polled: false, push: true, max: 2 << 10, count: 3000},
	} {
		t.Run(fmt.Sprintf("polled=%v/push=%v/max=%d", tc.polled, tc.push, tc.max), func(t *testing.T) {
			polled, count := tc.polled, tc.count
			if polled && runtime.GOOS != "linux" {
				t.Skip("epoll is Linux only")
			}
			const senders = 4
			cfg := DefaultConfig()
			cfg.WriteQueueLen = senders * count
			cfg.WriteQueueBytes = 1 << 30
			// All of the blast (~30 MB) may be queued at once, and the
			// writer writes a batch by the deadline of its oldest frame:
			// the progress deadline is not under test here, so it must not
			// depend on how fast a loaded machine reads 30 MB.
			cfg.WriteTimeout = 10 * time.Minute
			cfg.RateLimit, cfg.RateBurst = 1e6, 1e6 // the pings all along the blast
			h := &blastHandler{senders: senders, count: count, max: tc.max, push: tc.push, closed: make(chan struct{})}
			var addr string
			if tc.max < flatCutWindow {
				// Small socket buffers both ways keep the server's socket
				// nearly full, so that writes of a few small frames are
				// cut too.
				addr = serveHandlerWith(t, &cfg, h, polled, func(ws *websocket.Conn) {
					if tc, ok := ws.UnderlyingConn().(interface{ SetWriteBuffer(int) error }); ok {
						_ = tc.SetWriteBuffer(flatCutWindow)
					}
				})
			} else {
				addr = serveHandler(t, &cfg, h, polled)
			}
			dialer := *websocket.DefaultDialer
			if tc.max < flatCutWindow {
				// A small receive window keeps the server's socket nearly
				// full, so that writes of a few small frames are cut too.
				dialer.NetDial = smallWindowDial
			}
			ws, _, err := dialer.Dial("ws://"+addr+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer ws.Close()
			var pmu sync.Mutex
			pongs := map[string]bool{}
			ws.SetPongHandler(func(p string) error {
				pmu.Lock()
				pongs[p] = true
				pmu.Unlock()
				return nil
			})
			if err := ws.WriteMessage(websocket.TextMessage, []byte("go")); err != nil {
				t.Fatal(err)
			}
			// Pings all along the blast: their pongs must come between
			// frames, never inside one that a direct write began.
			reading, pinged := make(chan struct{}), make(chan int)
			go func() {
				i := 0
				defer func() { pinged <- i }()
				for {
					select {
					case <-reading:
						return
					default:
					}
					if ws.WriteControl(websocket.PingMessage, fmt.Appendf(nil, "ping-%d", i), time.Now().Add(5*time.Second)) != nil {
						return
					}
					i++
				}
			}()
			_ = ws.SetReadDeadline(time.Now().Add(30 * time.Second))
			next := make([]int, senders)
			for total := 0; total < senders*count; total++ {
				mt, got, err := ws.ReadMessage()
				if err != nil {
					t.Fatalf("after %d frames: %v", total, err)
				}
				if mt != websocket.TextMessage || len(got) < 16 {
					t.Fatalf("frame %d: type %d, %d bytes", total, mt, len(got))
				}
				g, seq := int(binary.BigEndian.Uint64(got)), int(binary.BigEndian.Uint64(got[8:]))
				if g >= senders || seq != next[g] {
					t.Fatalf("frame %d: sender %d seq %d, want seq %v", total, g, seq, next)
				}
				if !bytes.Equal(got, blastFrame(g, seq, tc.max)) {
					t.Fatalf("frame %d (sender %d seq %d) damaged", total, g, seq)
				}
				next[g]++
			}
			close(reading)
			pings := <-pinged
			if err := ws.WriteMessage(websocket.TextMessage, []byte("end")); err != nil {
				t.Fatal(err)
			}
			if _, got, err := ws.ReadMessage(); err != nil || string(got) != "end" {
				t.Fatalf("after the frames: %q, %v; want end", got, err)
			}
			// The pongs come at the latest before the close reply.
			if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Fatalf("after the client's close: %v, want a 1000 close", err)
			}
			// A pong may answer only the latest of the pings not yet
			// answered (RFC 6455 §5.5.3): the last one is answered, and
			// every pong answers a ping.
			pmu.Lock()
			defer pmu.Unlock()
			if !pongs[fmt.Sprintf("ping-%d", pings-1)] {
				t.Errorf("no pong for the last ping; pongs: %v", pongs)
			}
			for p := range pongs {
				var i int
				if _, err := fmt.Sscanf(p, "ping-%d", &i); err != nil || i >= pings {
					t.Errorf("pong %q answers no ping", p)
				}
			}
		})
	}
}

// flatCutWindow: blasts of frames smaller than this are read through a
// small receive window (smallWindowDial).
const flatCutWindow = 4 << 10

// smallWindowDial dials with a 4 KiB receive buffer.
func smallWindowDial(network, addr string) (net.Conn, error) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, flatCutWindow)
		}); err != nil {
			return err
		}
		return serr
	}}
	return d.Dial(network, addr)
}

// serveHandler runs a websocket server whose connections h serves, read
// by a Poller (polled) or by a goroutine each.
func serveHandler(t *testing.T, cfg *Config, h Handler, polled bool) string {
	t.Helper()
	return serveHandlerWith(t, cfg, h, polled, nil)
}

// serveHandlerWith is serveHandler, with setup (if any) called on each
// connection before the session takes it.
func serveHandlerWith(t *testing.T, cfg *Config, h Handler, polled bool, setup func(*websocket.Conn)) string {
	t.Helper()
	var p *Poller
	if polled {
		p = testPoller(t, 2)
	}
	return serveWS(t, func(ws *websocket.Conn) {
		if setup != nil {
			setup(ws)
		}
		New(ws, cfg, nil).Start(h, p, func() {})
	})
}

// holdHandler answers "hold" only once release is closed, as a handler
// waiting for a room's owner does; it hands its connection to conns.
type holdHandler struct {
	conns   chan Transport
	release chan struct{}
}

func (h *holdHandler) HandleFrame(c Transport, frame []byte) {
	if string(frame) == "hold" {
		h.conns <- c
		<-h.release
		c.Send([]byte("held reply"))
	}
}

func (h *holdHandler) RateLimited(Transport, []byte) {}
func (h *holdHandler) Closed(Transport)              {}

// TestPushNotHeldByCork: while an activation waits inside its handler, a
// frame pushed from elsewhere (a fan-out) reaches the client at once; the
// reply comes after it.
func TestPushNotHeldByCork(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("epoll is Linux only")
	}
	cfg := DefaultConfig()
	h := &holdHandler{conns: make(chan Transport, 1), release: make(chan struct{})}
	addr := serveHandler(t, &cfg, h, true)
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, []byte("hold")); err != nil {
		t.Fatal(err)
	}
	var c Transport
	select {
	case c = <-h.conns:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not get the frame")
	}
	defer close(h.release)
	c.Push([]byte("pushed"))
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, got, err := ws.ReadMessage(); err != nil || string(got) != "pushed" {
		t.Fatalf("while the handler waits: %q, %v; want the pushed frame", got, err)
	}
}
