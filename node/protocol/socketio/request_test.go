package socketio

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestDecodeRequest: each endpoint's argument decodes once into its typed
// operation and event id; data that does not fit becomes op.Invalid.
func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		endpoint, arg string
		want          op.Operation
		eventID       string
	}{
		{"room:join", `{"data":{"room":"r"},"event":{"id":"e","date":"2024-01-01"}}`, op.Enter{Room: "r"}, "e"},
		{"resource:setReaction", `{"data":{"room":"r","resource":"t","reaction":"👍"},"event":{"id":null,"date":1}}`,
			op.SetResourceReaction{Target: op.ResourceTarget{Room: "r", Resource: "t"}, Reaction: "👍"}, ""},
		{"resource:getUserOwnReaction", `{"data":{"resourceId":"t","comment":"c"},"event":null}`,
			op.GetOwnResourceReaction{Target: op.ResourceTarget{Resource: "t", Comment: "c"}}, ""},
		{"room:leave", `{"data":{"room":"r"}}`, op.Leave{Room: "r"}, ""},
	} {
		r, err := decodeRequest(endpoints[tc.endpoint], []json.RawMessage{json.RawMessage(tc.arg)})
		if err != nil || !reflect.DeepEqual(r.Op, tc.want) || r.EventID != tc.eventID {
			t.Errorf("%s %s: %#v %v", tc.endpoint, tc.arg, r, err)
		}
	}
	r, err := decodeRequest(endpoints["room:join"], []json.RawMessage{json.RawMessage(`{"data":{"room":7}}`)})
	if bad, ok := r.Op.(op.Invalid); err != nil || !ok || bad.Op != op.KindEnter || bad.Err.Code != op.CodeBadRequest {
		t.Fatalf("wrong type: %#v %v", r, err)
	}
}

func TestStatusCode(t *testing.T) {
	for c, want := range map[op.Code]int{op.CodeMissingToken: 401, op.CodeDenied: 403, op.CodeRoomUnknown: 404,
		op.CodeRateLimited: 429, op.CodeInternal: 500, op.CodeUnavailable: 503, op.CodeBadRequest: 400} {
		if got := StatusCode(c); got != want {
			t.Errorf("%s: %d, want %d", c, got, want)
		}
	}
}
