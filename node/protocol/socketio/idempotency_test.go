package socketio

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestReplays(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdempotencyEntries = 2
	cfg.IdempotencyTTL = time.Minute
	r := NewReplays(cfg)
	now := time.Unix(1000, 0)
	r.now = func() time.Time { return now }
	stop := make(chan struct{})

	ack, tk := r.Claim("u", "a", stop)
	if ack != nil || tk == nil {
		t.Fatal("first claim must run")
	}
	tk.Finish([]byte("A"), true)
	if ack, tk := r.Claim("u", "a", stop); string(ack) != "A" || tk != nil {
		t.Fatalf("replay = %q, %v", ack, tk)
	}

	// Transient failures are not remembered.
	_, tk = r.Claim("u", "b", stop)
	tk.Finish([]byte("B-fail"), false)
	if _, tk := r.Claim("u", "b", stop); tk == nil {
		t.Fatal("forgotten key must run again")
	} else {
		tk.Finish([]byte("B"), true)
	}

	// LRU: touching a keeps it; c evicts b.
	r.Claim("u", "a", stop)
	_, tk = r.Claim("u", "c", stop)
	tk.Finish([]byte("C"), true)
	if r.Len() != 2 {
		t.Fatalf("len %d, want 2", r.Len())
	}
	if ack, _ := r.Claim("u", "a", stop); string(ack) != "A" {
		t.Fatalf("a evicted (%q), want b evicted", ack)
	}
	if _, tk := r.Claim("u", "b", stop); tk == nil {
		t.Fatal("b should have been evicted")
	} else {
		tk.Finish([]byte("B2"), true)
	}

	// TTL.
	now = now.Add(2 * time.Minute)
	if _, tk := r.Claim("u", "b", stop); tk == nil {
		t.Fatal("expired key must run again")
	}
}

func TestReplaysWaitForInFlight(t *testing.T) {
	r := NewReplays(DefaultConfig())
	stop := make(chan struct{})
	_, first := r.Claim("u", "k", stop)
	var runs atomic.Int32
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, tk := r.Claim("u", "k", stop)
			if tk != nil {
				runs.Add(1)
				tk.Finish([]byte("other"), true)
				return
			}
			got[i] = string(ack)
		}()
	}
	first.Finish([]byte("first"), true)
	wg.Wait()
	if runs.Load() != 0 {
		t.Fatalf("%d duplicates ran", runs.Load())
	}
	for _, g := range got {
		if g != "first" {
			t.Fatalf("waiter got %q", g)
		}
	}

	// A waiter gives up when its connection closes.
	_, held := r.Claim("u", "slow", stop)
	closed := make(chan struct{})
	close(closed)
	if ack, tk := r.Claim("u", "slow", closed); ack != nil || tk != nil {
		t.Fatal("waiter on a closing connection must get nothing")
	}
	held.Finish([]byte("x"), true)
}

// TestReplaysBoundedPerUser: one user's many large replies stay within the
// user's byte budget and the node's, and evict only that user's entries:
// another user's replay survives.
func TestReplaysBoundedPerUser(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdempotencyUserBytes = 64 << 10
	cfg.IdempotencyBytes = 256 << 10
	r := NewReplays(cfg)
	stop := make(chan struct{})
	_, tk := r.Claim("canary", "canary/evt-1", stop)
	tk.Finish([]byte("canary-ack"), true)

	big := make([]byte, 98<<10) // a getReactions-sized ack: over the user budget alone
	mid := make([]byte, 10<<10)
	for i := range 2000 {
		_, tk := r.Claim("hostile", "hostile/"+strconv.Itoa(i), stop)
		if tk == nil {
			t.Fatalf("claim %d was not a fresh key", i)
		}
		if i%2 == 0 {
			tk.Finish(big, true)
		} else {
			tk.Finish(mid, true)
		}
		total, hostile := r.Bytes("hostile")
		if hostile > cfg.IdempotencyUserBytes || total > cfg.IdempotencyBytes {
			t.Fatalf("after %d replies: hostile %d bytes (budget %d), node %d (budget %d)",
				i+1, hostile, cfg.IdempotencyUserBytes, total, cfg.IdempotencyBytes)
		}
	}
	if ack, tk := r.Claim("canary", "canary/evt-1", stop); string(ack) != "canary-ack" || tk != nil {
		t.Fatalf("canary's replay = %q, %v: evicted by another user", ack, tk)
	}
	// The latest mid-sized reply fits the budget and is replayed.
	if ack, _ := r.Claim("hostile", "hostile/1999", stop); len(ack) != len(mid) {
		t.Fatalf("latest hostile reply not remembered (%d bytes)", len(ack))
	}
}

// TestReplaysNodeBoundNotDrivenByOthers: when the node's budget is full, a
// newcomer's reply is not remembered rather than evicting someone else's.
func TestReplaysNodeBoundNotDrivenByOthers(t *testing.T) {
	cfg := DefaultConfig()
	cfg.IdempotencyUserBytes = 8 << 10
	cfg.IdempotencyBytes = 16 << 10
	r := NewReplays(cfg)
	stop := make(chan struct{})
	ack := make([]byte, 7<<10)
	for _, u := range []string{"a", "b", "c"} {
		_, tk := r.Claim(u, u+"/1", stop)
		tk.Finish(ack, true)
	}
	for _, u := range []string{"a", "b"} {
		if got, _ := r.Claim(u, u+"/1", stop); len(got) != len(ack) {
			t.Fatalf("%s's replay evicted by c", u)
		}
	}
	if got, tk := r.Claim("c", "c/1", stop); got != nil || tk == nil {
		t.Fatal("c's reply should not have been remembered on a full node")
	}
}
