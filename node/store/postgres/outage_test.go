package postgres_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/roomring/roomring/node/store"
	"github.com/roomring/roomring/node/store/postgres"
	"github.com/roomring/roomring/node/store/postgres/pgtest"
	"github.com/roomring/roomring/node/store/storetest"
)

// TestUnavailable stops the database: every operation fails promptly with
// store.ErrUnavailable, the up gauge drops, and everything works again once
// the database is back, without reopening the store.
func TestUnavailable(t *testing.T) {
	srv := pgtest.Start(t)
	cfg := config(srv.DSN)
	cfg.OpTimeout = 2 * time.Second
	cfg.ConnectTimeout = time.Second
	cfg.HealthInterval = 50 * time.Millisecond
	s, reg := open(t, cfg)
	if err := s.PutReaction(ctx, reaction("before", "👍"), 0); err != nil {
		t.Fatal(err)
	}
	if err := s.PutInvite(ctx, store.Invite{Code: "abcdef", Room: "r", Expires: storetest.At}); err != nil {
		t.Fatal(err)
	}
	srv.Stop(t)

	k := store.ReactionKey{Resource: "talk", UserID: "before"}
	ops := map[string]func() error{
		"PutReaction":    func() error { return s.PutReaction(ctx, reaction("during", "👍"), 0) },
		"DeleteReaction": func() error { _, err := s.DeleteReaction(ctx, k); return err },
		"Reaction":       func() error { _, err := s.Reaction(ctx, k); return err },
		"ReactionsOf": func() error {
			return s.ReactionsOf(ctx, "", "talk", "", func(store.ResourceReaction) bool { return true })
		},
		"Rooms":      func() error { _, err := s.Rooms(ctx); return err },
		"PutRooms":   func() error { return s.PutRooms(ctx, map[string][]byte{"r": []byte("{}")}) },
		"DeleteRoom": func() error { return s.DeleteRoom(ctx, "r") },
		"PutInvite":  func() error { return s.PutInvite(ctx, store.Invite{Code: "zzzzzz", Room: "r", Expires: storetest.At}) },
		"Invite":     func() error { _, err := s.Invite(ctx, "abcdef"); return err },
		"RoomInvite": func() error { _, err := s.RoomInvite(ctx, "r"); return err },
	}
	for name, op := range ops {
		begin := time.Now()
		err := op()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s with the database down = %v, want ErrUnavailable", name, err)
		}
		if d := time.Since(begin); d > 2*cfg.OpTimeout {
			t.Errorf("%s took %v to fail", name, d)
		}
	}
	if up := metric(t, reg, "roomring_store_up", nil); up != 0 {
		t.Errorf("roomring_store_up = %v with the database down", up)
	}
	if n := metric(t, reg, "roomring_store_operations_total", map[string]string{"result": "unavailable"}); n < float64(len(ops)) {
		t.Errorf("unavailable operations counted: %v, want >= %d", n, len(ops))
	}

	srv.Start(t)
	retryUntilUp(t, func() error { return s.PutReaction(ctx, reaction("after", "❤️"), 0) })
	got := storetest.List(t, s, "talk", "")
	users := map[string]string{}
	for _, r := range got {
		users[r.UserID] = r.Reaction
	}
	if users["before"] != "👍" || users["after"] != "❤️" {
		t.Fatalf("after the outage: %+v", got)
	}
	if inv, err := s.Invite(ctx, "abcdef"); err != nil || inv.Room != "r" {
		t.Fatalf("invite after the outage: %+v, %v", inv, err)
	}
	if up := metric(t, reg, "roomring_store_up", nil); up != 1 {
		t.Errorf("roomring_store_up = %v after recovery", up)
	}
}

// retryUntilUp retries op, as a client would after server.unavailable,
// until it succeeds; every failure must be ErrUnavailable.
func retryUntilUp(t *testing.T, op func() error) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	backoff := time.NewTicker(20 * time.Millisecond) // client retry pacing
	defer backoff.Stop()
	for {
		err := op()
		if err == nil {
			return
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Fatalf("while the database comes back: %v, want ErrUnavailable", err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not recover: %v", err)
		}
		<-backoff.C
	}
}

// TestCrashUnderLoad crashes the database (immediate shutdown) while
// writers are busy and starts it again: failures are ErrUnavailable, no
// acknowledged write is lost, and the writers resume by themselves.
func TestCrashUnderLoad(t *testing.T) {
	srv := pgtest.Start(t)
	cfg := config(srv.DSN)
	cfg.OpTimeout = 2 * time.Second
	cfg.ConnectTimeout = time.Second
	s, _ := open(t, cfg)

	const writers = 8
	l := startCrashLoad(s, writers)
	defer l.stopWriters()

	l.waitFor(t, "writes before the crash", func() bool { return len(l.acked) >= 300 })
	srv.Kill(t)
	l.waitFor(t, "failures during the outage", func() bool { return l.failures+len(l.wrongErrs) >= writers })
	l.mu.Lock()
	before := len(l.acked)
	l.mu.Unlock()
	srv.Start(t)
	l.waitFor(t, "writes after the restart", func() bool { return len(l.acked) >= before+300 })
	l.stopWriters()

	if len(l.wrongErrs) > 0 {
		t.Fatalf("%d failures were not ErrUnavailable, e.g. %v", len(l.wrongErrs), l.wrongErrs[0])
	}
	stored := map[store.ReactionKey]string{}
	for i := range 3 {
		for _, r := range storetest.List(t, s, fmt.Sprint("res", i), "") {
			stored[r.ReactionKey] = r.Reaction
		}
	}
	lost := 0
	for k, v := range l.acked {
		if stored[k] != v {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged %v=%s: stored %q", k, v, stored[k])
			}
		}
	}
	if lost > 0 {
		t.Fatalf("%d of %d acknowledged writes lost", lost, len(l.acked))
	}
	t.Logf("%d acknowledged writes (%d before the crash), %d failed with ErrUnavailable, %d stored", len(l.acked), before, l.failures, len(stored))
}

// crashLoad is TestCrashUnderLoad's writers and what they learned. mu
// guards the fields below it; cond, on mu, is broadcast at every write's
// outcome and at stop.
type crashLoad struct {
	s  *postgres.Store
	wg sync.WaitGroup

	mu        sync.Mutex
	cond      *sync.Cond
	acked     map[store.ReactionKey]string
	failures  int
	wrongErrs []error
	stop      bool
}

// startCrashLoad starts writers goroutines writing reactions to s.
func startCrashLoad(s *postgres.Store, writers int) *crashLoad {
	l := &crashLoad{s: s, acked: map[store.ReactionKey]string{}}
	l.cond = sync.NewCond(&l.mu)
	for w := range writers {
		l.wg.Go(func() { l.write(w) })
	}
	return l
}

// write is writer w: a new reaction of its own after another to one of
// three resources, until stopped, pacing itself after a failure.
func (l *crashLoad) write(w int) {
	backoff := time.NewTicker(5 * time.Millisecond) // client retry pacing after a failure
	defer backoff.Stop()
	for i := 0; ; i++ {
		l.mu.Lock()
		done := l.stop
		l.mu.Unlock()
		if done {
			return
		}
		r := store.ResourceReaction{ReactionKey: store.ReactionKey{Resource: fmt.Sprint("res", w%3), UserID: fmt.Sprintf("w%d-%06d", w, i)},
			Reaction: fmt.Sprint(i), Updated: storetest.At}
		err := l.s.PutReaction(ctx, r, 0)
		l.mu.Lock()
		switch {
		case err == nil:
			l.acked[r.ReactionKey] = r.Reaction
		case errors.Is(err, store.ErrUnavailable):
			l.failures++
		default:
			l.wrongErrs = append(l.wrongErrs, err)
		}
		l.cond.Broadcast()
		l.mu.Unlock()
		if err != nil {
			<-backoff.C
		}
	}
}

// waitFor waits, with mu held, until ok holds; after 60 s it stops the
// writers and fails the test.
func (l *crashLoad) waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	timer := time.AfterFunc(60*time.Second, func() { l.mu.Lock(); l.stop = true; l.cond.Broadcast(); l.mu.Unlock() })
	defer timer.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	for !ok() {
		if l.stop {
			t.Fatalf("timed out waiting for %s (%d acknowledged, %d failed)", what, len(l.acked), l.failures)
		}
		l.cond.Wait()
	}
}

// stopWriters stops the writers and waits for them to return.
func (l *crashLoad) stopWriters() {
	l.mu.Lock()
	l.stop = true
	l.mu.Unlock()
	l.wg.Wait()
}
