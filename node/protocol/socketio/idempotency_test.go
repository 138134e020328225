package socketio

import (
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

	ack, tk := r.Claim("a", stop)
	if ack != nil || tk == nil {
		t.Fatal("first claim must run")
	}
	tk.Finish([]byte("A"), true)
	if ack, tk := r.Claim("a", stop); string(ack) != "A" || tk != nil {
		t.Fatalf("replay = %q, %v", ack, tk)
	}

	// Transient failures are not remembered.
	_, tk = r.Claim("b", stop)
	tk.Finish([]byte("B-fail"), false)
	if _, tk := r.Claim("b", stop); tk == nil {
		t.Fatal("forgotten key must run again")
	} else {
		tk.Finish([]byte("B"), true)
	}

	// LRU: touching a keeps it; c evicts b.
	r.Claim("a", stop)
	_, tk = r.Claim("c", stop)
	tk.Finish([]byte("C"), true)
	if r.Len() != 2 {
		t.Fatalf("len %d, want 2", r.Len())
	}
	if ack, _ := r.Claim("a", stop); string(ack) != "A" {
		t.Fatalf("a evicted (%q), want b evicted", ack)
	}
	if _, tk := r.Claim("b", stop); tk == nil {
		t.Fatal("b should have been evicted")
	} else {
		tk.Finish([]byte("B2"), true)
	}

	// TTL.
	now = now.Add(2 * time.Minute)
	if _, tk := r.Claim("b", stop); tk == nil {
		t.Fatal("expired key must run again")
	}
}

func TestReplaysWaitForInFlight(t *testing.T) {
	r := NewReplays(DefaultConfig())
	stop := make(chan struct{})
	_, first := r.Claim("k", stop)
	var runs atomic.Int32
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ack, tk := r.Claim("k", stop)
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
	_, held := r.Claim("slow", stop)
	closed := make(chan struct{})
	close(closed)
	if ack, tk := r.Claim("slow", closed); ack != nil || tk != nil {
		t.Fatal("waiter on a closing connection must get nothing")
	}
	held.Finish([]byte("x"), true)
}
