package venueless_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/session"
	"github.com/roomring/roomring/node/wsframe"
)

// rawDial opens a websocket whose TCP connection the test also reads and
// writes itself; rcvbuf > 0 shrinks the client's receive buffer.
func rawDial(t *testing.T, url string, rcvbuf int) (*websocket.Conn, net.Conn) {
	t.Helper()
	var raw net.Conn
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var nd net.Dialer
		if rcvbuf > 0 {
			nd.Control = func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) {
					serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
				})
				return errors.Join(err, serr)
			}
		}
		c, err := nd.DialContext(ctx, network, addr)
		raw = c
		return c, err
	}}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	return ws, raw
}

// maskedText is a client's text frame.
func maskedText(payload string) []byte {
	return wsframe.AppendFrame(nil, wsframe.Header{Fin: true, Op: wsframe.OpText, Masked: true, Key: [4]byte{1, 2, 3, 4}}, []byte(payload))
}

// TestBurstInOneWriteIsAnswered: 300 frames in one TCP write are answered
// within the rate (--rate-burst pongs), then with protocol.rate_limited up
// to --rate-limited-answers, the rest dropped; the connection survives and
// recovers.
func TestBurstInOneWriteIsAnswered(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	ws, raw := rawDial(t, n.URL(), 0)
	var burst []byte
	for i := range 300 {
		burst = append(burst, maskedText(fmt.Sprintf(`["ping", %d]`, i))...)
	}
	if _, err := raw.Write(burst); err != nil {
		t.Fatal(err)
	}
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	var pongs, limited int
	var stop atomic.Bool
	defer stop.Store(true)
	var wmu sync.Mutex
	ping := func(payload string) {
		wmu.Lock()
		defer wmu.Unlock()
		_ = ws.WriteMessage(websocket.TextMessage, []byte(`["ping", "`+payload+`"]`))
	}
	// Once the burst is answered, ask again until a token has refilled.
	for recovered := false; !recovered; {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("after %d pongs and %d rate_limited: %v", pongs, limited, err)
		}
		switch s := string(msg); {
		case s == `["pong","again"]`:
			recovered = true
		case strings.Contains(s, `"again"`):
			t.Fatalf("a repeat was answered with %s", s)
		case strings.HasPrefix(s, `["pong"`):
			pongs++
		case strings.Contains(s, `"protocol.rate_limited"`):
			limited++
			if limited == session.DefaultConfig().RateAnswers {
				go func() { // until a token has refilled: a frame over the limit now is dropped
					for i := 0; i < 100 && !stop.Load(); i++ {
						ping("again")
						time.Sleep(100 * time.Millisecond) // the poll interval
					}
				}()
			}
		default:
			t.Fatalf("unexpected %s", s)
		}
	}
	def := session.DefaultConfig()
	if pongs < def.RateBurst || pongs > def.RateBurst+10 || limited < def.RateAnswers {
		t.Fatalf("%d pongs, %d rate_limited; want about %d and at least %d", pongs, limited, def.RateBurst, def.RateAnswers)
	}
	if limited > def.RateAnswers+20 { // the answers' budget drains a little while the burst is read
		t.Fatalf("%d rate_limited answers, want the excess dropped beyond about %d", limited, def.RateAnswers)
	}
}

// TestFloodClosed: a client that keeps sending over its rate (more than
// --rate-flood frames over it) is closed with 1008.
func TestFloodClosed(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) { c.Session.RateFlood = 200 })
	ws, raw := rawDial(t, n.URL(), 0)
	var burst []byte
	for range 100 {
		burst = append(burst, maskedText(`["ping", 1]`)...)
	}
	go func() { // write until the node closes the socket
		for range 100 {
			if _, err := raw.Write(burst); err != nil {
				return
			}
		}
	}()
	_ = ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation || ce.Text != "rate limit exceeded" {
			t.Fatalf("flooding client: %v, want close 1008 rate limit exceeded", err)
		}
		return
	}
}

// TestWriteQueueBoundedInBytes: a client that never reads is closed as a
// slow consumer once --write-queue-bytes are queued for it, long before
// the frame bound.
func TestWriteQueueBoundedInBytes(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.Session.WriteQueueLen, c.Session.WriteQueueBytes = 100000, 256<<10
		c.Session.RateLimit, c.Session.RateBurst = 10000, 10000
	})
	ws, _ := rawDial(t, n.URL(), 4096)
	ping := []byte(`["ping", "` + strings.Repeat("p", 16<<10) + `"]`)
	sent := 0
	for ; sent < 5000; sent++ {
		if err := ws.WriteMessage(websocket.TextMessage, ping); err != nil {
			break // the node dropped the connection
		}
		if sent%16 == 15 && n.Metrics(t)["roomring_slow_consumers_total"] >= 1 {
			break
		}
	}
	n.WaitMetric(t, "roomring_slow_consumers_total", func(v float64) bool { return v == 1 })
	// 256 KiB of queue plus the socket buffers (the node's send buffer
	// grows to 4 MiB on Linux), not the 100000 frames of --write-queue.
	if sent*16<<10 > 256<<10+8<<20 {
		t.Fatalf("slow consumer closed after %d pongs of 16 KiB, want within the byte bound", sent)
	}
	n.WaitMetric(t, `roomring_connections{dialect="venueless",world="default"}`, func(v float64) bool { return v == 0 })
}

// TestTrickleReaderClosed: a client that reads its replies in trickles is
// closed as a slow consumer once a queued frame has waited --write-timeout:
// partial progress does not renew the deadline. The proof is what the
// reader got before the close — a small part of what was queued for it
// (16 MiB of queue would let it trickle on for minutes) — not how long it
// took, which depends on the machine's load.
func TestTrickleReaderClosed(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t, func(c *node.Config) {
		c.Session.WriteTimeout = 500 * time.Millisecond
		c.Session.WriteQueueBytes = 16 << 20
		c.Session.RateLimit, c.Session.RateBurst = 10000, 10000
	})
	ws, raw := rawDial(t, n.URL(), 4096)
	ping := []byte(`["ping", "` + strings.Repeat("t", 32<<10) + `"]`)
	ended := make(chan int, 1)
	go func() {
		buf := make([]byte, 512)
		got := 0
		for { // 512 bytes per 20 ms: ~25 KiB/s, minutes for what is queued
			_ = raw.SetReadDeadline(time.Now().Add(trickleGiveUp))
			k, err := raw.Read(buf)
			got += k
			if err != nil {
				ended <- got
				return
			}
			time.Sleep(20 * time.Millisecond) // the trickle: the client's reading pace, not a wait for a condition
		}
	}()
	sent := 0
	for range 300 { // ~10 MiB of pongs: more than the socket buffers hold
		if err := ws.WriteMessage(websocket.TextMessage, ping); err != nil {
			break // already dropped as a slow consumer
		}
		sent++
	}
	select {
	case got := <-ended:
		if queued := sent * len(ping); got >= queued/2 {
			t.Fatalf("trickle reader read %d of the %d bytes answered before it was closed: it was not dropped as slow", got, queued)
		}
	case <-time.After(trickleGiveUp):
		t.Fatal("trickle reader still connected")
	}
	n.WaitMetric(t, "roomring_slow_consumers_total", func(v float64) bool { return v == 1 })
}

// trickleGiveUp is when TestTrickleReaderClosed stops waiting for the
// close (it comes about a second in on an idle machine): long enough for a
// loaded machine, far shorter than the minutes the trickle would take to
// read what was queued if the node did not drop it.
const trickleGiveUp = time.Minute

// TestInvalidUTF8Closes1007: a text frame that is not UTF-8 closes the
// connection with 1007 instead of being echoed, read from epoll or from a
// goroutine.
func TestInvalidUTF8Closes1007(t *testing.T) {
	t.Parallel()
	for _, epoll := range []bool{true, false} {
		n := nodetest.StartWith(t, func(c *node.Config) { c.Session.Epoll = epoll })
		ws, _ := rawDial(t, n.URL(), 0)
		if err := ws.WriteMessage(websocket.TextMessage, []byte("[\"ping\", \"\xff\xfe\"]")); err != nil {
			t.Fatal(err)
		}
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		_, msg, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseInvalidFramePayloadData {
			t.Fatalf("epoll=%v: got %q, %v; want close 1007", epoll, msg, err)
		}
	}
}
