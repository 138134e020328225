package controllers

import (
	"slices"
	"testing"
	"time"
)

// The claims' bookkeeping: a held claim not renewed for its duration stops
// counting (the operator fences itself off while its renewals fail), and
// the pool watcher prunes only when every claim is decided.
func TestNamespaceClaimsStaleAndDecided(t *testing.T) {
	now := time.Unix(1000, 0)
	c := NewNamespaceClaims([]string{"a", "b"}, 15*time.Second)
	c.now = func() time.Time { return now }

	if c.Held("a") {
		t.Fatal("an undecided namespace counts as held")
	}
	if _, decided := c.HeldAll([]string{"a", "b"}); decided {
		t.Fatal("undecided claims count as decided")
	}
	c.set("a", true, "")
	c.set("b", false, "other/roomring")
	held, decided := c.HeldAll([]string{"a", "b"})
	if !decided || !slices.Equal(held, []string{"a"}) || !c.Held("a") || c.Held("b") {
		t.Fatalf("HeldAll = %v, %v; Held(a) %v, Held(b) %v", held, decided, c.Held("a"), c.Held("b"))
	}
	if err := c.ReadyCheck("b")(nil); err == nil || c.ReadyCheck("a")(nil) != nil {
		t.Fatalf("ready checks: a %v, b %v", c.ReadyCheck("a")(nil), err)
	}

	now = now.Add(15 * time.Second) // a's renewals failed for the whole duration
	if c.Held("a") {
		t.Fatal("a claim unrenewed for its duration still counts as held")
	}
	if _, decided := c.HeldAll([]string{"a", "b"}); decided {
		t.Fatal("a stale claim counts as decided")
	}
	if changed := c.set("a", true, ""); !changed || !c.Held("a") {
		t.Fatalf("renewal after a stale claim: changed %v (the skipped Rooms need a requeue), held %v", changed, c.Held("a"))
	}
	now = now.Add(5 * time.Second)
	if changed := c.set("a", true, ""); changed || !c.Held("a") {
		t.Fatalf("timely renewal: changed %v, held %v", changed, c.Held("a"))
	}

	var nilClaims *NamespaceClaims
	if held, decided := nilClaims.HeldAll([]string{"x"}); !nilClaims.Held("x") || !decided || !slices.Equal(held, []string{"x"}) {
		t.Fatal("no claims (an operator of every namespace) must hold everything")
	}
}
