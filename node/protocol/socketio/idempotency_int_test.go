package socketio_test

import (
	"encoding/json"
	"testing"

	"github.com/roomring/roomring/node/nodetest"
)

// TestRepeatedEventIDReplaysTheAck checks idempotency through the real
// clients: a repeated event.id from the same device returns the earlier ack
// without redoing the work; another device, or an empty id, executes.
func TestRepeatedEventIDReplaysTheAck(t *testing.T) {
	n := nodetest.Start(t, nodetest.Config(t, ""))
	a := startAgent(t)
	tok := nodetest.Token(t, "frank", nil, profile("Frank", "F", nil))
	phone := a.connect(t, "phone", 2, n, map[string]string{"sessionId": tok, "deviceId": "phone"}, nil)
	phone.event("user_info")
	watcher := connected(t, a, n, "watcher", 4, "gina", nil, profile("Gina", "G", nil))
	watcher.ok("room:join", map[string]any{"room": "room_1"})

	set := func(c *client, reaction, eventID string) reply {
		t.Helper()
		return c.call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1", "reaction": reaction}, eventID))
	}
	first := set(phone, "👍", "evt-1")
	if first.Error.Status {
		t.Fatalf("first set: %s", first.raw)
	}
	if e := decodeEvent(t, watcher.event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != "👍" {
		t.Fatalf("first event: %+v", e.Data)
	}
	// Same id, different payload: the earlier ack, nothing redone.
	again := set(phone, "❤️", "evt-1")
	if string(again.raw) != string(first.raw) {
		t.Fatalf("replayed ack %s differs from the first %s", again.raw, first.raw)
	}
	// A reconnect of the same device is the same device.
	phone.close()
	phone2 := a.connect(t, "phone2", 4, n, map[string]string{"sessionId": tok, "deviceId": "phone"}, nil)
	phone2.event("user_info")
	if r := set(phone2, "😮", "evt-1"); string(r.raw) != string(first.raw) {
		t.Fatalf("replay after reconnect: %s", r.raw)
	}
	if own := ownReaction(t, phone2, "idem"); own != "👍" {
		t.Fatalf("the replay redid the work: own reaction %q", own)
	}
	// Another device of the same user executes the same id.
	laptop := a.connect(t, "laptop", 4, n, map[string]string{"sessionId": tok, "deviceId": "laptop"}, nil)
	laptop.event("user_info")
	if r := set(laptop, "🤣", "evt-1"); r.Error.Status {
		t.Fatalf("laptop: %s", r.raw)
	}
	// The watcher's next event is the laptop's: the replays announced nothing.
	if e := decodeEvent(t, watcher.event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != "🤣" {
		t.Fatalf("event after replays = %+v, want the laptop's 🤣", e.Data)
	}
	// An empty id skips the check.
	set(phone2, "👍", "")
	set(phone2, "👏", "")
	for _, want := range []string{"👍", "👏"} {
		if e := decodeEvent(t, watcher.event("resource:reactionUpdated")[0]); e.Data.Reaction.Reaction != want {
			t.Fatalf("empty-id event = %+v, want %s", e.Data, want)
		}
	}
	// Errors are replayed too (they are deterministic), and reads are idempotent.
	bad := phone2.call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1"}, "evt-bad"))
	again = phone2.call("resource:setReaction", req(map[string]any{"resource": "idem", "room": "room_1", "reaction": "👍"}, "evt-bad"))
	if !bad.Error.Status || string(again.raw) != string(bad.raw) {
		t.Fatalf("error replay: %s then %s", bad.raw, again.raw)
	}
	var s summary
	get := phone2.call("resource:getReactions", req(map[string]any{"resourceId": "idem"}, "evt-get"))
	if err := json.Unmarshal(get.Data, &s); err != nil || s.Total != 1 || s.OwnReaction != "👏" {
		t.Fatalf("get: %s", get.raw)
	}
}
