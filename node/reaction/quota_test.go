package reaction

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/roomring/roomring/node/op"
)

func TestQuotaPerUserAndPerRoom(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.MaxPerUser, cfg.MaxTargets = 3, 5
	o, _ := newLedger(t, cfg)
	eve, amy := op.User{ID: "eve"}, op.User{ID: "amy"}
	set := func(u op.User, room, res string) error {
		return o.Set(ctx, Target{Room: room, Resource: res}, u, "👍")
	}
	for i := range 3 {
		if err := set(eve, "r", fmt.Sprint("res-", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := set(eve, "r", "res-3"); code(err) != op.CodeQuotaExceeded {
		t.Fatalf("4th reaction of one user = %v, want %s", err, op.CodeQuotaExceeded)
	}
	// Replacing is not adding; another room has its own quota; a delete frees one.
	if err := o.Set(ctx, Target{Room: "r", Resource: "res-0"}, eve, "❤️"); err != nil {
		t.Fatalf("replace at the quota: %v", err)
	}
	if err := set(eve, "other", "res-3"); err != nil {
		t.Fatalf("another room: %v", err)
	}
	if err := o.Delete(ctx, Target{Room: "r", Resource: "res-2"}, eve); err != nil {
		t.Fatal(err)
	}
	if err := set(eve, "r", "res-4"); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	// Targets: eve's 3 + amy's 2 new ones fill the room's 5; amy may still
	// react to an existing one, not to a sixth.
	for _, res := range []string{"a-1", "a-2"} {
		if err := set(amy, "r", res); err != nil {
			t.Fatal(err)
		}
	}
	if err := set(amy, "r", "a-3"); code(err) != op.CodeQuotaExceeded {
		t.Fatalf("6th target = %v, want %s", err, op.CodeQuotaExceeded)
	}
	if err := set(amy, "r", "res-0"); err != nil {
		t.Fatalf("an existing target: %v", err)
	}
}

func TestWriteRatePerUser(t *testing.T) {
	ctx := context.Background()
	cfg := DefaultConfig()
	cfg.WriteRate, cfg.WriteBurst = 1, 3
	o, _ := newLedger(t, cfg)
	clock := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	o.now = func() time.Time { return clock } // frozen: no refill
	eve, amy := op.User{ID: "eve"}, op.User{ID: "amy"}
	tgt := Target{Room: "r", Resource: "x"}
	for range 3 {
		if err := o.Set(ctx, tgt, eve, "👍"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.Set(ctx, tgt, eve, "👍"); code(err) != op.CodeRateLimited {
		t.Fatalf("set over the burst = %v, want %s", err, op.CodeRateLimited)
	}
	if err := o.Delete(ctx, tgt, eve); code(err) != op.CodeRateLimited {
		t.Fatalf("delete over the burst = %v, want %s", err, op.CodeRateLimited)
	}
	if err := o.Set(ctx, tgt, amy, "👍"); err != nil {
		t.Fatalf("another user is not limited: %v", err)
	}
	clock = clock.Add(time.Second)
	if err := o.Set(ctx, tgt, eve, "👍"); err != nil {
		t.Fatalf("after a second's refill: %v", err)
	}
}

func TestWriteLimiterIsBounded(t *testing.T) {
	cfg := DefaultConfig()
	cfg.WriteRate, cfg.WriteBurst = 10, 10
	l := newWriteLimiter(cfg)
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10 * minPrune {
		now = now.Add(10 * time.Millisecond) // one new user every 10 ms; a bucket refills in 1 s
		l.allow(fmt.Sprint("u", i), now)
	}
	if n := l.size(); n > 2*minPrune {
		t.Fatalf("limiter holds %d buckets, want at most %d", n, 2*minPrune)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, mut := range []func(*Config){
		func(c *Config) { c.MaxPerUser = 0 },
		func(c *Config) { c.MaxTargets = 0 },
		func(c *Config) { c.WriteRate = 0 },
		func(c *Config) { c.WriteBurst = 0 },
	} {
		c := DefaultConfig()
		mut(&c)
		if c.Validate() == nil {
			t.Errorf("%+v validated", c)
		}
	}
}
