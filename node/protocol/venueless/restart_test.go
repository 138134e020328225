package venueless_test

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/node/nodetest"
)

// TestRestartKeepsState: everything changed over the websocket is in the
// store; a node restarted on the same --data-dir serves it. The restarted
// node loads the same --rooms file (the sample rooms, --dev) again: rooms
// whose manifest did not change keep their patches, order and schedule
// data, and a deleted one stays deleted.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	n := nodetest.Start(t, nodetest.Config(t, dir))
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": "Renamed", "allowed_reactions": []string{"👍"}})
	admin.Call("room.config.reorder", []string{"backstage", "lounge"})
	enter(t, admin, "workshop-a")
	admin.Call("room.schedule", map[string]any{"room": "workshop-a", "schedule_data": map[string]any{"title": "After", "session": 7}})
	created := nodetest.Decode[struct{ Room string }](t, admin.Call("room.create", map[string]any{"name": "Hall X"})).Room
	admin.Call("room.delete", map[string]any{"room": "lounge"})
	code := inviteCode(t, admin, "room_1")
	before := configList(t, admin)
	n.Stop(t)

	n2 := nodetest.Start(t, nodetest.Config(t, dir))
	admin = nodetest.Login(t, n2.URL(), "admin", "admin")
	after := configList(t, admin)
	if want := []string{"backstage", "room_1", "workshop-a", created}; !slices.Equal(roomIDs(after), want) {
		t.Fatalf("rooms after restart = %v, want %v", roomIDs(after), want)
	}
	for i := range after {
		if a, b := after[i], before[i]; a.ID != b.ID || a.Name != b.Name || a.SortingPriority != b.SortingPriority ||
			!slices.Equal(a.AllowedReactions, b.AllowedReactions) || len(a.ScheduleData) != len(b.ScheduleData) {
			t.Errorf("room %s after restart = %+v, before %+v", a.ID, a, b)
		}
	}
	if r := after[1]; r.Name != "Renamed" || !slices.Equal(r.AllowedReactions, []string{"👍"}) {
		t.Errorf("room_1 after restart = %+v, want the patch kept", r)
	}
	if r := after[2]; r.ScheduleData["title"] != "After" || r.ScheduleData["session"] != float64(7) {
		t.Errorf("workshop-a schedule after restart = %v", r.ScheduleData)
	}
	if got := inviteCode(t, admin, "room_1"); got != code {
		t.Errorf("invite link after restart = %s, want the same code %s", got, code)
	}
	inv := nodetest.Dial(t, n2.URL())
	a := nodetest.Decode[authenticated](t, inv.Auth(map[string]any{"client_id": "kiosk", "invite_token": code}))
	if !slices.Equal(a.World.ids(), []string{"room_1"}) {
		t.Fatalf("invitee after restart sees %v, want room_1", a.World.ids())
	}
	if c := inv.CallErr("room.react", map[string]any{"room": "room_1", "reaction": "👏"}); c != "room.unknown_reaction" {
		t.Errorf("👏 in room_1 after restart: code %q, want room.unknown_reaction (patched set kept)", c)
	}
	if c := admin.CallErr("room.enter", map[string]any{"room": "lounge"}); c != "room.unknown" {
		t.Errorf("entering the deleted room after restart: code %q, want room.unknown", c)
	}
	enter(t, admin, created)
}

// TestRestartAppliesChangedManifest: a node restarted with a --rooms file
// in which one room's manifest changed replaces that room's configuration
// with the new manifest and leaves the others as the websocket left them.
func TestRestartAppliesChangedManifest(t *testing.T) {
	t.Parallel()
	samples, err := os.ReadFile(filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "rooms.yaml")
	if err := os.WriteFile(file, samples, 0o600); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := nodetest.Config(t, dir)
	cfg.RoomsFile = file
	n := nodetest.Start(t, cfg)
	admin := nodetest.Login(t, n.URL(), "admin", "admin")
	admin.Call("room.config.patch", map[string]any{"room": "room_1", "name": "Renamed"})
	admin.Call("room.config.patch", map[string]any{"room": "workshop-a", "name": "Workshop Renamed", "description": "patched"})
	admin.Call("room.delete", map[string]any{"room": "lounge"})
	n.Stop(t)

	const was, now = "description: Hands-on sessions.", "description: Hands-on sessions, bring a laptop."
	changed := strings.Replace(string(samples), was, now, 1)
	if changed == string(samples) {
		t.Fatalf("the sample rooms no longer contain %q", was)
	}
	if err := os.WriteFile(file, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	n2 := nodetest.Start(t, cfg)
	admin = nodetest.Login(t, n2.URL(), "admin", "admin")
	rooms := map[string]adminRoom{}
	for _, r := range configList(t, admin) {
		rooms[r.ID] = r
	}
	if r := rooms["workshop-a"]; r.Name != "Workshop A" || r.Description != "Hands-on sessions, bring a laptop." {
		t.Errorf("workshop-a after restart = %+v, want its new manifest", r)
	}
	if r := rooms["room_1"]; r.Name != "Renamed" {
		t.Errorf("room_1 after restart = %+v, want the patch kept (its manifest did not change)", r)
	}
	if _, ok := rooms["lounge"]; ok {
		t.Error("the deleted lounge is back, though its manifest did not change")
	}
}

var listening = regexp.MustCompile(`msg="node listening" addr=(\S+)`)

// TestGracefulShutdown runs bin/roomring as a real process: SIGTERM closes
// every socket with 1001 (going away) and the process exits 0, without
// waiting for a TCP connection that stopped halfway through its request
// headers beyond --http-read-timeout.
func TestGracefulShutdown(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "roomring")
	build := exec.Command(goTool(), "build", "-o", bin, ".")
	build.Dir = nodetest.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "node", "--dev", "--listen", "127.0.0.1:0", "--data-dir", t.TempDir(),
		"--rooms", filepath.Join(nodetest.RepoRoot(), "config", "samples", "rooms.yaml"), "--jwt-secret", nodetest.Secret,
		"--http-read-timeout", "1s", "--shutdown-timeout", "15s")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a no-op once it exited
	var url string
	var half net.Conn
	select {
	case a := <-addr:
		url = "ws://" + a + "/ws/world/default/"
		// Dialed before the websockets, so accepted before they are.
		if half, err = net.Dial("tcp", a); err != nil {
			t.Fatal(err)
		}
		defer half.Close()
		if _, err := io.WriteString(half, "GET /healthz HTTP/1.1\r\n"); err != nil {
			t.Fatal(err)
		}
	case err := <-exited:
		t.Fatalf("node exited before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("node did not report its address")
	}

	member := nodetest.Dial(t, url)
	member.Auth(map[string]any{"token": nodetest.Token(t, "alice", nil, nil)})
	enter(t, member, "room_1")
	idle := nodetest.Dial(t, url) // not authenticated
	idle.SendRaw(`["ping", 1]`)
	idle.Wait(wait, "pong", func(f nodetest.Frame) bool { return f.Kind() == "pong" })

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]*nodetest.Client{"member": member, "unauthenticated": idle} {
		if err := c.Closed(10 * time.Second); closeCode(err) != websocket.CloseGoingAway {
			t.Errorf("%s: %v, want close 1001", name, err)
		}
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("node exit: %v, want status 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("node did not exit after SIGTERM")
	}
}

// goTool is the go command of the toolchain running the tests.
func goTool() string {
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"); fileExists(p) {
		return p
	}
	return "go"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
