package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store"
)

// A store that cannot be reached on a room's owner must reach the client on
// another node as server.unavailable (503, retry), as on a single node, not
// as server.error (500): the reply crosses the wire as JSON, which keeps
// only a code. Other errors keep their code, or none.
func TestStoreUnavailableCrossesTheWire(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want op.Code // "" means an error without a code (server.error)
	}{
		{"store unavailable", fmt.Errorf("set reaction on %q: %w", "talk", fmt.Errorf("put reaction: %w: %w", store.ErrUnavailable, io.ErrUnexpectedEOF)), op.CodeUnavailable},
		{"op error", fmt.Errorf("set: %w", op.Errorf(op.CodeBadRequest, "reaction is required")), op.CodeBadRequest},
		{"other", errors.New("disk on fire"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(failure(tc.err))
			if err != nil {
				t.Fatal(err)
			}
			var resp response
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatal(err)
			}
			got := resp.err()
			if got == nil {
				t.Fatalf("%s: no error after the wire", b)
			}
			var oe *op.Error
			if !errors.As(got, &oe) {
				if tc.want != "" {
					t.Fatalf("%s: error %v has no code, want %s", b, got, tc.want)
				}
				return
			}
			if oe.Code != tc.want {
				t.Fatalf("%s: code %s, want %s", b, oe.Code, tc.want)
			}
		})
	}
}
