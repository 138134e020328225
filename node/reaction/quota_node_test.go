package reaction_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/roomring/roomring/node"
	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// storedRows counts the resource reaction rows in a stopped node's bbolt
// file: all of them, and those of user.
func storedRows(t *testing.T, dir, user string) (all, ofUser int) {
	t.Helper()
	db, err := bbolt.Open(filepath.Join(dir, "roomring.db"), 0o600, &bbolt.Options{ReadOnly: true, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte("resource_reactions_by_world")).ForEach(func(k, _ []byte) error {
			all++
			if bytes.HasSuffix(k, []byte(user)) {
				ofUser++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return all, ofUser
}

func startQuotaNode(t *testing.T, dir string) *nodetest.Node {
	return nodetest.Start(t, func() node.Config {
		cfg := nodetest.Config(t, dir)
		cfg.Reactions.MaxPerUser, cfg.Reactions.MaxTargets = 30, 100
		cfg.Reactions.WriteRate, cfg.Reactions.WriteBurst = 50, 10
		// The connection's own rate limit is not under test: every write must
		// reach the owner's quota and write rate (a write over the session's
		// limit beyond its bounded answers gets no reply at all).
		cfg.Session.RateLimit, cfg.Session.RateBurst = 100000, 100000
		return cfg
	}())
}

// TestHostileUserRowsAreBounded: a guest floods resource.reaction.set with
// fresh resource ids from four connections, then keeps writing; the store
// holds at most its per-user quota of rows, every refused write is told
// why, and a well-behaved user still writes.
func TestHostileUserRowsAreBounded(t *testing.T) {
	dir := t.TempDir()
	n := startQuotaNode(t, dir)
	canary, _ := login(t, n, "canary")
	canary.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "👍"})

	var conns []*nodetest.Client
	var eveID string
	for range 4 {
		c, id := login(t, n, "eve")
		conns, eveID = append(conns, c), id
	}
	codes := flood(t, conns, "spam", 100)
	if codes["ok"] > 30 || codes["ok"]+codes["protocol.rate_limited"]+codes["resource.quota_exceeded"] != 400 {
		t.Fatalf("flood replies %v: want at most 30 stored and every other write rate limited or over the quota", codes)
	}
	// Writing on, within its rate, eve reaches its quota and stays there.
	untilQuota(t, conns[0], "more")
	// Invalid ids are refused as such.
	if code := conns[1].CallErr("resource.reaction.set", map[string]any{"room": "room_1", "resource": "a b", "reaction": "👍"}); code != "resource.invalid" {
		t.Fatalf("id with a space: %s, want resource.invalid", code)
	}
	// The canary still writes, to a new resource and the old one.
	canary.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-2", "reaction": "❤️"})
	canary.Call("resource.reaction.set", map[string]any{"room": "room_1", "resource": "talk-1", "reaction": "👏"})

	n.Stop(t)
	all, eve := storedRows(t, dir, eveID)
	if eve != 30 || all != 32 {
		t.Fatalf("store holds %d rows, %d of eve's: want eve's 30 (its quota) and the canary's 2", all, eve)
	}
}

// TestValuQuotaAcks: the real socket.io-client gets Valu's statuses — 400
// for an invalid id, 403 over the quota, 429 over the write rate.
func TestValuQuotaAcks(t *testing.T) {
	n := nodetest.Start(t, func() node.Config {
		cfg := nodetest.Config(t, "")
		cfg.Reactions.MaxPerUser, cfg.Reactions.WriteRate, cfg.Reactions.WriteBurst = 2, 0.001, 3
		return cfg
	}())
	a := sioagent.StartOrSkip(t)
	c := a.Connect(t, sioagent.ClientConfig{Name: "eve", Version: 4, URL: "http://" + n.Addr(),
		Query: map[string]string{"sessionId": nodetest.Token(t, "eve", nil, nil)}, Events: []string{"user_info"}})
	c.Event("user_info")
	set := func(res string) int {
		return c.CallErr("resource:setReaction", map[string]any{
			"data":  map[string]any{"resource": res, "room": "room_1", "reaction": "👍"},
			"event": map[string]any{"id": "", "date": time.Now().UnixMilli()},
		}).Error.Code
	}
	c.CallOK("room:join", map[string]any{"data": map[string]any{"room": "room_1"}, "event": map[string]any{"id": "", "date": time.Now().UnixMilli()}})
	if code := set("a b"); code != 400 {
		t.Fatalf("invalid id: %d, want 400", code)
	}
	for _, res := range []string{"r1", "r2"} {
		c.CallOK("resource:setReaction", map[string]any{
			"data":  map[string]any{"resource": res, "room": "room_1", "reaction": "👍"},
			"event": map[string]any{"id": "", "date": time.Now().UnixMilli()},
		})
	}
	if code := set("r3"); code != 403 {
		t.Fatalf("over the quota: %d, want 403", code)
	}
	if code := set("r4"); code != 429 {
		t.Fatalf("over the rate: %d, want 429", code)
	}
}

// flood sends perConn resource.reaction.set with fresh resource ids on
// each connection, not waiting for replies, then counts the replies' codes.
func flood(t *testing.T, conns []*nodetest.Client, prefix string, perConn int) map[string]int {
	t.Helper()
	type sent struct {
		c  *nodetest.Client
		id int
	}
	var all []sent
	for i := range perConn {
		for j, c := range conns {
			id := c.Send("resource.reaction.set", map[string]any{"room": "room_1", "resource": fmt.Sprintf("%s-%d-%d", prefix, j, i), "reaction": "👍"})
			all = append(all, sent{c, id})
		}
	}
	codes := map[string]int{}
	for _, s := range all {
		codes[replyCode(t, s.c.Reply(s.id))]++
	}
	return codes
}

// untilQuota writes fresh resources on c, one at a time, until the reply is
// resource.quota_exceeded; it returns how many were stored on the way.
func untilQuota(t *testing.T, c *nodetest.Client, prefix string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	stored := 0
	for i := 0; ; i++ {
		code := replyCode(t, c.Reply(c.Send("resource.reaction.set",
			map[string]any{"room": "room_1", "resource": fmt.Sprint(prefix, "-", i), "reaction": "👍"})))
		switch {
		case code == "resource.quota_exceeded":
			return stored
		case code == "ok":
			stored++
		case time.Now().After(deadline):
			t.Fatalf("no resource.quota_exceeded after %d more writes (last %s)", i, code)
		}
	}
}

// login connects a guest and returns its user id.
func login(t *testing.T, n *nodetest.Node, clientID string) (*nodetest.Client, string) {
	t.Helper()
	c := nodetest.Dial(t, n.URL())
	var a struct {
		User struct{ ID string } `json:"user.config"`
	}
	if err := json.Unmarshal(c.Auth(map[string]any{"client_id": clientID}), &a); err != nil || a.User.ID == "" {
		t.Fatalf("guest %s: no user id (%v)", clientID, err)
	}
	return c, a.User.ID
}

// replyCode is "ok" for a success reply, else the error's code.
func replyCode(t *testing.T, f nodetest.Frame) string {
	t.Helper()
	if f.Kind() == "success" {
		return "ok"
	}
	var e struct{ Code string }
	f.Decode(t, 2, &e)
	return e.Code
}
