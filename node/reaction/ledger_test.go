package reaction

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store/bolt"
)

// recorder is an Announcer that keeps what it was given.
type recorder struct {
	mu  sync.Mutex
	evs []*op.Event
}

func (r *recorder) Announce(room string, ev *op.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ev.Room != room {
		panic("announce for another room")
	}
	r.evs = append(r.evs, ev)
}

func (r *recorder) events() []*op.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*op.Event(nil), r.evs...)
}

func newLedger(t *testing.T, cfg Config) (*Ledger, *recorder) {
	t.Helper()
	st, err := bolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	rec := &recorder{}
	o := NewLedger(cfg, st, rec)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	o.now = func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Second); return clock }
	return o, rec
}

func code(err error) op.Code {
	var oe *op.Error
	if errors.As(err, &oe) {
		return oe.Code
	}
	return ""
}

func TestSetReplaceDeleteSummary(t *testing.T) {
	ctx := context.Background()
	o, rec := newLedger(t, DefaultConfig())
	alice := op.User{ID: "alice", Profile: op.MustProfile(`{"firstName":"Alice"}`)}
	bob := op.User{ID: "bob"}
	ghost := op.User{ID: "ghost", Incognito: true}
	tgt := Target{Room: "room_1", Resource: "talk-1"}
	for _, w := range []struct {
		u op.User
		r string
	}{{alice, "👍"}, {bob, "❤️"}, {ghost, "👍"}, {alice, "👏"}} {
		if err := o.Set(ctx, tgt, w.u, w.r); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Set(ctx, Target{Room: "room_1", Resource: "talk-1", Comment: "c-9"}, bob, "😮"); err != nil {
		t.Fatal(err)
	}
	s, err := o.Summary(ctx, "", "talk-1", "", "ghost")
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: alice replaced hers last; ghost counted but not listed.
	want := fmt.Sprint([][2]string{{"alice", "👏"}, {"bob", "❤️"}})
	if fmt.Sprint(s.Reactions) != want || s.Total != 3 || s.OwnReaction != "👍" {
		t.Fatalf("summary = %+v, want reactions %s total 3 own 👍", s, want)
	}
	if own, _ := o.Own(ctx, "", "talk-1", "c-9", "bob"); own.OwnReaction != "😮" {
		t.Fatalf("own comment reaction = %q", own.OwnReaction)
	}
	if own, _ := o.Own(ctx, "", "talk-1", "", "carol"); own.OwnReaction != "" {
		t.Fatalf("carol's own = %q, want none", own.OwnReaction)
	}

	if err := o.Delete(ctx, tgt, alice); err != nil {
		t.Fatal(err)
	}
	if err := o.Delete(ctx, tgt, alice); err != nil { // nothing left: no error, no event
		t.Fatal(err)
	}
	evs := rec.events()
	if len(evs) != 6 {
		t.Fatalf("got %d events, want 5 updates and 1 delete", len(evs))
	}
	last := evs[5]
	d := reactionOf(last)
	if last.Kind != op.EvResourceDeleted || d.Reaction != "👏" || d.User.ID != "alice" || last.Audience != op.ToRoom {
		t.Fatalf("delete event = %+v %+v", last, d)
	}
	// Codecs hide incognito users (their tests check the frames); the
	// event must say the user is one.
	if ghostEv := reactionOf(evs[2]); ghostEv.User.ID != "ghost" || !ghostEv.User.Incognito {
		t.Fatalf("incognito event %+v must be marked incognito", ghostEv)
	}
}

func TestValidation(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	o, rec := newLedger(t, cfg)
	u := op.User{ID: "u"}
	long := string(make([]byte, cfg.MaxIDBytes+1))
	for _, tc := range []struct {
		t    Target
		r    string
		want op.Code
	}{
		{Target{Room: "r", Resource: ""}, "👍", op.CodeBadRequest},
		{Target{Room: "r", Resource: "x"}, "", op.CodeBadRequest},
		{Target{Room: "r", Resource: "x"}, "\x00", op.CodeBadRequest},
		{Target{Room: "r", Resource: "x"}, "\xff", op.CodeBadRequest},
		{Target{Room: "r", Resource: "x"}, string(make([]rune, cfg.MaxReactionBytes)), op.CodeBadRequest},
		// Ids: resource.invalid (a 400 too).
		{Target{Room: "r", Resource: long}, "👍", op.CodeInvalidResource},
		{Target{Room: "r", Resource: "x", Comment: "a\nb"}, "👍", op.CodeInvalidResource},
		{Target{Room: "r", Resource: "a b"}, "👍", op.CodeInvalidResource},
		{Target{Room: "r", Resource: "a\u200bb"}, "👍", op.CodeInvalidResource},
	} {
		if err := o.Set(ctx, tc.t, u, tc.r); code(err) != tc.want {
			t.Errorf("Set(%q/%q, %q) = %v, want %s", tc.t.Resource, tc.t.Comment, tc.r, err, tc.want)
		}
	}
	if _, err := o.Summary(ctx, "", "", "", "u"); code(err) != op.CodeBadRequest {
		t.Errorf("Summary without resource = %v", err)
	}
	if len(rec.events()) != 0 {
		t.Fatalf("rejected writes announced events: %v", rec.events())
	}
}

func TestListingIsBounded(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.MaxListed = 3
	o, _ := newLedger(t, cfg)
	for i := range 10 {
		if err := o.Set(ctx, Target{Room: "r", Resource: "x"}, op.User{ID: fmt.Sprintf("u%02d", i)}, "👍"); err != nil {
			t.Fatal(err)
		}
	}
	s, err := o.Summary(ctx, "", "x", "", "u00")
	if err != nil {
		t.Fatal(err)
	}
	if s.Total != 10 || len(s.Reactions) != 3 || s.Reactions[0][0] != "u09" || s.Reactions[2][0] != "u07" || s.OwnReaction != "👍" {
		t.Fatalf("summary = %+v", s)
	}
}

// TestWritesOfARoomAreSerialised checks that concurrent writes to one room
// are announced in the order they were stored: the last event of each user
// matches what the store holds.
func TestWritesOfARoomAreSerialised(t *testing.T) {
	ctx := context.Background()
	o, rec := newLedger(t, DefaultConfig())
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 20 {
				r := fmt.Sprintf("r%d", i%3)
				if err := o.Set(ctx, Target{Room: "room", Resource: "res"}, op.User{ID: "same-user"}, r); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	evs := rec.events()
	last := reactionOf(evs[len(evs)-1])
	own, err := o.Own(ctx, "", "res", "", "same-user")
	if err != nil {
		t.Fatal(err)
	}
	if own.OwnReaction != last.Reaction {
		t.Fatalf("stored %q but the last announcement says %q", own.OwnReaction, last.Reaction)
	}
	for i := 1; i < len(evs); i++ {
		if reactionOf(evs[i]).Updated.Before(reactionOf(evs[i-1]).Updated) {
			t.Fatalf("event %d announced out of order", i)
		}
	}
	o.mu.Lock()
	n := len(o.rooms)
	o.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d room locks left after all writes finished", n)
	}
}

// reactionOf is what a resource reaction event tells.
func reactionOf(ev *op.Event) op.ResourceReaction {
	switch d := ev.Data.(type) {
	case op.ResourceReactionUpdated:
		return op.ResourceReaction(d)
	case op.ResourceReactionDeleted:
		return op.ResourceReaction(d)
	}
	panic(fmt.Sprintf("not a resource reaction event: %+v", ev))
}
