package failure

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// writePeriod is each writer's pace: one write every 60 ms, about 16 a
// second, under the default per-connection rate limit (20 frames/s).
const writePeriod = 60 * time.Millisecond

// writersPerNode is how many users write through each node.
const writersPerNode = 4

// startWriters starts writersPerNode writers on each node; a writer whose
// connection dies reconnects to the following nodes in turn.
func startWriters(t *testing.T, nodes []*proc) *load {
	var ws []*writer
	for i := range nodes {
		order := append(append([]*proc(nil), nodes[i:]...), nodes[:i]...)
		for j := range writersPerNode {
			ws = append(ws, newWriter(fmt.Sprintf("user-%d-%d", i, j), writePeriod, order...))
		}
	}
	return startLoad(t, ws...)
}

// TestOwnerKilledUnderLoad: three nodes on one PostgreSQL, users writing
// resource reactions of one room through every node, the room's owner
// SIGKILLed mid-stream. The survivors agree on a new owner, the clients of
// the dead node reconnect to a survivor, every client's writes are
// acknowledged again, and afterwards what the survivors serve holds every
// acknowledged write (see check).
func TestOwnerKilledUnderLoad(t *testing.T) {
	begin := time.Now()
	dsn := pgtest.Start(t).CreateDB(t)
	nodes := startCluster(t, dsn)
	owner := agreedOwner(t, nodes...)
	var survivors []*proc
	for _, p := range nodes {
		if p != owner {
			survivors = append(survivors, p)
		}
	}

	l := startWriters(t, nodes)
	l.waitEach(t, 20*time.Second, "every writer has 10 writes acknowledged", func(w *writer) bool {
		return w.count(acked, time.Time{}) >= 10
	})
	t.Logf("killing %s, the owner of %s, after %v", owner.Name, room, time.Since(begin).Round(time.Millisecond))
	killed := time.Now()
	owner.Kill()

	newOwner := agreedOwner(t, survivors...)
	t.Logf("%s re-owned by %s", room, newOwner.Name)
	// Every writer carries on — through a survivor for those whose node
	// died — and is acknowledged again: by the new owner, since the dead
	// one can answer nothing.
	l.waitEach(t, 30*time.Second, "every writer has 10 writes acknowledged after the kill", func(w *writer) bool {
		return w.count(acked, killed) >= 10 && w.onNode() != owner.Name
	})
	t.Logf("service resumed for every writer %v after the kill", time.Since(killed).Round(time.Millisecond))
	for _, w := range l.writers {
		if w.nodes[0] == owner && w.reconnectCount() == 0 {
			t.Errorf("%s was on %s and never reconnected", w.uid, owner.Name)
		}
	}
	// The new owner stored the writes of the room itself (not some
	// leftover path).
	if v := newOwner.Metric(`roomring_cluster_owner_ops_total{op="resource.set",result="local"}`); v <= 0 {
		t.Errorf("%s served no resource.set as the owner: %v", newOwner.Name, v)
	}

	st, served := check(t, l, survivors...)
	sioAgrees(t, sioagent.Start(t), served, survivors...)
	t.Logf("%v; total %v", st, time.Since(begin).Round(time.Millisecond))
}

// TestDatabaseRestartUnderLoad: three nodes on one PostgreSQL, users
// writing resource reactions through every node (the owner and two edges
// that forward to it) while the database is stopped and started again.
// Every write refused meanwhile is refused with server.unavailable — on the
// owner's clients and on the other nodes' (which used to get server.error:
// the owner's store error lost its kind crossing the peer link) — the
// nodes resume by themselves, and nothing acknowledged is lost (see check).
//
// Long: load, database stop, restart and the final audit happen in this
// order and share their counters.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	begin := time.Now()
	srv := pgtest.Start(t)
	dsn := srv.CreateDB(t)
	nodes := startCluster(t, dsn)
	owner := agreedOwner(t, nodes...)
	// Valu's clients (socket.io-client 2.x and 4.x) on the nodes that
	// forward to the owner.
	a := sioagent.Start(t)
	var sio []*sioClient
	for _, p := range nodes {
		if p != owner {
			v := 2 + 2*len(sio)
			sio = append(sio, connectSio(t, a, fmt.Sprintf("sio%d-%s", v, p.Name), v, p, fmt.Sprintf("sio%d-user", v)))
		}
	}
	setReaction := map[string]any{"room": room, "resource": "talk-sio", "reaction": "👍"}

	l := startWriters(t, nodes)
	l.waitEach(t, 20*time.Second, "every writer has 10 writes acknowledged", func(w *writer) bool {
		return w.count(acked, time.Time{}) >= 10
	})
	stopped := time.Now()
	srv.Stop(t)
	t.Logf("PostgreSQL stopped after %v", time.Since(begin).Round(time.Millisecond))
	l.waitEach(t, 20*time.Second, "every writer has had 3 writes refused with the database down", func(w *writer) bool {
		return w.count(failed, stopped) >= 3
	})
	for _, p := range nodes {
		testkit.Eventually(t, 10*time.Second, p.Name+" reports the store down", func() bool { return p.Metric("roomring_store_up") == 0 })
	}
	for _, c := range sio {
		if _, code := c.emit("resource:setReaction", setReaction); code != 503 {
			t.Errorf("%s: resource:setReaction with the database down: code %d, want 503", c.Name, code)
		}
	}
	restarted := time.Now()
	srv.Start(t)
	t.Logf("PostgreSQL started again after %v", time.Since(stopped).Round(time.Millisecond))
	l.waitEach(t, 30*time.Second, "every writer has 10 writes acknowledged after the restart", func(w *writer) bool {
		return w.count(acked, restarted) >= 10
	})
	t.Logf("service resumed for every writer %v after the restart", time.Since(restarted).Round(time.Millisecond))
	for _, p := range nodes {
		testkit.Eventually(t, 10*time.Second, p.Name+" reports the store up", func() bool { return p.Metric("roomring_store_up") == 1 })
	}

	for _, c := range sio {
		if _, code := c.emit("resource:setReaction", setReaction); code != 0 {
			t.Errorf("%s: resource:setReaction after the restart: code %d", c.Name, code)
		}
		b, code := c.emit("resource:getUserOwnReaction", map[string]any{"resourceId": "talk-sio"})
		var own struct {
			OwnReaction string `json:"ownReaction"`
		}
		if err := json.Unmarshal(b, &own); err != nil || code != 0 || own.OwnReaction != "👍" {
			t.Errorf("%s: resource:getUserOwnReaction after the restart: %s, code %d", c.Name, b, code)
		}
	}

	st, served := check(t, l, nodes...)
	sioAgrees(t, a, served, nodes...)
	if st.lost != 0 {
		t.Errorf("%d writes got no reply, though no node died", st.lost)
	}
	// check requires every error reply to be server.unavailable; make sure
	// clients of nodes other than the owner were among them.
	refused := map[bool]int{}
	for _, w := range l.writers {
		for _, wr := range w.writes {
			if wr.outcome == failed {
				refused[wr.node == owner.Name]++
			}
		}
	}
	if refused[false] == 0 || refused[true] == 0 {
		t.Errorf("writes refused through the owner %s: %d, through the other nodes: %d; want both", owner.Name, refused[true], refused[false])
	}
	// The owner says why it refused them (the edges pass the code on).
	if !strings.Contains(owner.Output(), `"msg":"store unavailable"`) {
		t.Errorf("%s logged no store unavailable warning", owner.Name)
	}
	t.Logf("%v; total %v", st, time.Since(begin).Round(time.Millisecond))
}
