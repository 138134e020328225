package venueless

import (
	"reflect"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestDecodeOperations: each frame decodes, payload included, into its
// typed operation; a payload that does not fit becomes op.Invalid.
func TestDecodeOperations(t *testing.T) {
	for frame, want := range map[string]op.Operation{
		`["room.react", 1, {"room": "r", "reaction": "👏"}]`:             op.React{Room: "r", Reaction: "👏"},
		`["room.enter", "x", {"room": "r"}]`:                            op.Enter{Room: "r"},
		`["room.config.reorder", 2, ["b", "a"]]`:                        op.ReorderRooms{IDs: []string{"b", "a"}},
		`["resource.reaction.get", 3, {"resourceId": "t", "room": ""}]`: op.GetResourceReactions{Target: op.ResourceTarget{Resource: "t"}},
		`["room.create", 4, {"name": "N", "description": "D"}]`:         op.CreateRoom{Name: "N", Description: "D"},
		`["room.config.list", 5, null]`:                                 op.ListRoomConfigs{},
		`["chat.send", 6, {}]`:                                          nil,
		`["ping", 7]`:                                                   nil,
	} {
		f, err := Decode([]byte(frame))
		if err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		if !reflect.DeepEqual(f.Op, want) {
			t.Errorf("%s: decoded %#v, want %#v", frame, f.Op, want)
		}
	}
	for _, frame := range []string{`["room.react", 1, {"room": "r", "reaction": 1}]`, `["room.enter", 1, "r"]`, `["room.enter", 1]`,
		`["room.config.patch", 1, {"room": 5}]`} {
		f, err := Decode([]byte(frame))
		if err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		if bad, ok := f.Op.(op.Invalid); !ok || bad.Err.Code != op.CodeBadRequest {
			t.Errorf("%s: decoded %#v, want op.Invalid", frame, f.Op)
		}
	}
	f, err := Decode([]byte(`["authenticate", {"token": "t", "client_id": "c"}]`))
	if err != nil || f.Credentials == nil || f.Credentials.Token != "t" || f.Credentials.ClientID != "c" {
		t.Fatalf("authenticate: %+v %v", f, err)
	}
}
