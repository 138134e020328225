package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/roomring/roomring/api/adminapi"
	"github.com/roomring/roomring/controllers/poolclient"

	"github.com/roomring/roomring/api/v1alpha1"
	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/admin"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/kube/kubetest"
	"github.com/roomring/roomring/node/nodetest"
)

// The admin API is tested on real nodes (nodetest: dev mode with the
// sample rooms) through the operator's own client and real websocket
// clients that watch what the pool's members are told.

const token = "admin-test-token-0123456789"

func startNode(t *testing.T, mut ...func(*node.Config)) *nodetest.Node {
	t.Helper()
	named := func(cfg *node.Config) { cfg.Admin.Token, cfg.NodeName = token, "node-a" }
	return nodetest.StartWith(t, append([]func(*node.Config){named}, mut...)...)
}

// Long: one room through create, update, reject, delete over the admin API,
// each step checked on a client.
func TestRoomLifecycle(t *testing.T) {
	n := startNode(t)
	c := nodetest.AdminClient(t, token, n.Addr())
	ctx := context.Background()
	g := nodetest.Guest(t, n, "watcher")

	spec := &v1alpha1.RoomSpec{DisplayName: "Hall B", Description: "Second stage"}
	st, err := c.PutRoom(ctx, "hall-b", spec)
	if err != nil {
		t.Fatal(err)
	}
	if st.Change != "created" || st.Owner != "node-a" || st.Node != "node-a" || served(t, st).Name != "Hall B" || st.Viewers != 0 {
		t.Fatalf("PUT new room = %+v, want created, owned by node-a", st)
	}
	if rc := nodetest.Decode[nodetest.RoomConfig](t, g.Event("room.create")); rc.ID != "hall-b" || rc.Name != "Hall B" {
		t.Fatalf("room.create = %+v, want hall-b Hall B", rc)
	}

	// The same spec again changes nothing and tells nobody: the next
	// world.updated the guest gets is the one of the rename below.
	if st, err = c.PutRoom(ctx, "hall-b", spec); err != nil || st.Change != "unchanged" {
		t.Fatalf("PUT same spec = %+v, %v; want unchanged", st, err)
	}
	spec.DisplayName = "Hall B (renamed)"
	if st, err = c.PutRoom(ctx, "hall-b", spec); err != nil || st.Change != "updated" {
		t.Fatalf("PUT renamed = %+v, %v; want updated", st, err)
	}
	if w := nodetest.Decode[nodetest.WorldConfig](t, g.Event("world.updated")); w.Room("hall-b") == nil || w.Room("hall-b").Name != "Hall B (renamed)" {
		t.Fatalf("world.updated after rename = %+v, want hall-b renamed", w)
	}

	// Viewers are counted by the owner.
	g.Call("room.enter", map[string]any{"room": "hall-b"})
	g2 := nodetest.Guest(t, n, "second")
	g2.Call("room.enter", map[string]any{"room": "hall-b"})
	if st, err = c.Room(ctx, "hall-b"); err != nil || st.Viewers != 2 || st.Owner != "node-a" {
		t.Fatalf("GET = %+v, %v; want 2 viewers owned by node-a", st, err)
	}

	// New schedule data reaches the room's members as room.schedule.
	spec.ScheduleData = kubetest.Raw(t, map[string]any{"title": "Panel", "session": "s-1"})
	if _, err = c.PutRoom(ctx, "hall-b", spec); err != nil {
		t.Fatal(err)
	}
	var sched struct {
		Room         string         `json:"room"`
		ScheduleData map[string]any `json:"schedule_data"`
	}
	if err := json.Unmarshal(g.Event("room.schedule"), &sched); err != nil || sched.Room != "hall-b" || sched.ScheduleData["title"] != "Panel" {
		t.Fatalf("room.schedule = %+v (%v), want hall-b Panel", sched, err)
	}

	// A spec the catalog rejects is 422 with the catalog's message, and
	// changes nothing.
	bad := *spec
	bad.ScheduleData = kubetest.Raw(t, map[string]any{"speaker": "x"})
	_, err = c.PutRoom(ctx, "hall-b", &bad)
	if !adminapi.IsInvalid(err) || !strings.Contains(err.Error(), "speaker") {
		t.Fatalf("PUT bad schedule: %v, want 422 naming the key", err)
	}
	if st, _ := c.Room(ctx, "hall-b"); served(t, st).ScheduleData["title"] != "Panel" {
		t.Fatalf("rejected PUT changed the room: %s", st.Config)
	}

	ids, err := c.Rooms(ctx)
	if err != nil || !slices.Contains(ids, "hall-b") || !slices.Contains(ids, "room_1") {
		t.Fatalf("rooms = %v, %v; want the samples and hall-b", ids, err)
	}

	// Closing the room tells every client, members or not.
	if err := c.DeleteRoom(ctx, "hall-b"); err != nil {
		t.Fatal(err)
	}
	outsider := nodetest.Guest(t, n, "outsider")
	for _, cl := range []*nodetest.Client{g, g2} {
		if d := nodetest.Decode[map[string]string](t, cl.Event("room.delete")); d["id"] != "hall-b" {
			t.Fatalf("room.delete = %v, want hall-b", d)
		}
	}
	if code := outsider.CallErr("room.enter", map[string]any{"room": "hall-b"}); code != "room.unknown" {
		t.Fatalf("enter closed room: %s, want room.unknown", code)
	}
	if _, err := c.Room(ctx, "hall-b"); !adminapi.IsNotFound(err) {
		t.Fatalf("GET closed room: %v, want 404", err)
	}
	if err := c.DeleteRoom(ctx, "hall-b"); !adminapi.IsNotFound(err) {
		t.Fatalf("DELETE closed room: %v, want 404", err)
	}
}

func TestPool(t *testing.T) {
	a := startNode(t)
	b := startNode(t, func(c *node.Config) { c.NodeName = "node-b" })
	c := nodetest.AdminClient(t, token, a.Addr())
	ps, err := c.Pool(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	self := adminapi.Member{Name: "node-a", Addr: a.Addr()}
	if ps.Node != self || !slices.Equal(ps.Members, []adminapi.Member{self}) || ps.Incarnation == "" {
		t.Fatalf("pool = %+v, want node-a alone", ps)
	}
	pb, err := c.PoolAt(context.Background(), b.Addr())
	if err != nil || pb.Node.Name != "node-b" || pb.Incarnation == ps.Incarnation {
		t.Fatalf("pool at b = %+v, %v; want node-b with its own incarnation", pb, err)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestClientFailover(t *testing.T) {
	n := startNode(t)
	c := nodetest.AdminClient(t, token, deadAddr(t), n.Addr())
	for range 2 { // the second request goes straight to the node that answered
		st, err := c.Room(context.Background(), "room_1")
		if err != nil || served(t, st).Name != "Main Stage" {
			t.Fatalf("GET through a dead address first: %+v, %v", st, err)
		}
	}
	dead := nodetest.AdminClient(t, token, deadAddr(t))
	if _, err := dead.Pool(context.Background()); err == nil || !strings.Contains(err.Error(), "no node of the pool answered") {
		t.Fatalf("pool of dead nodes: %v", err)
	}
}

func TestClientResolvesNames(t *testing.T) {
	n := startNode(t)
	_, port, _ := net.SplitHostPort(n.Addr())
	c := nodetest.AdminClient(t, token, net.JoinHostPort("localhost", port))
	eps, err := c.Endpoints(context.Background())
	if err != nil || !slices.Contains(eps, "127.0.0.1:"+port) {
		t.Fatalf("endpoints of localhost = %v, %v; want 127.0.0.1:%s among them", eps, err, port)
	}
	if _, err := c.Pool(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func do(t *testing.T, method, url, auth, body string) (int, adminapi.Error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e adminapi.Error
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e
}

func TestHTTPErrors(t *testing.T) {
	n := startNode(t)
	off := startNode(t, func(c *node.Config) { c.Admin.Token = "" })
	base := n.HTTPURL() + adminapi.PathPrefix
	bearer := "Bearer " + token
	for _, tc := range []struct {
		name, method, url, auth, body string
		status                        int
		code                          string
	}{
		{"off", "GET", off.HTTPURL() + adminapi.PathPrefix + "pool", bearer, "", 403, adminapi.CodeDisabled},
		{"no token", "GET", base + "pool", "", "", 401, adminapi.CodeUnauthenticated},
		{"wrong token", "GET", base + "pool", "Bearer " + token + "x", "", 401, adminapi.CodeUnauthenticated},
		{"not bearer", "GET", base + "pool", "Basic " + token, "", 401, adminapi.CodeUnauthenticated},
		{"unknown endpoint", "GET", base + "nodes", bearer, "", 404, adminapi.CodeNotFound},
		{"method", "POST", base + "rooms/room_1", bearer, "{}", 405, adminapi.CodeMethod},
		{"bad id", "GET", base + "rooms/bad%20id", bearer, "", 404, "room.unknown"},
		{"unknown room", "GET", base + "rooms/nope", bearer, "", 404, "room.unknown"},
		{"bad body", "PUT", base + "rooms/x", bearer, `{"spec": 1}`, 400, adminapi.CodeBadRequest},
		{"unknown field", "PUT", base + "rooms/x", bearer, `{"spec": {"displayName": "X"}, "extra": 1}`, 400, adminapi.CodeBadRequest},
		{"empty name", "PUT", base + "rooms/x", bearer, `{"spec": {"displayName": ""}}`, 422, "config.invalid"},
		{"bad reaction", "PUT", base + "rooms/x", bearer, `{"spec": {"displayName": "X", "reactions": ["💩"]}}`, 422, "config.invalid"},
	} {
		status, e := do(t, tc.method, tc.url, tc.auth, tc.body)
		if status != tc.status || e.Code != tc.code || e.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s with a message", tc.name, status, e, tc.status, tc.code)
		}
	}
	// The websocket, probes and other routes are unaffected.
	if status, _ := do(t, "GET", n.HTTPURL()+"/healthz", "", ""); status != 200 {
		t.Fatalf("healthz: %d", status)
	}
}

func TestConfigValidate(t *testing.T) {
	short := admin.Config{Token: "short"}
	if err := short.Validate(); err == nil {
		t.Fatal("short token accepted")
	}
	cc := poolclient.DefaultConfig()
	if err := cc.Validate(); err == nil || !strings.Contains(err.Error(), "--pool is required") {
		t.Fatalf("empty client config: %v", err)
	}
	cc.Pool, cc.Token = []string{"no-port"}, token
	if err := cc.Validate(); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Fatalf("pool without port: %v", err)
	}
	cc.Pool = []string{"pool.svc:8080"}
	if err := cc.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestAdminListener: with --admin-listen the admin API answers only there;
// the client listener says 404 under /internal/ (even with the right
// token), and the admin listener serves nothing else.
func TestAdminListener(t *testing.T) {
	n := startNode(t, func(c *node.Config) { c.Admin.Listen = "127.0.0.1:0" })
	if n.AdminAddr() == n.Addr() {
		t.Fatalf("admin listener %s is the client listener", n.AdminAddr())
	}
	bearer := "Bearer " + token
	for _, tc := range []struct{ method, path, body string }{
		{"GET", "pool", ""}, {"GET", "rooms", ""}, {"GET", "rooms/room_1", ""},
		{"PUT", "rooms/hall-c", `{"spec": {"displayName": "Hall C"}}`}, {"DELETE", "rooms/room_1", ""},
	} {
		if status, e := do(t, tc.method, n.HTTPURL()+adminapi.PathPrefix+tc.path, bearer, tc.body); status != http.StatusNotFound || e.Code != "" {
			t.Errorf("%s %s on the client listener: %d %+v, want a plain 404", tc.method, tc.path, status, e)
		}
	}
	if n.Catalog().Get("hall-c") != nil {
		t.Fatal("a PUT to the client listener created the room")
	}
	if n.Catalog().Get("room_1") == nil {
		t.Fatal("a DELETE to the client listener closed the room")
	}

	// The admin listener serves the API, and reports itself as the node's
	// address; what it changes reaches the clients of the client listener.
	c := nodetest.AdminClient(t, token, n.AdminAddr())
	ps, err := c.Pool(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if self := (adminapi.Member{Name: "node-a", Addr: n.AdminAddr()}); ps.Node != self || !slices.Equal(ps.Members, []adminapi.Member{self}) {
		t.Fatalf("pool = %+v, want node-a at its admin address", ps)
	}
	g := nodetest.Guest(t, n, "watcher")
	if st, err := c.PutRoom(context.Background(), "hall-c", &v1alpha1.RoomSpec{DisplayName: "Hall C"}); err != nil || st.Change != "created" {
		t.Fatalf("PUT on the admin listener: %+v, %v", st, err)
	}
	if rc := nodetest.Decode[nodetest.RoomConfig](t, g.Event("room.create")); rc.ID != "hall-c" {
		t.Fatalf("room.create = %+v, want hall-c", rc)
	}
	if status, e := do(t, "GET", "http://"+n.AdminAddr()+adminapi.PathPrefix+"pool", "", ""); status != http.StatusUnauthorized || e.Code != adminapi.CodeUnauthenticated {
		t.Errorf("admin listener without a token: %d %+v, want 401", status, e)
	}
	for _, p := range []string{"/healthz", "/metrics", "/ws/world/default/", "/"} {
		if status, _ := do(t, "GET", "http://"+n.AdminAddr()+p, "", ""); status != http.StatusNotFound {
			t.Errorf("GET %s on the admin listener: %d, want 404", p, status)
		}
	}
	if status, _ := do(t, "GET", n.HTTPURL()+"/healthz", "", ""); status != http.StatusOK {
		t.Errorf("healthz on the client listener: %d", status)
	}

	// Shutdown closes both listeners.
	n.Stop(t)
	for _, a := range []string{n.Addr(), n.AdminAddr()} {
		if conn, err := net.Dial("tcp", a); err == nil {
			conn.Close()
			t.Errorf("%s still accepts connections after shutdown", a)
		}
	}
}

// TestAdminOnClientListenerWarns: a node with an admin token and no
// --admin-listen says that its admin API is on the client listener.
func TestAdminOnClientListenerWarns(t *testing.T) {
	const warning = "the admin API is served on the client listener"
	for _, tc := range []struct {
		name, listen string
		warn         bool
	}{{"no admin listener", "", true}, {"admin listener", "127.0.0.1:0", false}} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := nodetest.Config(t, "")
			cfg.Admin.Token, cfg.Admin.Listen = token, tc.listen
			var logs testkit.Buffer
			n, err := node.New(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(logs.String(), warning); got != tc.warn {
				t.Errorf("warned %v, want %v; logs:\n%s", got, tc.warn, logs.String())
			}
		})
	}
}

// served is the configuration a room status shows the pool serving.
func served(t *testing.T, st adminapi.RoomStatus) *catalog.Room {
	t.Helper()
	r, err := catalog.DecodeRoom(st.Config)
	if err != nil {
		t.Fatalf("room status %s: %v", st.ID, err)
	}
	return r
}
