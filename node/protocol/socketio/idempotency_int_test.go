package socketio_test

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
	"github.com/roomring/roomring/test/socketio/sioagent"
)

// TestRepeatedEventIDReplaysTheAck checks idempotency through the real
// clients: a repeated event.id from the same device returns the earlier ack
// without redoing the work; another device, or an empty id, executes.
func TestRepeatedEventIDReplaysTheAck(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := sioagent.StartOrSkip(t)
	tok := nodetest.Token(t, "frank", nil, profile("Frank", "F", nil))
	phone := connect(t, a, "phone", 2, n, map[string]string{"sessionId": tok, "deviceId": "phone"}, nil)
	phone.Event("user_info")
	watcher := connected(t, a, n, "watcher", 4, "gina", nil, profile("Gina", "G", nil))
	watcher.ok("room:join", map[string]any{"room": "room_1"})

	set := func(c *client, reaction, eventID string) sioagent.Reply {
		t.Helper()
		return c.Call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1", "reaction": reaction}, eventID))
	}
	first := set(phone, "👍", "evt-1")
	if first.Error.Status {
		t.Fatalf("first set: %s", first.Raw)
	}
	if e := decodeEvent(t, watcher.Event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != "👍" {
		t.Fatalf("first event: %+v", e.Data)
	}
	// Same id, different payload: the earlier ack, nothing redone.
	again := set(phone, "❤️", "evt-1")
	if string(again.Raw) != string(first.Raw) {
		t.Fatalf("replayed ack %s differs from the first %s", again.Raw, first.Raw)
	}
	// A reconnect of the same device is the same device.
	phone.Close()
	phone2 := connect(t, a, "phone2", 4, n, map[string]string{"sessionId": tok, "deviceId": "phone"}, nil)
	phone2.Event("user_info")
	if r := set(phone2, "😮", "evt-1"); string(r.Raw) != string(first.Raw) {
		t.Fatalf("replay after reconnect: %s", r.Raw)
	}
	if own := ownReaction(t, phone2, "idem"); own != "👍" {
		t.Fatalf("the replay redid the work: own reaction %q", own)
	}
	// Another device of the same user executes the same id.
	laptop := connect(t, a, "laptop", 4, n, map[string]string{"sessionId": tok, "deviceId": "laptop"}, nil)
	laptop.Event("user_info")
	if r := set(laptop, "🤣", "evt-1"); r.Error.Status {
		t.Fatalf("laptop: %s", r.Raw)
	}
	// The watcher's next event is the laptop's: the replays announced nothing.
	if e := decodeEvent(t, watcher.Event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != "🤣" {
		t.Fatalf("event after replays = %+v, want the laptop's 🤣", e.Data)
	}
	// An empty id skips the check.
	set(phone2, "👍", "")
	set(phone2, "👏", "")
	for _, want := range []string{"👍", "👏"} {
		if e := decodeEvent(t, watcher.Event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != want {
			t.Fatalf("empty-id event = %+v, want %s", e.Data, want)
		}
	}
	// Errors are replayed too (they are deterministic), and reads are idempotent.
	bad := phone2.Call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1"}, "evt-bad"))
	again = phone2.Call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1", "reaction": "👍"}, "evt-bad"))
	if !bad.Error.Status || string(again.Raw) != string(bad.Raw) {
		t.Fatalf("error replay: %s then %s", bad.Raw, again.Raw)
	}
	var s summary
	get := phone2.Call("resource:getReactions", req(map[string]any{"resourceId": "idem"}, "evt-get"))
	if err := json.Unmarshal(get.Data, &s); err != nil || s.Total != 1 || s.OwnReaction != "👏" {
		t.Fatalf("get: %s", get.Raw)
	}
}
