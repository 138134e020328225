package cluster_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/cluster/ring"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/nodetest/nodeproc"
)

// The failover measurement (docs/benchmarks.md, "Failover in a
// heartbeat"): not a test, a command that prints figures.
//
//	ROOMRING_FAILOVER_RUNS=10 go test -run TestFailoverMeasure -v -timeout 60m ./node/cluster/
//
// ROOMRING_FAILOVER_MODES picks modes (default kill,gossip,stop).

// failoverMode is one way of losing the owner.
type failoverMode struct {
	key, name string
	sig       syscall.Signal
	flags     []string // added to every node's
}

var failoverModes = []failoverMode{
	{key: "kill", name: "SIGKILL, fast failover (default)", sig: syscall.SIGKILL},
	{key: "gossip", name: "SIGKILL, gossip only (--fast-failover=false)", sig: syscall.SIGKILL, flags: []string{"--fast-failover=false"}},
	{key: "stop", name: "SIGSTOP (nothing resets), fast failover", sig: syscall.SIGSTOP},
}

// measureFlags put back the production defaults of everything failover
// depends on over the tests' fast clock (nodeproc.FastFlags), and lift the
// per-connection rate limit for the reacting clients.
var measureFlags = []string{
	"--gossip-probe-interval=500ms", "--gossip-probe-timeout=200ms", "--gossip-suspicion-mult=2",
	"--gossip-interval=200ms", "--gossip-push-pull-interval=15s",
	"--peer-reconnect-min=50ms", "--peer-reconnect-max=2s", "--resync-retry=500ms",
	"--rate-limit=200", "--rate-burst=400",
}

const (
	measureRooms     = 6 // rooms measured per kill, at least victimRooms on the victim
	victimRooms      = 3
	measureUsers     = 6 // reacting users per surviving node: 30 (user, emoji) pairs
	measureReactTick = 100 * time.Millisecond
)

// TestFailoverMeasure kills (or stops) the owner of rooms in a cluster of
// three, N times per mode, while users on the two survivors react in
// every room every 100 ms, and prints, per mode, the median and worst time
// from the signal until every room has delivered room.reaction again to
// both survivors (the 1 s aggregation window included).
func TestFailoverMeasure(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("ROOMRING_FAILOVER_RUNS"))
	if runs <= 0 {
		t.Skip("a measurement: ROOMRING_FAILOVER_RUNS=10 go test -run TestFailoverMeasure -v ./node/cluster/")
	}
	keys := strings.Split(os.Getenv("ROOMRING_FAILOVER_MODES"), ",")
	var report []string
	for _, m := range failoverModes {
		if keys[0] != "" && !slices.Contains(keys, m.key) {
			continue
		}
		var worst, each []time.Duration
		for i := range runs {
			t.Run(fmt.Sprintf("%s-%d", m.key, i), func(t *testing.T) {
				w, e := measureFailover(t, m)
				worst, each = append(worst, w), append(each, e...)
				t.Logf("%s, run %d: every room back after %v", m.name, i+1, w.Round(time.Millisecond))
			})
		}
		report = append(report, fmt.Sprintf("| %s | %d | %v | %v | %v |", m.name, len(worst),
			median(worst), slices.Max(append(worst, 0)).Round(time.Millisecond), median(each)))
	}
	fmt.Printf("\n| mode | kills | median, worst room | worst, worst room | median, any room |\n|---|---:|---:|---:|---:|\n%s\n",
		strings.Join(report, "\n"))
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}

// measureFailover runs one kill: it returns the time until the last room
// delivered room.reaction again on both survivors, and each room's time on
// each survivor.
//
// Long: one run, set up, warmed up, signalled and timed in order.
func measureFailover(t *testing.T, m failoverMode) (time.Duration, []time.Duration) {
	extra := append(slices.Clone(measureFlags), m.flags...)
	p0 := startProcWith(t, "127.0.0.2", "node-0", extra)
	p1 := startProcWith(t, "127.0.0.3", "node-1", extra, p0.Gossip)
	p2 := startProcWith(t, "127.0.0.4", "node-2", extra, p0.Gossip)
	nodeproc.WaitMembers(t, 3, p0, p1, p2)
	rooms, onVictim := measuredRooms(t, nodetest.Login(t, p0.URL(), "admin-1", "admin"))

	var watchers []*watcher
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i, p := range []*nodeproc.Member{p0, p1} {
		var users []*watcher
		for u := range measureUsers {
			w := dialWatcher(t, p.URL(), fmt.Sprintf("n%d-u%d", i, u))
			for _, r := range rooms {
				w.send("room.enter", map[string]any{"room": r})
			}
			users = append(users, w)
		}
		watchers = append(watchers, users[0])
		wg.Add(1)
		go func() { defer wg.Done(); react(users, rooms, stop) }()
	}
	defer func() { close(stop); wg.Wait() }()
	testkit.Eventually(t, 15*time.Second, "room.reaction in every room on both survivors", func() bool {
		for _, w := range watchers {
			for _, r := range rooms {
				if _, ok := w.first(r, time.Time{}); !ok {
					return false
				}
			}
		}
		return true
	})

	// The warm-up ends just after the owners' aggregation ticks: signal at
	// a random phase of the 1 s window, as a crash would come, or every
	// kill would measure the same wait for the survivors' next tick.
	time.Sleep(rand.N(time.Second))
	t0 := time.Now()
	if err := p2.Cmd.Process.Signal(m.sig); err != nil {
		t.Fatal(err)
	}
	var worst time.Duration
	var each []time.Duration
	for _, r := range rooms {
		// A broadcast the victim flushed just before the signal may still
		// arrive; none of its rooms' new owners can answer this soon.
		after := t0
		if slices.Contains(onVictim, r) {
			after = t0.Add(10 * time.Millisecond)
		}
		for _, w := range watchers {
			var at time.Time
			testkit.Eventually(t, 20*time.Second, "room.reaction in "+r+" after the signal", func() bool {
				var ok bool
				at, ok = w.first(r, after)
				return ok
			})
			d := at.Sub(t0)
			each = append(each, d)
			worst = max(worst, d)
		}
	}
	if m.key == "kill" {
		for _, p := range []*nodeproc.Member{p0, p1} {
			t.Logf("%s: node-2 found gone %v after the signal; probes alive %v, inconclusive %v", p.Name,
				loggedAt(t, p, "member gone").Sub(t0).Round(time.Millisecond),
				max(0, p.Metric(`roomring_cluster_gone_probes_total{result="alive"}`)),
				max(0, p.Metric(`roomring_cluster_gone_probes_total{result="inconclusive"}`)))
		}
	}
	return worst, each
}

// loggedAt is the time of p's first log record msg.
func loggedAt(t *testing.T, p *nodeproc.Member, msg string) time.Time {
	s, _ := p.Record(msg, 10*time.Second)["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s's record %q has no time: %v", p.Name, msg, err)
	}
	return at
}

// measuredRooms returns measureRooms rooms, creating rooms until at least
// victimRooms of them are placed on node-2, and those of node-2.
func measuredRooms(t *testing.T, admin *nodetest.Client) (rooms, onVictim []string) {
	rg, err := ring.New(ring.DefaultConfig(), []string{"node-0", "node-1", "node-2"})
	if err != nil {
		t.Fatal(err)
	}
	var others []string
	for i := 0; len(onVictim) < victimRooms || len(onVictim)+len(others) < measureRooms; i++ {
		var created struct {
			Room string `json:"room"`
		}
		if err := json.Unmarshal(admin.Call("room.create", map[string]any{"name": fmt.Sprintf("Measured %d", i)}), &created); err != nil {
			t.Fatal(err)
		}
		switch {
		case rg.Owner(created.Room) == "node-2" && len(onVictim) < victimRooms:
			onVictim = append(onVictim, created.Room)
		case rg.Owner(created.Room) != "node-2" && len(others) < measureRooms-victimRooms:
			others = append(others, created.Room)
		}
	}
	return append(slices.Clone(onVictim), others...), onVictim
}

// react makes users react in every room every measureReactTick, one user
// per tick, cycling through the users and the default reactions so that no
// (user, reaction) pair repeats within the 2 s debounce.
func react(users []*watcher, rooms []string, stop <-chan struct{}) {
	emoji := []string{"👏", "❤️", "👍", "🤣", "😮"}
	tick := time.NewTicker(measureReactTick)
	defer tick.Stop()
	for k := 0; ; k++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		u := users[k%len(users)]
		e := emoji[(k/len(users))%len(emoji)]
		for _, r := range rooms {
			u.send("room.react", map[string]any{"room": r, "reaction": e})
		}
	}
}

// watcher is a venueless client that records when each room's
// room.reaction broadcasts arrive; replies are read and ignored.
type watcher struct {
	ws  *websocket.Conn
	wmu sync.Mutex
	id  int

	mu     sync.Mutex
	seen   map[string][]time.Time
	authed chan struct{}
}

func dialWatcher(t *testing.T, url, uid string) *watcher {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	w := &watcher{ws: ws, seen: map[string][]time.Time{}, authed: make(chan struct{})}
	go w.read()
	b, _ := json.Marshal([]any{"authenticate", map[string]any{
		"token": nodetest.Token(t, uid, []string{"moderator"}, map[string]any{"display_name": uid})}})
	w.write(b)
	select {
	case <-w.authed:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s not authenticated", uid)
	}
	return w
}

func (w *watcher) read() {
	for {
		_, b, err := w.ws.ReadMessage()
		if err != nil {
			return
		}
		now := time.Now()
		var f []json.RawMessage
		var kind string
		if json.Unmarshal(b, &f) != nil || len(f) == 0 || json.Unmarshal(f[0], &kind) != nil {
			continue
		}
		switch {
		case kind == "authenticated":
			close(w.authed)
		case kind == "room.reaction" && len(f) == 2:
			var ev struct {
				Room string `json:"room"`
			}
			if json.Unmarshal(f[1], &ev) == nil {
				w.mu.Lock()
				w.seen[ev.Room] = append(w.seen[ev.Room], now)
				w.mu.Unlock()
			}
		}
	}
}

// first returns the arrival of room's first room.reaction after t.
func (w *watcher) first(room string, t time.Time) (time.Time, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, at := range w.seen[room] {
		if at.After(t) {
			return at, true
		}
	}
	return time.Time{}, false
}

func (w *watcher) send(action string, payload any) {
	w.wmu.Lock()
	w.id++
	id := w.id
	w.wmu.Unlock()
	b, _ := json.Marshal([]any{action, id, payload})
	w.write(b)
}

// write sends a frame; a failed write is the measurement's loss (the
// socket's node is gone), not an error.
func (w *watcher) write(b []byte) {
	w.wmu.Lock()
	defer w.wmu.Unlock()
	_ = w.ws.WriteMessage(websocket.TextMessage, b)
}
