package ring

import (
	"fmt"
	"testing"
)

func keys(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("room-%d", i)
	}
	return out
}

func mustNew(t *testing.T, members ...string) *Ring {
	t.Helper()
	r, err := New(DefaultConfig(), members)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestOwnerIsDeterministicAndOrderIndependent(t *testing.T) {
	a := mustNew(t, "node-a", "node-b", "node-c")
	b := mustNew(t, "node-c", "node-a", "node-b", "node-a")
	for _, k := range keys(2000) {
		if a.Owner(k) != b.Owner(k) {
			t.Fatalf("owner of %s differs: %s vs %s", k, a.Owner(k), b.Owner(k))
		}
	}
	if !a.Equal(b) {
		t.Fatal("rings over the same set are not Equal")
	}
}

func TestEveryMemberOwnsAShare(t *testing.T) {
	r := mustNew(t, "node-a", "node-b", "node-c")
	count := map[string]int{}
	ks := keys(3000)
	for _, k := range ks {
		o := r.Owner(k)
		if !r.Has(o) {
			t.Fatalf("owner %q of %s is not a member", o, k)
		}
		count[o]++
	}
	// Bounded loads: nobody holds more than 1.25× the average share of
	// slots; keys follow slots, so allow some slack on top.
	for m, n := range count {
		if n < len(ks)/6 || n > len(ks)/2 {
			t.Errorf("%s owns %d of %d keys: %v", m, n, len(ks), count)
		}
	}
	if len(count) != 3 {
		t.Fatalf("owners %v, want all three members", count)
	}
}

func TestAddingAMemberMovesOnlyItsShare(t *testing.T) {
	before := mustNew(t, "node-a", "node-b", "node-c")
	after := mustNew(t, "node-a", "node-b", "node-c", "node-d")
	moved, toNew := 0, 0
	ks := keys(4000)
	for _, k := range ks {
		if o := after.Owner(k); o != before.Owner(k) {
			moved++
			if o == "node-d" {
				toNew++
			}
		}
	}
	// Ideal: a quarter of the keys move, all of them to the new member.
	// Bounded loads shuffle a little more; half would mean no consistency.
	if moved > len(ks)/2 {
		t.Fatalf("%d of %d keys moved", moved, len(ks))
	}
	if toNew < len(ks)/8 {
		t.Fatalf("only %d keys moved to the new member", toNew)
	}
}

func TestPrefixNamesDoNotCollide(t *testing.T) {
	// "n-1" + "12" and "n-11" + "2" are the same string; the ring must
	// still give both members their own points.
	r := mustNew(t, "n-1", "n-11")
	count := map[string]int{}
	for _, k := range keys(1000) {
		count[r.Owner(k)]++
	}
	if count["n-1"] == 0 || count["n-11"] == 0 {
		t.Fatalf("owners %v: a member got no keys", count)
	}
}

func TestEmptyAndInvalid(t *testing.T) {
	if o := mustNew(t).Owner("x"); o != "" {
		t.Fatalf("empty ring owner = %q", o)
	}
	if _, err := New(DefaultConfig(), []string{"bad name"}); err == nil {
		t.Fatal("invalid name accepted")
	}
	cfg := DefaultConfig()
	cfg.Partitions = 4
	if _, err := New(cfg, []string{"a", "b", "c"}); err == nil {
		t.Fatal("more members than the partitions can place accepted")
	}
	cfg = DefaultConfig()
	cfg.Load = 1
	if err := cfg.Validate(); err == nil {
		t.Fatal("load 1 accepted")
	}
}
