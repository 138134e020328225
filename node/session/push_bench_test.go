//go:build linux

package session

import (
	"io"
	"net"
	"testing"

	"github.com/fasthttp/websocket"
)

// BenchmarkPushPolled: a broadcast frame pushed to a polled connection
// whose client drains its socket: the direct write of a fan-out, one
// writev per frame (the system call is most of it; what is around it is
// what the bare descriptor saves).
func BenchmarkPushPolled(b *testing.B) {
	cfg := DefaultConfig()
	p := testPoller(b, 1)
	conns := make(chan *Conn, 1)
	addr := serveWS(b, func(ws *websocket.Conn) {
		c := New(ws, &cfg, nil)
		c.Start(nopHandler{}, p, func() {})
		conns <- c
	})
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	if _, _, err := websocket.NewClient(nc, mustURL("ws://"+addr+"/"), nil, 1024, 1024); err != nil {
		b.Fatal(err)
	}
	go func() { _, _ = io.Copy(io.Discard, nc) }()
	c := <-conns
	frame := []byte(`["room.schedule",{"room":"lg-big","schedule_data":{"session":"a talk"}}]`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		c.Push(frame)
	}
}
