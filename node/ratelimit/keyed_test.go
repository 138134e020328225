package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestTakeRefills(t *testing.T) {
	k := NewKeyed[string](2, 3, 0) // 2 a second, 3 at most
	for i := range 3 {
		if !k.Take("a", t0) {
			t.Fatalf("take %d of the burst refused", i)
		}
	}
	if k.Take("a", t0) || k.Peek("a", t0) {
		t.Fatal("a token past the burst")
	}
	if !k.Take("b", t0) {
		t.Fatal("another key shares a's bucket")
	}
	if !k.Peek("a", t0.Add(500*time.Millisecond)) || !k.Take("a", t0.Add(500*time.Millisecond)) {
		t.Fatal("no token after half a second at 2 a second")
	}
	if k.Take("a", t0.Add(500*time.Millisecond)) {
		t.Fatal("two tokens from half a second")
	}
}

func TestChargeFloorsAtZero(t *testing.T) {
	k := NewKeyed[string](1, 1, 0)
	k.Charge("a", t0)
	k.Charge("a", t0) // nothing left: stays at 0, not below
	if !k.Peek("a", t0.Add(time.Second)) {
		t.Fatal("a bucket charged past empty needs more than its refill")
	}
}

func TestMaxKeys(t *testing.T) {
	k := NewKeyed[string](1, 1, 2)
	k.Charge("a", t0)
	k.Charge("b", t0)
	if k.Peek("c", t0) || k.Take("c", t0) {
		t.Fatal("a third key admitted while two buckets refill")
	}
	k.Charge("c", t0)
	if k.Len() != 2 {
		t.Fatalf("%d keys held, want at most 2", k.Len())
	}
	if !k.Take("c", t0.Add(time.Second)) {
		t.Fatal("a new key refused once the others refilled")
	}
}

func TestTableIsBoundedByRefillingKeys(t *testing.T) {
	k := NewKeyed[string](10, 10, 0) // refills in 1 s
	now := t0
	for i := range 10 * MinPrune {
		now = now.Add(10 * time.Millisecond)
		k.Take(fmt.Sprint("u", i), now)
	}
	if n := k.Len(); n > 2*MinPrune {
		t.Fatalf("%d buckets held, want at most %d", n, 2*MinPrune)
	}
}
