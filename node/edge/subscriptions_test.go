package edge

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/roomring/roomring/node/op"
)

// TestMembersFollowSubs: through random joins (new and again, with and
// without the right to see viewers), parts, detaches and drops, what a
// fan-out copies of a room (copyRoom) is exactly its subscriptions — each
// once, with its right and dialect — and the dialects it marks are those
// present; every membership knows its place.
func TestMembersFollowSubs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := newSubscriptions()
	subs := make([]*sub, 40)
	for i := range subs {
		subs[i] = &sub{uid: fmt.Sprintf("u%d", i%25), d: Dialect(i % int(numDialects))}
	}
	rooms := []string{"a", "b", "c"}
	everyone := []*op.Event{{Kind: op.EvViewerAdded, Audience: op.ToRoomViewers}, {Kind: op.EvReaction}}
	for step := range 5000 {
		s, room := subs[rng.IntN(len(subs))], rooms[rng.IntN(len(rooms))]
		switch k := rng.IntN(10); {
		case k < 5:
			x.join(room, s, nil, rng.IntN(2) == 0)
		case k < 8:
			x.part(room, s)
		case k < 9:
			x.detach(s)
		default:
			if rng.IntN(20) == 0 {
				x.drop(room)
			}
		}
		for _, id := range rooms {
			r := x.room(id)
			if r == nil {
				continue
			}
			var ms []recipient
			var present [numDialects]bool
			x.copyRoom(r, everyone, &ms, &present)
			if len(ms) != len(r.subs) {
				t.Fatalf("step %d, room %s: copied %d sessions of %d", step, id, len(ms), len(r.subs))
			}
			var want [numDialects]bool
			for i, m := range ms {
				sm := r.subs[m.s]
				switch {
				case sm == nil || sm != m.m:
					t.Fatalf("step %d, room %s: copied a session that is not subscribed", step, id)
				case sm.idx != i || m.seesViewers != sm.seesViewers || m.d != m.s.Dialect():
					t.Fatalf("step %d, room %s: member %d = idx %d, seesViewers %v/%v, dialect %d/%d",
						step, id, i, sm.idx, m.seesViewers, sm.seesViewers, m.d, m.s.Dialect())
				}
				want[m.d] = true
			}
			if present != want {
				t.Fatalf("step %d, room %s: present %v, want %v", step, id, present, want)
			}
		}
	}
}
