package venueless_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node/nodetest"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func TestProbes(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	if code, body := get(t, n.HTTPURL()+"/healthz"); code != 200 || body != "ok" {
		t.Errorf("/healthz = %d %q", code, body)
	}
	if code, body := get(t, n.HTTPURL()+"/readyz"); code != 200 || body != "ready" {
		t.Errorf("/readyz = %d %q", code, body)
	}
	// The websocket endpoint: plain HTTP is a clear 400, another world 404.
	if code, body := get(t, n.HTTPURL()+"/ws/world/default/"); code != 400 || !strings.Contains(body, "websocket") {
		t.Errorf("GET /ws/world/default/ without upgrade = %d %q", code, body)
	}
	other := strings.Replace(n.URL(), "/default/", "/other/", 1)
	if _, resp, err := websocket.DefaultDialer.Dial(other, nil); err == nil || resp == nil || resp.StatusCode != 404 {
		t.Errorf("dial %s: %v, want 404", other, err)
	}
	// /ws aliases the default world.
	c := nodetest.Dial(t, "ws://"+n.Addr()+"/ws")
	c.Auth(map[string]any{"client_id": "alias"})
}

// TestMetrics checks that the node's metrics move with what clients do.
func TestMetrics(t *testing.T) {
	t.Parallel()
	n := nodetest.StartWith(t)
	const (
		conns   = `roomring_connections{dialect="venueless",world="default"}`
		enters  = `roomring_frames_in_total{action="room.enter"}`
		other   = `roomring_frames_in_total{action="other"}`
		invalid = `roomring_frames_in_total{action="invalid"}`
		unknown = `roomring_errors_total{code="room.unknown"}`
		viewers = "roomring_viewers"
		rooms   = "roomring_rooms"
	)
	m := n.Metrics(t)
	if m[rooms] != 4 || m[viewers] != 0 || m[conns] != 0 {
		t.Fatalf("fresh node: rooms %v viewers %v connections %v, want 4 0 0", m[rooms], m[viewers], m[conns])
	}
	a := nodetest.Login(t, n.URL(), "alice")
	a2 := nodetest.Login(t, n.URL(), "alice")
	b, _ := loginGuest(t, n, "bob")
	n.WaitMetric(t, conns, func(v float64) bool { return v == 3 })

	enter(t, a, "room_1")
	enter(t, a2, "room_1")
	enter(t, b, "room_1")
	enter(t, b, "lounge")
	m = n.Metrics(t)
	if m[enters] != 4 {
		t.Errorf("%s = %v, want 4", enters, m[enters])
	}
	// Distinct users per room: alice once in room_1 despite two sockets.
	if m[viewers] != 3 {
		t.Errorf("%s = %v, want 3 (alice and bob in room_1, bob in lounge)", viewers, m[viewers])
	}
	if m["roomring_rooms_active"] != 2 {
		t.Errorf("roomring_rooms_active = %v, want 2", m["roomring_rooms_active"])
	}

	a.CallErr("room.enter", map[string]any{"room": "nope"})
	a.CallErr("room.react", map[string]any{"room": "nope", "reaction": "👏"})
	a.CallErr("room.fly", map[string]any{})
	a.SendRaw("not json")
	a.Wait(wait, "error", func(f nodetest.Frame) bool { return f.Kind() == "error" && len(f) == 2 })
	m = n.Metrics(t)
	if m[unknown] != 2 || m[`roomring_errors_total{code="protocol.unknown_command"}`] != 1 ||
		m[`roomring_errors_total{code="protocol.invalid"}`] != 1 {
		t.Errorf("errors: room.unknown %v, unknown_command %v, invalid %v; want 2 1 1", m[unknown],
			m[`roomring_errors_total{code="protocol.unknown_command"}`], m[`roomring_errors_total{code="protocol.invalid"}`])
	}
	if m[enters] != 5 || m[other] != 1 || m[invalid] != 1 {
		t.Errorf("frames: room.enter %v, other %v, invalid %v; want 5 1 1", m[enters], m[other], m[invalid])
	}

	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	id := nodetest.Decode[struct{ Room string }](t, admin.Call("room.create", map[string]any{"name": "New"})).Room
	n.WaitMetric(t, rooms, func(v float64) bool { return v == 5 })
	admin.Call("room.delete", map[string]any{"room": id})
	n.WaitMetric(t, rooms, func(v float64) bool { return v == 4 })

	a.Close()
	n.WaitMetric(t, conns, func(v float64) bool { return v == 3 })
	if v := n.Metrics(t)[viewers]; v != 3 {
		t.Errorf("viewers after one of alice's sockets closed = %v, want 3", v)
	}
	a2.Close()
	b.Close()
	n.WaitMetric(t, viewers, func(v float64) bool { return v == 0 })
	n.WaitMetric(t, conns, func(v float64) bool { return v == 1 })
	if v := n.Metrics(t)["roomring_frames_out_total"]; v == 0 {
		t.Error("roomring_frames_out_total did not move")
	}
}
