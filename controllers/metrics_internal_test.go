package controllers

import (
	"strings"
	"testing"
	"time"
)

func TestPoolHealthReachedWithin(t *testing.T) {
	h := NewPoolHealth()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	check := func(now time.Time, want string) {
		t.Helper()
		err := h.ReachedWithin(10*time.Second, now)
		switch {
		case want == "" && err != nil:
			t.Errorf("at %s: %v, want ready", now.Sub(t0), err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("at %s: %v, want %q", now.Sub(t0), err, want)
		}
	}
	check(t0, "not been polled")
	h.record(false, 0, t0)
	check(t0, "no node of the pool has answered yet")
	h.record(true, 3, t0)
	check(t0.Add(10*time.Second), "")
	// A failed poll keeps the last answer's time: ready until the window
	// has passed.
	h.record(false, 0, t0.Add(5*time.Second))
	check(t0.Add(10*time.Second), "")
	check(t0.Add(11*time.Second), "has answered for 11s")
}
