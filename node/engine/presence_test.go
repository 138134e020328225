package engine

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/internal/testkit"
	"github.com/roomring/roomring/node/auth"
	"github.com/roomring/roomring/node/catalog"
	"github.com/roomring/roomring/node/edge"
	"github.com/roomring/roomring/node/op"
	"github.com/roomring/roomring/node/store/bolt"
)

// gatedOwner is an Owner that tracks who is present and can hold Leave
// calls until released.
type gatedOwner struct {
	mu      sync.Mutex
	present map[string]bool
	gate    chan struct{} // when set, Leave waits for it to close
	leaving chan struct{} // signalled when a gated Leave starts waiting
	entered chan struct{} // signalled on every Enter
}

func (o *gatedOwner) Enter(_ context.Context, _ string, u op.User, _ string, _ bool) ([]op.User, error) {
	o.mu.Lock()
	o.present[u.ID] = true
	o.mu.Unlock()
	select {
	case o.entered <- struct{}{}:
	default:
	}
	return nil, nil
}

func (o *gatedOwner) Leave(_ context.Context, _, uid, _ string) {
	o.mu.Lock()
	gate := o.gate
	o.mu.Unlock()
	if gate != nil {
		o.leaving <- struct{}{}
		<-gate
	}
	o.mu.Lock()
	delete(o.present, uid)
	o.mu.Unlock()
}

func (o *gatedOwner) isPresent(uid string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.present[uid]
}

func (o *gatedOwner) React(context.Context, string, string, string) error { return nil }
func (o *gatedOwner) Announce(context.Context, string, *op.Event) error   { return nil }
func (o *gatedOwner) Forget(context.Context, string) error                { return nil }

type nopSink struct{ uid string }

func (s nopSink) UserID() string         { return s.uid }
func (s nopSink) Dialect() edge.Dialect  { return edge.Venueless }
func (s nopSink) Send([]byte)            {}
func (s nopSink) SendPersonal(*op.Event) {}
func (s nopSink) SendFrames([][]byte)    {}
func (s nopSink) Replaced()              {}
func (s nopSink) WorldClosed()           {}

// TestReloadRace: a user's old connection leaving a room while their new
// connection enters it must leave the user present at the owner.
func TestReloadRace(t *testing.T) {
	st, err := bolt.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := context.Background()
	cat, err := catalog.Open(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.Upsert(ctx, &catalog.Room{ID: "r", Name: "R"}); err != nil {
		t.Fatal(err)
	}
	owner := &gatedOwner{present: map[string]bool{}, leaving: make(chan struct{}), entered: make(chan struct{}, 8)}
	eng := New(Config{WorldID: "w", Builtin: true}, Deps{
		Policy:  &auth.Policy{Roles: auth.DefaultRoles(), WorldGrants: auth.DevGrants()},
		Catalog: cat, Owner: owner, Edge: edge.New("local"),
		Logger: testkit.Logger(t),
	})
	u := &auth.User{ID: "u"}
	old, fresh := eng.NewClient(u, nopSink{"u"}), eng.NewClient(u, &nopSink{"u"})
	old.Start()
	fresh.Start()
	v, verr := eng.view(u, "r")
	if verr != nil {
		t.Fatal(verr)
	}
	if _, err := old.Do(ctx, op.Enter{Room: v.id}); err != nil {
		t.Fatal(err)
	}
	<-owner.entered

	owner.mu.Lock()
	owner.gate = make(chan struct{})
	owner.mu.Unlock()
	closed := make(chan struct{})
	go func() { old.Close(ctx); close(closed) }()
	<-owner.leaving // old's leave is on its way to the owner

	entered := make(chan struct{})
	go func() {
		if _, err := fresh.Do(ctx, op.Enter{Room: v.id}); err != nil {
			t.Error(err)
		}
		close(entered)
	}()
	// Give the new connection's enter the chance to overtake the pending
	// leave (it must not): 200 ms is ages for an uncontended lock.
	select {
	case <-owner.entered:
		t.Error("the new connection's enter reached the owner before the old connection's leave")
	case <-time.After(200 * time.Millisecond):
	}
	owner.mu.Lock()
	close(owner.gate)
	owner.gate = nil
	owner.mu.Unlock()
	<-closed
	<-entered
	if !owner.isPresent("u") {
		t.Fatal("the owner lost a user whose new connection is in the room")
	}
}
