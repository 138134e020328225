package postgres_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
)

// nodeConfig is a dev node on a fresh data directory whose durable state
// goes to PostgreSQL at dsn.
func nodeConfig(t *testing.T, dsn string) node.Config {
	cfg := nodetest.Config(t, "")
	cfg.Store = dsn
	cfg.Postgres.OpTimeout = 2 * time.Second
	cfg.Postgres.ConnectTimeout = time.Second
	cfg.Postgres.HealthInterval = 100 * time.Millisecond
	return cfg
}

type summary struct {
	Reactions   [][2]string `json:"reactions"`
	Total       int         `json:"total"`
	OwnReaction string      `json:"ownReaction"`
}

func getSummary(t *testing.T, c *nodetest.Client, resource string) summary {
	t.Helper()
	var s summary
	if err := json.Unmarshal(c.Call("resource.reaction.get", map[string]any{"resource": resource}), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

var inviteURL = regexp.MustCompile(`/i/([A-Za-z0-9]{6})$`)

// TestNodeWithPostgres runs real nodes with --store postgres://… and real
// websocket clients: resource reactions and invites written through one
// node are served by another node and by a restarted node (each with its
// own, empty data directory); with the database down, writes fail with
// server.unavailable and nothing is announced, the node stays up, and it
// recovers by itself when the database is back.
//
// Long: one node on a real PostgreSQL through a restart, step by step.
func TestNodeWithPostgres(t *testing.T) {
	srv := pgtest.Start(t) // the test's own server: it is stopped below
	dsn := srv.CreateDB(t)

	n1 := nodetest.Start(t, nodeConfig(t, dsn))
	alice := nodetest.Dial(t, n1.URL())
	alice.Auth(map[string]any{"token": nodetest.Token(t, "alice", []string{"moderator"}, map[string]any{"display_name": "Alice"})})
	alice.Call("room.enter", map[string]any{"room": "room_1"})
	alice.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "👍"})
	alice.Event("resource.reaction.updated")
	alice.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "comment": "q-1", "reaction": "❤️"})
	alice.Event("resource.reaction.updated")
	var link struct{ URL string }
	if err := json.Unmarshal(alice.Call("room.invite.anonymous.link", map[string]any{"room": "room_1"}), &link); err != nil {
		t.Fatal(err)
	}
	m := inviteURL.FindStringSubmatch(link.URL)
	if m == nil {
		t.Fatalf("invite link %q", link.URL)
	}
	code := m[1]
	// The write went to PostgreSQL, not to the node's data directory.
	if rows := query[string](t, dsn, "SELECT reaction FROM roomring_resource_reactions WHERE resource = 'talk-1' AND user_id = 'alice' AND comment = ''"); len(rows) != 1 || rows[0] != "👍" {
		t.Fatalf("reaction rows in PostgreSQL: %q", rows)
	}

	// Another node (its own empty data directory) serves the same state.
	n2 := nodetest.Start(t, nodeConfig(t, dsn))
	guest := nodetest.Dial(t, n2.URL())
	guest.Auth(map[string]any{"client_id": "invited-browser", "invite_token": code})
	if s := getSummary(t, guest, "talk-1"); s.Total != 1 || len(s.Reactions) != 1 || s.Reactions[0] != [2]string{"alice", "👍"} {
		t.Fatalf("talk-1 on the second node: %+v", s)
	}

	// A restarted node serves it too.
	n1.Stop(t)
	n3 := nodetest.Start(t, nodeConfig(t, dsn))
	bob := nodetest.Dial(t, n3.URL())
	bob.Auth(map[string]any{"token": nodetest.Token(t, "alice", nil, nil)})
	if s := getSummary(t, bob, "talk-1"); s.Total != 1 || s.OwnReaction != "👍" {
		t.Fatalf("talk-1 after a restart: %+v", s)
	}
	var own struct {
		OwnReaction string `json:"ownReaction"`
	}
	if err := json.Unmarshal(bob.Call("resource.reaction.own", map[string]any{"resource": "talk-1", "comment": "q-1"}), &own); err != nil || own.OwnReaction != "❤️" {
		t.Fatalf("comment reaction after a restart: %+v, %v", own, err)
	}

	// The database goes away.
	carol := nodetest.Dial(t, n3.URL())
	carol.Auth(map[string]any{"token": nodetest.Token(t, "carol", nil, nil)})
	carol.Call("room.enter", map[string]any{"room": "room_1"})
	srv.Stop(t)
	if code := carol.CallErr("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "😮"}); code != "server.unavailable" {
		t.Fatalf("set with the database down: %s, want server.unavailable", code)
	}
	if code := carol.CallErr("resource.reaction.get", map[string]any{"resource": "talk-1"}); code != "server.unavailable" {
		t.Fatalf("get with the database down: %s, want server.unavailable", code)
	}
	// The owner announces only after a write is durable, before it
	// answers: an announcement of the failed write would have arrived
	// before the error reply.
	carol.None(0, "announcement of a failed write", nodetest.IsEvent("resource.reaction.updated", "room_1"))
	n3.WaitMetric(t, `roomring_errors_total{code="server.unavailable"}`, func(v float64) bool { return v >= 2 })
	n3.WaitMetric(t, "roomring_store_up", func(v float64) bool { return v == 0 })
	// The node stays up and in rotation: soft state works without the
	// store (docs/storage.md, "Readiness").
	for _, p := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(n3.HTTPURL() + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s with the database down: %s", p, resp.Status)
		}
	}
	carol.Call("room.react", map[string]any{"room": "room_1", "reaction": "👏"})

	// It comes back; the node recovers without a restart.
	srv.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	backoff := time.NewTicker(50 * time.Millisecond) // client retry pacing
	defer backoff.Stop()
	for {
		f := carol.Reply(carol.Send("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "😮"}))
		if f.Kind() == "success" {
			break
		}
		var e struct{ Code string }
		f.Decode(t, 2, &e)
		if e.Code != "server.unavailable" || time.Now().After(deadline) {
			t.Fatalf("set while the database comes back: %s", f)
		}
		<-backoff.C
	}
	carol.Event("resource.reaction.updated")
	if s := getSummary(t, guest, "talk-1"); s.Total != 2 {
		t.Fatalf("talk-1 after the outage, from the second node: %+v", s)
	}
	n3.WaitMetric(t, "roomring_store_up", func(v float64) bool { return v == 1 })
}
